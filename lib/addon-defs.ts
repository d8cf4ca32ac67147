/**
 * Add-on definitions as data: one YAML file per dev-tool add-on (charts/taskflow/addons/ for the built-ins,
 * addons/ or --addons-dir for a user's), checked against charts/taskflow/addon.schema.json and the rules a
 * schema cannot express, and turned into the chart's `addons.<name>` values. Shared by the addon, deploy,
 * port-forward and validate commands.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { type Document, LineCounter, type Node, parseAllDocuments } from 'yaml';
import { type Found, type Seg, duplicateKeys, locate, schemaFindings } from './addon-def-problems.ts';
import { ADDON_CATALOG, type AddonInfo, CHART_ADDON_NAMES } from './addon-catalog.ts';
import { APP, APPS, DATABASES, type DbName } from './components.ts';
import type { EnvFile } from './envfile.ts';
import { MIGRATION_CRONJOBS } from './jobs.ts';
import { closest } from './did-you-mean.ts';
import { UsageError } from './errors.ts';
import { npmRun } from './suggest.ts';
import { atPath, deepMerge, getPath } from './values.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The schema every definition is checked against. */
export const ADDON_SCHEMA_PATH = path.join(REPO_ROOT, 'charts', 'taskflow', 'addon.schema.json');
/** The built-in definitions shipped with the chart. */
export const BUILTIN_ADDONS_DIR = path.join(REPO_ROOT, 'charts', 'taskflow', 'addons');

/** The facts a definition may use (env `fact:`, login `{fact ...}`), resolved to literals by TypeScript. */
export const FACTS = [
  'release',
  'namespace',
  'sso.url',
  'api.url',
  'mcp.url',
  'web.url',
  'sso.database.host',
  'sso.database.port',
  'sso.database.name',
  'sso.database.user',
  'api.database.host',
  'api.database.port',
  'api.database.name',
  'api.database.user',
] as const;
export type FactName = (typeof FACTS)[number];

export interface KeyRef {
  name: string;
  key: string;
}
export interface DefPort {
  name: string;
  port: number;
  /** The Service's port (default: port). */
  service?: number;
  forward?: number;
}
export type DefEnv = { name: string } & (
  { value: string } | { secret: KeyRef } | { configMap: KeyRef } | { fact: FactName }
);
export type DefFile = { path: string } & ({ content: string } | { secret: KeyRef } | { configMap: KeyRef });
export interface DefVolume {
  name: string;
  path: string;
  size?: string;
  persistent?: boolean;
}
export interface ResourceList {
  cpu?: string;
  memory?: string;
}
export interface DefSecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  fsGroup?: number;
  readOnlyRootFilesystem?: boolean;
  addCapabilities?: 'NET_BIND_SERVICE'[];
}

/** One add-on definition as its file says (name filled in from the file name), and where it came from. */
export interface AddonDefinition {
  name: string;
  title: string;
  description: string;
  image: string;
  ports: DefPort[];
  env?: DefEnv[];
  files?: DefFile[];
  volumes?: DefVolume[];
  resources?: { requests?: ResourceList; limits?: ResourceList };
  securityContext?: DefSecurityContext;
  serviceAccountToken?: boolean;
  command?: string[];
  args?: string[];
  readiness?: { path: string; port: string };
  liveness?: { path: string; port: string };
  startupSeconds?: number;
  databases?: DbName[];
  rolls?: string[];
  login?: string;
  /** The file it was read from (absolute). */
  file: string;
  /** Shipped with the chart (charts/taskflow/addons). */
  builtin: boolean;
}

/** Something wrong in a definition file, at the node that is wrong (line and column count from 1). */
export interface DefinitionProblem {
  file: string;
  line: number;
  column: number;
  message: string;
  hint?: string;
}

/** A file as messages show it: relative to cwd when inside it, else absolute. */
export function shownPath(file: string, cwd: string = process.cwd()): string {
  const rel = path.relative(cwd, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

/** `addons/foo.yaml:7:5: ports[0].port must be <= 65535` (the file relative to cwd when inside it). */
export function formatProblem(p: DefinitionProblem, cwd: string = process.cwd()): string {
  return `${shownPath(p.file, cwd)}:${p.line}:${p.column}: ${p.message}`;
}

/** The setting naming the user's add-on folder (env file or environment; `--addons-dir` wins). */
export const ADDONS_DIR_KEY = 'TASKFLOW_ADDONS_DIR';

/**
 * The user's add-on folder, absolute: `--addons-dir`, else TASKFLOW_ADDONS_DIR from the environment, else
 * from the env file, else `addons/` of cwd. Relative paths count from cwd.
 */
export function userAddonsDir(opts: {
  cwd: string;
  /** `--addons-dir` */
  flag?: string;
  env?: NodeJS.ProcessEnv;
  envFile?: Pick<EnvFile, 'entries'>;
}): string {
  const entry = opts.envFile?.entries.get(ADDONS_DIR_KEY)?.value;
  const fromFile = typeof entry === 'string' ? entry : entry?.reveal();
  const dir = [opts.flag, opts.env?.[ADDONS_DIR_KEY], fromFile]
    .map((d) => d?.trim())
    .find((d) => d !== undefined && d !== '');
  return path.resolve(opts.cwd, dir ?? 'addons');
}

/** The folders definitions are read from, in order: the built-ins, then `--addons-dir` or `<cwd>/addons`. */
export function addonFolders(opts: { cwd: string; addonsDir?: string }): string[] {
  return [BUILTIN_ADDONS_DIR, path.resolve(opts.cwd, opts.addonsDir ?? 'addons')];
}

/**
 * One of the chart's own add-ons (pgadmin, mailpit): a built-in definition switched by its own values
 * section (`<name>.enabled`) rather than `addons.<name>`; lib/addon-catalog.ts describes it to the commands.
 */
export function isChartAddon(def: Pick<AddonDefinition, 'name' | 'builtin'>): boolean {
  return def.builtin && CHART_ADDON_NAMES.includes(def.name);
}

/**
 * Every definition a command can use: the built-ins, then the user's folder as userAddonsDir resolves it
 * (returned as `dir`), loaded once.
 */
export function findAddonDefinitions(
  opts: Parameters<typeof userAddonsDir>[0],
): ReturnType<typeof loadAddonDefinitions> & { dir: string } {
  const dir = userAddonsDir(opts);
  return { dir, ...loadAddonDefinitions(addonFolders({ cwd: opts.cwd, addonsDir: dir })) };
}

/**
 * A definition as the commands meet it in a release: values key `addons.<name>`, Service and Deployment
 * `<name>`, its forwarded ports, the Deployments it rolls, and the volume claims `--remove` asks about.
 */
export function definitionInfo(def: AddonDefinition): AddonInfo {
  const claims = (def.volumes ?? []).filter((v) => v.persistent).map((v) => `${def.name}-${v.name}`);
  return {
    name: def.name,
    title: def.title,
    valuesKey: `addons.${def.name}`,
    service: def.name,
    deployment: def.name,
    ports: def.ports.flatMap((p) =>
      p.forward === undefined ? [] : [{ name: p.name, remote: p.service ?? p.port, local: p.forward }],
    ),
    alsoRolls: [...(def.rolls ?? [])],
    removeNote:
      claims.length === 0
        ? 'it keeps no data'
        : `its volume claim ${claims.join(', ')} is kept unless you delete it`,
    losesData: false,
    ...(claims.length > 0 && { claims }),
  };
}

/** Where a fact's value depends on the release rather than the chart's fixed names. */
export interface FactPlace {
  release?: string;
  namespace?: string;
  /** The release's computed values: a database's host, port, name and user as the chart has them. */
  values?: Record<string, unknown>;
}

/**
 * A fact's literal value, as the chart resolves it for the container (templates/_addons.tpl): the
 * service URLs of lib/components.ts, a database as the release's values set it (an external host
 * included), else the chart's defaults; release and namespace from `place`.
 */
export function factValue(fact: FactName, place: FactPlace = {}): string | undefined {
  const url = (a: (typeof APPS)[number], p = '') => `http://${a.name}:${a.port}${p}`;
  switch (fact) {
    case 'release':
      return place.release;
    case 'namespace':
      return place.namespace;
    case 'sso.url':
      return url(APP.sso);
    case 'api.url':
      return url(APP.api);
    case 'mcp.url':
      return url(APP.mcp, '/mcp');
    case 'web.url':
      return url(APP.web);
  }
  const [db, , field] = fact.split('.') as [DbName, 'database', 'host' | 'port' | 'name' | 'user'];
  const info = DATABASES[db];
  const given = getPath(place.values ?? {}, `${info.valuesKey}.${field}`);
  if ((typeof given === 'string' && given !== '') || typeof given === 'number') return String(given);
  return { host: info.statefulSet, port: '5432', name: info.database, user: info.user }[field];
}

/**
 * The chart values `addons.<name>` of a definition: the definition itself (the chart applies the defaults
 * and resolves the facts from the release's own values), on.
 */
export function definitionValues(def: AddonDefinition): Record<string, unknown> {
  const { name: _name, file: _file, builtin: _builtin, ...data } = def;
  return { enabled: true, ...structuredClone(data) };
}

/**
 * The values that turn the named add-ons on in a deploy (`--addon NAME`, repeatable): a chart add-on's
 * switch, a definition's whole `addons.<name>`. An unknown name is a usage error naming the valid ones.
 */
export function addonSwitches(
  names: readonly string[],
  defs: readonly AddonDefinition[],
): Record<string, unknown> {
  let out: Record<string, unknown> = {};
  for (const name of names) {
    const chart = ADDON_CATALOG.find((a) => a.name === name);
    const def = defs.find((d) => d.name === name);
    if (!chart && !def) {
      const valid = [
        ...ADDON_CATALOG.map((a) => a.name),
        ...defs.filter((d) => !isChartAddon(d)).map((d) => d.name),
      ];
      const near = closest(name, valid);
      throw new UsageError(`--addon: unknown add-on "${name}"${near ? ` (did you mean ${near}?)` : ''}`, {
        hint: `valid add-ons: ${valid.join(', ')}; see them all: ${npmRun('addon', 'list')}`,
      });
    }
    out = deepMerge(
      out,
      chart ? atPath(`${chart.valuesKey}.enabled`, true) : { addons: { [name]: definitionValues(def!) } },
    );
  }
  return out;
}

/**
 * The usage error (exit 2) for an add-on named on the command line whose file did not load: each problem
 * at its line, like a settings file that does not parse. Undefined when the name loaded or has no file.
 */
export function namedDefinitionError(
  name: string,
  found: { defs: readonly AddonDefinition[]; problems: readonly DefinitionProblem[] },
  cwd: string = process.cwd(),
): UsageError | undefined {
  if (found.defs.some((d) => d.name === name)) return undefined;
  const own = found.problems.filter((p) => path.basename(p.file).replace(/\.ya?ml$/, '') === name);
  if (own.length === 0) return undefined;
  return new UsageError(own.map((p) => formatProblem(p, cwd)).join('\n'), {
    hint: `${own[0]?.hint ? `${own[0].hint}; then ` : 'fix the file, then '}run it again (every definition: ${npmRun('addon', 'list')})`,
  });
}

/** Each definition's `addons.<name>` values, by name: what a redeploy refreshes an add-on that is on to. */
export function definitionValuesByName(
  defs: readonly AddonDefinition[],
): Record<string, Record<string, unknown>> {
  return Object.fromEntries(defs.filter((d) => !isChartAddon(d)).map((d) => [d.name, definitionValues(d)]));
}

/** One line of a rendered login note; `secret` lines hold a revealed value (print them on purpose). */
export interface LoginLine {
  text: string;
  secret: boolean;
}

export interface LoginInput extends FactPlace {
  /** Local URL of each forwarded port, by port name. */
  urls: Record<string, string | undefined>;
  /** Reads a key of a Secret of the release (only called with showPasswords). */
  secret: (name: string, key: string) => Promise<string | undefined>;
  showPasswords: boolean;
}

const PLACEHOLDER = /\{([^{}\n]*)\}/g;

/** The definition's login note with its placeholders filled in; secrets only with showPasswords. */
export async function renderLogin(def: AddonDefinition, input: LoginInput): Promise<LoginLine[]> {
  if (def.login === undefined) return [];
  const out: LoginLine[] = [];
  for (const line of def.login.replace(/\n+$/, '').split('\n')) {
    let secret = false;
    let text = '';
    let last = 0;
    for (const m of line.matchAll(PLACEHOLDER)) {
      text += line.slice(last, m.index);
      last = m.index + m[0].length;
      const p = parsePlaceholder(m[1] ?? '');
      if (p?.kind === 'url') text += input.urls[p.port] ?? '(not forwarded)';
      else if (p?.kind === 'fact') text += factValue(p.fact, input) ?? `(${p.fact})`;
      else if (p?.kind === 'secret' && input.showPasswords) {
        secret = true;
        text += (await input.secret(p.name, p.key)) ?? `(Secret ${p.name} not found)`;
      } else if (p?.kind === 'secret') text += '(--show-passwords)';
      else text += m[0];
    }
    out.push({ text: text + line.slice(last), secret });
  }
  return out;
}

type Placeholder =
  | { kind: 'url'; port: string }
  | { kind: 'fact'; fact: FactName }
  | { kind: 'secret'; name: string; key: string };

function parsePlaceholder(body: string): Placeholder | undefined {
  const url = /^url\.([a-z0-9-]+)$/.exec(body);
  if (url) return { kind: 'url', port: url[1] ?? '' };
  const fact = /^fact ([a-z.]+)$/.exec(body);
  if (fact && (FACTS as readonly string[]).includes(fact[1] ?? ''))
    return { kind: 'fact', fact: fact[1] as FactName };
  const secret = /^secret ([a-z0-9]([-a-z0-9.]*[a-z0-9])?) ([-._a-zA-Z0-9]+)$/.exec(body);
  if (secret) return { kind: 'secret', name: secret[1] ?? '', key: secret[3] ?? '' };
  return undefined;
}

/** Local ports the platform already forwards (APPS, then the chart's add-ons), with whose they are. */
export function platformLocalPorts(except?: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const a of APPS) out.set(a.localPort, `${a.name}'s local port`);
  for (const a of ADDON_CATALOG.filter((x) => x.name !== except))
    for (const p of a.ports) out.set(p.local, `${a.title}'s local port`);
  return out;
}

/** Names an add-on cannot take: the platform's components, workloads and the chart's own add-ons. */
export function reservedNames(): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of APPS) {
    out.set(a.name, `the ${a.component} Deployment`);
    out.set(a.component, `the ${a.name} component`);
  }
  for (const d of Object.values(DATABASES)) {
    out.set(d.statefulSet, `the ${d.db} database`);
    out.set(MIGRATION_CRONJOBS[d.db], `the ${d.db} database's migration CronJob`);
  }
  for (const a of ADDON_CATALOG) out.set(a.name, `the chart's ${a.title} add-on`);
  // Objects and components of the chart that are no workload: pgAdmin's servers ConfigMap, and the helm
  // test pod with its component (a Service of an add-on named so would select that pod).
  out.set('pgadmin-servers', "pgAdmin's servers ConfigMap");
  out.set('taskflow-test', "the chart's helm test pod");
  out.set('helm-test', "the helm test pod's component");
  out.set('list', "the addon command's list");
  out.set('new', "the addon command's new");
  return out;
}

/** A starter definition for `addon new <name> --image I --port N`: commented YAML that loads clean. */
export function starterDefinition(opts: {
  name: string;
  image: string;
  port: number;
  taken?: number[];
}): string {
  const taken = new Set([...platformLocalPorts().keys(), ...(opts.taken ?? [])]);
  let forward = opts.port >= 1024 ? opts.port : 8090;
  while (taken.has(forward)) forward++;
  const title = opts.name.replace(
    /(^|-)([a-z])/g,
    (_m, sep: string, c: string) => `${sep ? ' ' : ''}${c.toUpperCase()}`,
  );
  return `# Add-on ${opts.name}: one file, no code. Checked against charts/taskflow/addon.schema.json.
title: ${title}
description: ${title}, a dev tool inside the release (say in one line what it is for)
# Pin the tag (not latest) so every start runs the same image.
image: ${opts.image}
ports:
  - name: http
    port: ${opts.port} # the container's port, also the Service's
    forward: ${forward} # the local port port-forward uses by default
# env: # each item: name and one of value, secret, configMap, fact
#   - { name: EXAMPLE, value: 'text' }
#   - { name: API_URL, fact: api.url } # facts: ${FACTS.join(', ')}
#   - { name: DB_PASSWORD, secret: { name: api-postgres, key: password } }
# databases: [api] # the platform databases it may reach (sso, api)
# securityContext: # default: user/group 1000, read-only root filesystem (/tmp stays writable)
#   readOnlyRootFilesystem: false
# readiness: { path: /, port: http }
login: |
  ${title}: {url.http}
`;
}

let validator: ValidateFunction | undefined;
function schemaValidator(): ValidateFunction {
  validator ??= new Ajv2020({ allErrors: true, verbose: true, strict: true, strictRequired: false }).compile(
    JSON.parse(readFileSync(ADDON_SCHEMA_PATH, 'utf8')) as object,
  );
  return validator;
}

/** The checks the schema cannot express, on a definition that passed it. */
function ruleFindings(def: AddonDefinition, explicitName: boolean): Found[] {
  const out: Found[] = [];
  const nameAt: Seg[] = explicitName ? ['name'] : [];
  const reserved = isChartAddon(def) ? undefined : reservedNames().get(def.name);
  if (reserved)
    out.push({
      at: nameAt,
      message: `name ${def.name} is taken by ${reserved}`,
      hint: explicitName ? 'pick another name' : 'rename the file or set another name:',
    });
  const digest = def.image.includes('@');
  const repoTag = def.image.split('@')[0] ?? '';
  const lastPart = repoTag.split('/').pop() ?? '';
  const tag = lastPart.includes(':') ? lastPart.slice(lastPart.indexOf(':') + 1) : undefined;
  const repo = tag === undefined ? repoTag : repoTag.slice(0, repoTag.length - tag.length - 1);
  if (tag === 'latest' || (tag === undefined && !digest))
    out.push({
      at: ['image'],
      message: tag
        ? `image ${def.image} is not pinned: latest changes under you`
        : `image ${def.image} has no tag`,
      hint: `pin a version: ${repo}:<version> (or a digest, ${repo}@sha256:...)`,
    });
  const portNames = new Set<string>();
  const platform = platformLocalPorts(isChartAddon(def) ? def.name : undefined);
  const forwards = new Map<number, string>();
  for (const [i, p] of def.ports.entries()) {
    if (portNames.has(p.name))
      out.push({ at: ['ports', i, 'name'], message: `port name ${p.name} is used twice` });
    portNames.add(p.name);
    if (p.forward === undefined) continue;
    const other = platform.get(p.forward) ?? forwards.get(p.forward);
    if (other)
      out.push({
        at: ['ports', i, 'forward'],
        message: `ports[${i}].forward ${p.forward} is ${other}`,
        hint: 'pick a free local port',
      });
    forwards.set(p.forward, `also port ${p.name}'s forward`);
  }
  for (const probe of ['readiness', 'liveness'] as const) {
    const port = def[probe]?.port;
    if (port !== undefined && !portNames.has(port))
      out.push({
        at: [probe, 'port'],
        message: `${probe}.port ${port} is not one of the ports`,
        hint: `ports: ${[...portNames].join(', ')}`,
      });
  }
  if (def.startupSeconds !== undefined && !def.readiness)
    out.push({
      at: ['startupSeconds'],
      message: 'startupSeconds needs readiness: the startup probe uses its path',
      hint: 'add readiness: { path: /, port: <a port name> }',
    });
  const twice = <T>(items: T[] | undefined, key: string, get: (t: T) => string, what: string) => {
    const seen = new Set<string>();
    for (const [i, t] of (items ?? []).entries()) {
      if (seen.has(get(t))) out.push({ at: [key, i], message: `${what} ${get(t)} is used twice` });
      seen.add(get(t));
    }
  };
  twice(def.env, 'env', (e) => e.name, 'env name');
  twice(def.volumes, 'volumes', (v) => v.name, 'volume name');
  // A file or volume at /tmp replaces the writable /tmp the chart gives a read-only root filesystem.
  const mounts = new Set<string>();
  for (const [key, items] of [
    ['files', def.files ?? []],
    ['volumes', def.volumes ?? []],
  ] as const)
    for (const [i, m] of items.entries()) {
      const p = m.path.replace(/\/+$/, '');
      if (mounts.has(p))
        out.push({
          at: [key, i, 'path'],
          message: `${key}[${i}].path ${p} is mounted twice`,
        });
      mounts.add(p);
    }
  const apps = APPS.map((a) => a.name);
  for (const [i, r] of (def.rolls ?? []).entries())
    if (!apps.includes(r))
      out.push({
        at: ['rolls', i],
        message: `rolls[${i}] ${r} is not a platform Deployment`,
        hint: apps.join(', '),
      });
  for (const m of (def.login ?? '').matchAll(PLACEHOLDER)) {
    const p = parsePlaceholder(m[1] ?? '');
    const bad =
      p === undefined
        ? `login: ${m[0]} is not a placeholder`
        : p.kind === 'url' && !portNames.has(p.port)
          ? `login: ${m[0]} names no port`
          : p.kind === 'url' && def.ports.find((x) => x.name === p.port)?.forward === undefined
            ? `login: ${m[0]} links port ${p.port}, which has no forward`
            : undefined;
    if (bad)
      out.push({
        at: ['login'],
        message: bad,
        hint: '{url.<port name>} (a port with forward), {fact <fact>}, {secret <name> <key>}',
      });
  }
  return out;
}

/** A definition file read and checked on its own: the definition, or its problems. */
interface LoadedFile {
  def?: AddonDefinition;
  problems: DefinitionProblem[];
  explicitName: boolean;
  /** Line and column of a node of this file. */
  at: (segs: Seg[], key?: boolean) => { line: number; column: number };
}

function loadFile(file: string, builtin: boolean, checkSchema: boolean): LoadedFile {
  const lc = new LineCounter();
  const text = readFileSync(file, 'utf8');
  const docs = parseAllDocuments(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false });
  const problem = (
    pos: { line: number; col: number },
    message: string,
    hint?: string,
  ): DefinitionProblem => ({
    file,
    line: pos.line,
    column: pos.col,
    message,
    ...(hint !== undefined && { hint }),
  });
  const first = { line: 1, column: 1 };
  const failed = (problems: DefinitionProblem[]): LoadedFile => ({
    problems,
    explicitName: false,
    at: () => first,
  });
  if (!Array.isArray(docs) || docs.length === 0)
    return failed([
      problem(
        { line: 1, col: 1 },
        'the file is empty',
        `start from ${npmRun('addon', 'new', '<name>', '--image', 'IMAGE:TAG', '--port', 'N')}`,
      ),
    ]);
  if (docs.length > 1) {
    const pos = lc.linePos(docs[1]?.range[0] ?? 0);
    return failed([problem(pos, 'one definition per file: this file holds more', 'split it into files')]);
  }
  const doc = docs[0] as Document;
  const at = (segs: Seg[], key = false) => {
    const pos = segs.length === 0 && !key ? { line: 1, col: 1 } : locate(doc, lc, segs, key);
    return { line: pos.line, column: pos.col };
  };
  if (doc.errors.length > 0) {
    const repeated = doc.errors.some((e) => e.code === 'DUPLICATE_KEY') ? duplicateKeys(doc) : [];
    return failed([
      ...doc.errors
        .filter((e) => e.code !== 'DUPLICATE_KEY')
        .map((e) =>
          problem(e.linePos?.[0] ?? { line: 1, col: 1 }, `not valid YAML: ${e.message.split('\n')[0] ?? ''}`),
        ),
      ...repeated.map((k) =>
        problem(lc.linePos(k.offset), `not valid YAML: ${k.key} appears twice`, 'keep one of them'),
      ),
    ]);
  }
  const data: unknown = doc.toJS();
  // The built-ins pass the schema in the suite's own tests; at run time only the user's files pay for
  // compiling it (about 0.1 s), so a command that meets no user definition never compiles it.
  const validate = checkSchema ? schemaValidator() : undefined;
  const found = !validate || validate(data) ? [] : schemaFindings(validate.errors ?? [], data);
  const explicitName = typeof (data as { name?: unknown } | null)?.name === 'string';
  const fileName = path.basename(file).replace(/\.ya?ml$/, '');
  if (
    !explicitName &&
    (fileName.length > 40 || !/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(fileName)) &&
    found.length === 0
  )
    found.push({
      at: [],
      message: `the file name gives the name ${fileName}, which is not a DNS label of at most 40 characters`,
      hint: 'rename the file or set name:',
    });
  let def: AddonDefinition | undefined;
  if (found.length === 0) {
    def = { name: fileName, ...(data as Omit<AddonDefinition, 'name' | 'file' | 'builtin'>), file, builtin };
    found.push(...ruleFindings(def, explicitName));
  }
  const problems = found.map((f) => {
    const pos = at(f.at, f.key);
    // A placeholder is pointed at inside the note, not at the note's first line.
    const placeholder = /^login: (\{[^}]*\})/.exec(f.message)?.[1];
    const node = doc.get('login', true) as Node | undefined;
    const inLogin = placeholder && node?.range ? text.indexOf(placeholder, node.range[0]) : -1;
    return problem(
      inLogin >= 0 ? lc.linePos(inLogin) : { line: pos.line, col: pos.column },
      f.message,
      f.hint,
    );
  });
  return { ...(problems.length === 0 && { def }), problems, explicitName, at };
}

/**
 * Every definition in the folders that exist (`*.yaml`, `*.yml`), the built-in folder first. A definition
 * with a problem is left out; problems name the file, line and column. A later definition never replaces
 * an earlier one: a second name, or a second claim on a local port, is a problem of the later file.
 */
export function loadAddonDefinitions(
  folders: string[],
  opts: { schemaForBuiltins?: boolean } = {},
): {
  defs: AddonDefinition[];
  problems: DefinitionProblem[];
  /** Line and column of a node of a loaded definition's file (from the parse the loader made). */
  positionOf: (def: AddonDefinition, segs: Seg[]) => { line: number; column: number };
} {
  const defs: AddonDefinition[] = [];
  const problems: DefinitionProblem[] = [];
  const locators = new Map<AddonDefinition, LoadedFile['at']>();
  const names = new Map<string, AddonDefinition>();
  const forwards = new Map<number, AddonDefinition>();
  for (const folder of folders) {
    const dir = path.resolve(folder);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) continue;
    const builtin = dir === BUILTIN_ADDONS_DIR;
    const files = readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort();
    for (const f of files) {
      const file = path.join(dir, f);
      const one = loadFile(file, builtin, !builtin || opts.schemaForBuiltins === true);
      problems.push(...one.problems);
      const def = one.def;
      if (!def) continue;
      const nameAt: Seg[] = one.explicitName ? ['name'] : [];
      const clash = names.get(def.name);
      if (clash) {
        problems.push({
          file,
          ...one.at(nameAt),
          message: clash.builtin
            ? `${def.name} is a built-in add-on (${path.relative(REPO_ROOT, clash.file)}): a definition cannot replace it`
            : `name ${def.name} is already defined by ${clash.file}`,
          hint: `give it another name, e.g. my-${def.name}`,
        });
        continue;
      }
      const taken = def.ports.findIndex((p) => p.forward !== undefined && forwards.has(p.forward));
      if (taken >= 0) {
        const port = def.ports[taken]?.forward ?? 0;
        problems.push({
          file,
          ...one.at(['ports', taken, 'forward']),
          message: `ports[${taken}].forward ${port} is already add-on ${forwards.get(port)?.name}'s local port`,
          hint: 'pick a free local port',
        });
        continue;
      }
      names.set(def.name, def);
      for (const p of def.ports) if (p.forward !== undefined) forwards.set(p.forward, def);
      defs.push(def);
      locators.set(def, one.at);
    }
  }
  return {
    defs,
    problems,
    positionOf: (def, segs) => locators.get(def)?.(segs) ?? { line: 1, column: 1 },
  };
}
