/**
 * The add-ons as a release holds them, and what follows from that for the commands that read it: which
 * add-ons a redeploy carries over (from the definition file, else the release's own stored copy), and
 * the one SMTP rule while Mailpit is on. Deploy, env-flow, validate and the addon command all read these,
 * so they agree.
 */
import { MAILPIT_SMTP } from './addon-catalog.ts';
import { type AddonDefinition, shownPath } from './addon-defs.ts';
import type { Settings } from './env.ts';
import { npmRun } from './suggest.ts';
import { type Values, atPath, deepMerge, getPath, isObject } from './values.ts';

/** The chart add-ons' switches an earlier deploy (--pgadmin) or `npm run addon` turned on: a redeploy keeps them. */
export const ADDON_SWITCHES = ['pgadmin.enabled', 'mailpit.enabled'];

/** Where the definition add-ons' values live (`addons.<name>`: the whole definition, and `enabled`). */
const DATA_ADDONS = 'addons';

/** The definition add-ons that are on in these release values, with the entry the release stored. */
export function addonsOnInRelease(values: Values | undefined): [string, Values][] {
  const data = getPath(values ?? {}, DATA_ADDONS);
  return Object.entries(isObject(data) ? data : {}).filter(
    (e): e is [string, Values] => isObject(e[1]) && e[1].enabled === true,
  );
}

/**
 * The add-on values of the installed release a plain redeploy keeps: the chart add-ons' switches, and
 * every definition add-on that is on, refreshed to its file's content when the file is found (else kept
 * as the release stored it).
 */
export function carriedAddonValues(previous: Values, definitions: Record<string, Values> = {}): Values {
  let out: Values = {};
  for (const p of ADDON_SWITCHES) {
    const v = getPath(previous, p);
    if (v !== undefined && v !== null) out = deepMerge(out, atPath(p, v));
  }
  for (const [name, entry] of addonsOnInRelease(previous)) {
    out = deepMerge(out, { [DATA_ADDONS]: { [name]: definitions[name] ?? entry } });
  }
  return out;
}

/**
 * An add-on on in the release, as a definition rebuilt from the copy the release stored (`addons.<name>`
 * holds the whole definition): enough to list it, name its Deployment and ports, and turn it off without
 * its file. `file` is empty: there is none.
 */
export function storedDefinition(name: string, entry: Values): AddonDefinition {
  const { enabled: _enabled, ...data } = entry;
  const text = (v: unknown, fallback: string): string => (typeof v === 'string' ? v : fallback);
  return {
    ...(data as Partial<AddonDefinition>),
    name,
    title: text(data.title, name),
    description: text(data.description, ''),
    image: text(data.image, ''),
    ports: Array.isArray(data.ports) ? (data.ports as AddonDefinition['ports']) : [],
    file: '',
    builtin: false,
  };
}

/** The add-ons on in the release that no definition found names, known from the release's stored copies. */
export function releaseOnlyDefinitions(
  values: Values | undefined,
  defs: readonly Pick<AddonDefinition, 'name'>[],
): AddonDefinition[] {
  return addonsOnInRelease(values)
    .filter(([name]) => !defs.some((d) => d.name === name))
    .map(([name, entry]) => storedDefinition(name, entry));
}

/**
 * What a deploy does with each add-on on in the release whose definition file was not found: it keeps it
 * as the release stored it, and says so (never dropped unseen, never kept unsaid). `definitions` are the
 * definitions found, by name; `dir` is the user's folder they were looked for in.
 */
export function addonCarryNotes(
  previous: Values | undefined,
  definitions: Record<string, Values>,
  dir: string,
): string[] {
  return releaseOnlyDefinitions(
    previous,
    Object.keys(definitions).map((name) => ({ name })),
  ).map(
    (d) =>
      `add-on ${d.name} is on in the release, but no ${d.name}.yaml was found (built-in, or in ${shownPath(dir)}): it is kept as the release stored it; restore the file to change it, or turn it off: ${npmRun('addon', d.name, '--remove')}`,
  );
}

/** Where the SSO sends its mail while Mailpit is on. */
export const MAILPIT_TARGET = `${MAILPIT_SMTP.host}:${MAILPIT_SMTP.port}`;

/**
 * The one SMTP rule: while the Mailpit add-on is on, the SSO sends its mail to Mailpit and the env file's
 * SMTP settings are set aside (kept, and applied again when Mailpit goes off). This is the line each
 * command tells the loser with, or undefined when the env file sets no SMTP_HOST.
 */
export function smtpSetAside(settings: Settings, envFile: string): string | undefined {
  const smtp = settings.sso.smtp;
  if (!smtp) return undefined;
  return `SMTP_HOST in ${shownPath(envFile)} (${smtp.host}:${smtp.port}) is ignored while the Mailpit add-on is on: the SSO sends its mail to Mailpit (${MAILPIT_TARGET}); it applies again after ${npmRun('addon', 'mailpit', '--remove')}`;
}

/** Whether Mailpit is on in these values (the release's, or what a deploy sends). */
export function mailpitOn(values: Values | undefined): boolean {
  return getPath(values ?? {}, 'mailpit.enabled') === true;
}

/** What the SSO gets once Mailpit is off (printed after `addon mailpit --remove`): the env file decides. */
export function mailpitOffNote(settings: Settings, envFile: string): string {
  const smtp = settings.sso.smtp;
  if (smtp)
    return `the SSO sends its mail to ${smtp.host}:${smtp.port} again (SMTP_HOST in ${shownPath(envFile)})`;
  return `no SMTP_HOST in ${shownPath(envFile)}: the SSO sends no mail, and e-mail verification is off so sign-in works`;
}
