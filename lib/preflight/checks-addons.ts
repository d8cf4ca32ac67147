/**
 * validate's check of every add-on definition found (the built-ins, and the user's folder as
 * userAddonsDir resolves it): what the loader finds (schema, its own rules), then what only the render
 * and the settings know: the Secret and ConfigMap keys a definition refers to, and local ports the
 * settings move the platform to.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import type { Seg } from '../addon-def-problems.ts';
import { ADDON_CATALOG } from '../addon-catalog.ts';
import type { AddonDefinition, DefinitionProblem, KeyRef } from '../addon-defs.ts';
import { type Check, type CheckOutcome, fail, pass, warn, worst } from '../checks.ts';
import { APP, APPS, DATABASES } from '../components.ts';
import type { Settings } from '../env.ts';
import type { KubeObject } from '../kubectl.ts';
import { npmRun } from '../suggest.ts';
import { getPath } from '../values.ts';
import type { PreflightContext } from './context.ts';

type Kind = 'Secret' | 'ConfigMap';

/** One reference of a definition to a key of a Secret or ConfigMap, and the node that holds it. */
interface Ref {
  at: Seg[];
  what: string;
  kind: Kind;
  ref: KeyRef;
}

function refsOf(def: AddonDefinition): Ref[] {
  const out: Ref[] = [];
  for (const [i, e] of (def.env ?? []).entries()) {
    if ('secret' in e)
      out.push({ at: ['env', i, 'secret'], what: `env ${e.name}`, kind: 'Secret', ref: e.secret });
    if ('configMap' in e)
      out.push({ at: ['env', i, 'configMap'], what: `env ${e.name}`, kind: 'ConfigMap', ref: e.configMap });
  }
  for (const [i, f] of (def.files ?? []).entries()) {
    if ('secret' in f)
      out.push({ at: ['files', i, 'secret'], what: `file ${f.path}`, kind: 'Secret', ref: f.secret });
    if ('configMap' in f)
      out.push({
        at: ['files', i, 'configMap'],
        what: `file ${f.path}`,
        kind: 'ConfigMap',
        ref: f.configMap,
      });
  }
  return out;
}

/** The keys of every Secret and ConfigMap of a render, by `Kind/name`. */
export function renderedKeys(objects: readonly KubeObject[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const o of objects) {
    const fields =
      o.kind === 'Secret' ? ['data', 'stringData'] : o.kind === 'ConfigMap' ? ['data', 'binaryData'] : [];
    if (fields.length === 0) continue;
    const keys = fields.flatMap((f) =>
      Object.keys(((o as unknown as Record<string, unknown>)[f] ?? {}) as object),
    );
    out.set(`${o.kind}/${o.metadata.name}`, [...(out.get(`${o.kind}/${o.metadata.name}`) ?? []), ...keys]);
  }
  return out;
}

/**
 * Whether a name belongs to the chart: one of its objects or components, or such a name with a suffix
 * (`pgadmin-servers`, `<add-on>-files`). Only a name outside all of them is clearly someone else's.
 */
function chartOwned(name: string, objects: readonly KubeObject[], defs: readonly AddonDefinition[]): boolean {
  const names = new Set<string>([
    ...objects.map((o) => o.metadata.name),
    ...APPS.map((a) => a.name),
    ...Object.values(DATABASES).flatMap((d) => [d.statefulSet, d.secret]),
    ...ADDON_CATALOG.flatMap((a) => [a.name, a.service, a.deployment]),
    ...defs.map((d) => d.name),
  ]);
  return [...names].some((n) => name === n || name.startsWith(`${n}-`));
}

/** Why a database's Secret is not rendered: the values name a Secret of the user's instead. */
function existingSecretNote(name: string, ctx: PreflightContext): string | undefined {
  const db = Object.values(DATABASES).find((d) => d.secret === name);
  if (!db) return undefined;
  const existing = getPath(ctx.chartValues, `${db.valuesKey}.existingSecret`);
  if (typeof existing !== 'string' || existing === '') return undefined;
  const key = getPath(ctx.chartValues, `${db.valuesKey}.existingSecretKey`);
  return `${db.valuesKey}.existingSecret is set: the password is in Secret ${existing}${typeof key === 'string' ? `, key ${key}` : ''}`;
}

const LOCAL = new Set(['localhost', '127.0.0.1', '[::1]']);
const localPortOf = (u: URL) => Number(u.port) || (u.protocol === 'https:' ? 443 : 80);

/**
 * Local ports the settings move the platform to in port-forward mode (the defaults are the loader's
 * business): the SSO's from BETTER_AUTH_URL, the dashboard's from the first other local origin of
 * ALLOWED_ORIGINS when none is on its default port.
 */
export function settingsLocalPorts(settings: Pick<Settings, 'access' | 'sso'>): Map<number, string> {
  const out = new Map<number, string>();
  if (settings.access !== 'port-forward') return out;
  const sso = URL.canParse(settings.sso.authUrl) ? new URL(settings.sso.authUrl) : undefined;
  if (sso && LOCAL.has(sso.hostname) && localPortOf(sso) !== APP.sso.localPort)
    out.set(localPortOf(sso), `the SSO's local port (BETTER_AUTH_URL=${settings.sso.authUrl})`);
  const web = settings.sso.allowedOrigins
    .filter((o) => URL.canParse(o))
    .map((o) => new URL(o))
    .filter((u) => LOCAL.has(u.hostname) && u.origin !== sso?.origin)
    .map(localPortOf);
  const first = web[0];
  if (first !== undefined && !web.includes(APP.web.localPort))
    out.set(first, `the web dashboard's local port (ALLOWED_ORIGINS lists http://localhost:${first})`);
  return out;
}

const FIX_HINT = 'fix each line named above (the keys and their rules: charts/taskflow/addon.schema.json)';

/** The findings of the render and the settings about definitions the loader accepted. */
function renderFindings(
  defs: readonly AddonDefinition[],
  ctx: PreflightContext,
  objects: readonly KubeObject[] | undefined,
  line: (p: DefinitionProblem) => string,
  positionOf: (def: AddonDefinition, segs: Seg[]) => { line: number; column: number },
  chartOwn: ReadonlySet<AddonDefinition> = new Set(),
): CheckOutcome[] {
  const out: CheckOutcome[] = [];
  const keys = objects ? renderedKeys(objects) : new Map<string, string[]>();
  const ports = settingsLocalPorts(ctx.env.settings);
  const ns = ctx.target.namespace;
  for (const def of defs) {
    const at = (segs: Seg[], message: string) => line({ file: def.file, ...positionOf(def, segs), message });
    // The chart's own add-ons refer to what their hooks render when they are on (pgAdmin's Secret).
    for (const r of objects && !chartOwn.has(def) ? refsOf(def) : []) {
      const { name, key } = r.ref;
      const have = keys.get(`${r.kind}/${name}`);
      if (have?.includes(key)) continue;
      if (have) {
        out.push(
          fail(
            at(
              [...r.at, 'key'],
              `${r.what}: ${r.kind} ${name} has no key ${key} (its keys: ${have.join(', ') || 'none'})`,
            ),
            `refer to a key the chart renders in ${r.kind} ${name}`,
          ),
        );
        continue;
      }
      if (objects && chartOwned(name, objects, defs)) {
        const other: Kind = r.kind === 'Secret' ? 'ConfigMap' : 'Secret';
        const also = keys.has(`${other}/${name}`) ? ` (it renders a ${other} of that name)` : '';
        out.push(
          fail(
            at(
              [...r.at, 'name'],
              `${r.what}: the chart renders no ${r.kind} ${name} with these settings${also}`,
            ),
            existingSecretNote(name, ctx) ??
              `refer to a ${r.kind} the chart renders (${npmRun('deploy', '--dry-run')} lists them), or to one of yours`,
          ),
        );
        continue;
      }
      out.push(
        warn(
          at([...r.at, 'name'], `${r.what}: ${r.kind} ${name} is not rendered by the chart`),
          `create ${r.kind} ${name} with key ${key} in namespace ${ns} before the add-on starts (it will not start without it)`,
        ),
      );
    }
    for (const [i, p] of def.ports.entries()) {
      const whose = p.forward === undefined ? undefined : ports.get(p.forward);
      if (whose)
        out.push(
          warn(
            at(['ports', i, 'forward'], `ports[${i}].forward ${p.forward} is ${whose}`),
            'pick another forward port in the definition',
          ),
        );
    }
  }
  return out;
}

const addonDefinitions: Check<PreflightContext> = {
  id: 'addons.definitions',
  title: 'Add-on definitions',
  run: async (ctx) => {
    // Loaded here, not at start-up: the schema compiles while helm renders (validate's one render).
    const { ADDONS_DIR_KEY, addonFolders, formatProblem, isChartAddon, loadAddonDefinitions, userAddonsDir } =
      await import('../addon-defs.ts');
    const { cwd } = ctx.opts;
    const userDir = userAddonsDir({ cwd, env: ctx.opts.env, envFile: ctx.env.file });
    const { defs, problems, positionOf } = loadAddonDefinitions(addonFolders({ cwd, addonsDir: userDir }));
    const render = await ctx.render();
    const line = (p: DefinitionProblem) => formatProblem(p, cwd);
    const out: CheckOutcome[] = problems.map((p) => fail(line(p), p.hint));
    // The default folder may be missing; one the settings name is a typo or a folder not made yet.
    if (userDir !== path.resolve(cwd, 'addons') && !isFolder(userDir))
      out.push(
        warn(
          `${ADDONS_DIR_KEY} names ${userDir}, which is not a folder: no definition of yours is read`,
          `create the folder or correct ${ADDONS_DIR_KEY} (environment or env file)`,
        ),
      );
    const chartOwn = new Set(defs.filter(isChartAddon));
    out.push(
      ...renderFindings(defs, ctx, render?.ok ? render.objects : undefined, line, positionOf, chartOwn),
    );
    const names = defs.map((d) => d.name).join(', ');
    const valid = `${defs.length} definition${defs.length === 1 ? '' : 's'} (${names}) ${defs.length === 1 ? 'is' : 'are'} valid`;
    const unchecked = render?.ok
      ? ''
      : `\ntheir Secret and ConfigMap references were not checked: ${render ? 'the chart did not render (see chart.render)' : 'helm is not available'}`;
    const result = worst(out, pass(`${valid}${unchecked}`));
    const failures = out.filter((o) => o.status === 'fail');
    if (result.status !== 'fail') return result;
    return { ...result, hint: (failures.length === 1 ? failures[0]?.hint : undefined) ?? FIX_HINT };
  },
};

function isFolder(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/** The add-on definitions: every one found, checked against the schema, the render and the settings. */
export const ADDON_CHECKS: readonly Check<PreflightContext>[] = [addonDefinitions];
