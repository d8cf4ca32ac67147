import type { Settings } from '../env.ts';
import { stringify } from 'yaml';
import { redact } from '../redact.ts';
import type { ResolvedSecrets } from '../secret-resolution.ts';
import { settingsToValues } from '../settings-values.ts';
import { SECRET_MASK, Secret } from '../secrets.ts';
import { keptImageValues } from '../images.ts';

import { ADDON_SWITCHES, carriedAddonValues } from '../addon-release.ts';
import { type Values, deepMerge, isObject } from '../values.ts';

export type { Values } from '../values.ts';

/** Add-on switches an earlier deploy (--pgadmin) or `npm run addon` turned on: a plain redeploy keeps them. */
export const STICKY_SWITCHES = ADDON_SWITCHES;

/**
 * The values of the installed release a plain redeploy must keep: turned-on add-ons, and images built by
 * an earlier `--build` (recognised by their content tag; else a deploy without --build would roll the
 * pods back to the default images). Other earlier values are not carried over.
 */
export function stickyValues(
  previous: Values,
  opts: {
    keepImages: boolean;
    /** The definitions found now, by name: an add-on that is on is refreshed to its file's content. */
    definitions?: Record<string, Values>;
  },
): Values {
  const out: Values = carriedAddonValues(previous, opts.definitions);
  return opts.keepImages ? deepMerge(out, keptImageValues(previous)) : out;
}

export interface PlanInput {
  settings: Settings;
  secrets: ResolvedSecrets;
  /** User-supplied values of the installed release, if any. */
  previous?: Values;
  /** The add-ons asked for (`--addon`, `--pgadmin`): lib/addon-defs.ts addonSwitches. */
  addons?: Values;
  /** The definitions found, by name (definitionValuesByName): add-ons kept on are refreshed to them. */
  definitions?: Record<string, Values>;
  /** Values for freshly built images (repository, tag, pull policy). */
  images?: Values;
}

/** A deploy's add-ons: those asked for, every definition found, and the user's folder they were looked for in. */
export type AddonPlan = Pick<PlanInput, 'addons' | 'definitions'> & { dir?: string };

/**
 * The values deploy gives helm on stdin: the settings' values, over the sticky values of the
 * installed release, with the add-ons asked for and built image tags on top. Deterministic: the same input
 * renders the same manifests, so a redeploy with nothing changed restarts nothing.
 */
export function deployValues(input: PlanInput): Values {
  const keepImages = input.images === undefined && input.settings.imageTag === undefined;
  const sticky = input.previous
    ? stickyValues(input.previous, {
        keepImages,
        ...(input.definitions && { definitions: input.definitions }),
      })
    : {};
  let values = deepMerge(sticky, settingsToValues(input.settings, input.secrets));
  if (input.addons) values = deepMerge(values, input.addons);
  if (input.images) values = deepMerge(values, input.images);
  // Mailpit on with SMTP_HOST set is no conflict: the chart sends the SSO's mail to Mailpit while it is on
  // (the one SMTP rule, lib/addon-release.ts); the env file's SMTP stays in the values for when it is off.
  return values;
}

const SECRET_KEY = /(password|secret|apikey|api_key|token|pass)$/i;

/** Values with every secret masked (Secret leaves, secret-named keys, registered values), for printing a plan. */
export function maskedValues(values: Values): Values {
  const walk = (v: unknown, key: string): unknown => {
    if (v instanceof Secret) return SECRET_MASK;
    if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    if (Array.isArray(v)) return v.map((x) => walk(x, key));
    if (typeof v === 'string' && SECRET_KEY.test(key) && v !== '') return SECRET_MASK;
    return v;
  };
  return walk(values, '') as Values;
}

/** The masked values as YAML text. */
export function maskedValuesYaml(values: Values): string {
  return redact(stringify(maskedValues(values)));
}
