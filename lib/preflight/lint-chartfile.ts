import { CORE_SCHEMA, load } from 'js-yaml';
import type { LintFinding } from './lint-render.ts';

type FieldType = 'string' | 'strings' | 'bool' | 'map' | 'list' | 'maintainers' | 'dependencies';

/** Chart.yaml's fields as helm reads them (chart.Metadata); helm matches their names case-insensitively. */
const FIELDS: Readonly<Record<string, FieldType>> = {
  name: 'string',
  home: 'string',
  sources: 'strings',
  version: 'string',
  description: 'string',
  keywords: 'strings',
  maintainers: 'maintainers',
  icon: 'string',
  apiversion: 'string',
  condition: 'string',
  tags: 'string',
  appversion: 'string',
  deprecated: 'bool',
  annotations: 'map',
  kubeversion: 'string',
  dependencies: 'dependencies',
  type: 'string',
};
const MAINTAINER: Readonly<Record<string, FieldType>> = { name: 'string', email: 'string', url: 'string' };
const DEPENDENCY: Readonly<Record<string, FieldType>> = {
  name: 'string',
  version: 'string',
  repository: 'string',
  condition: 'string',
  tags: 'strings',
  enabled: 'bool',
  'import-values': 'list',
  alias: 'string',
};

const isScalar = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);
const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether a value fits a field (helm turns any scalar into a string field's text). */
function fits(type: FieldType, v: unknown): boolean {
  switch (type) {
    case 'string':
      return isScalar(v);
    case 'bool':
      return v === null || typeof v === 'boolean';
    case 'strings':
      return v === null || (Array.isArray(v) && v.every(isScalar));
    case 'list':
      return v === null || Array.isArray(v);
    case 'map':
      return v === null || (isMap(v) && Object.values(v).every(isScalar));
    default:
      return v === null || (Array.isArray(v) && v.every((e) => e === null || isMap(e)));
  }
}

/** The problems of a mapping against its fields: wrong types (helm cannot load it) and unknown names (strict). */
function shapeOf(
  doc: Record<string, unknown>,
  fields: Readonly<Record<string, FieldType>>,
  where: string,
): { wrong: string[]; unknown: string[] } {
  const wrong: string[] = [];
  const unknown: string[] = [];
  for (const [key, v] of Object.entries(doc)) {
    const type = fields[key.toLowerCase()] ?? fields[key];
    if (!type) unknown.push(`${where}${key}`);
    else if (!fits(type, v)) wrong.push(`${where}${key}`);
    else if ((type === 'maintainers' || type === 'dependencies') && Array.isArray(v)) {
      v.forEach((e, i) => {
        if (!isMap(e)) return;
        const inner = shapeOf(e, type === 'maintainers' ? MAINTAINER : DEPENDENCY, `${key}[${i}].`);
        wrong.push(...inner.wrong);
        unknown.push(...inner.unknown);
      });
    }
  }
  return { wrong, unknown };
}

const SEMVER =
  /^v?(\d+)(\.\d+)?(\.\d+)?(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;
const SEMVER2 =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-((0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(\.(0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(\+[0-9a-zA-Z-]+(\.[0-9a-zA-Z-]+)*)?$/;

/** A URL with a scheme (helm: a request URL). */
const isRequestUrl = (s: string) => /^[a-z][a-z0-9+.-]*:\S+$/i.test(s) && URL.canParse(s);
/** A URL, the scheme optional (helm accepts `example.com/x`). */
function isUrl(s: string): boolean {
  if (/\s/.test(s)) return false;
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(s) ? s : `http://${s}`;
  if (!URL.canParse(withScheme)) return false;
  const host = new URL(withScheme).hostname;
  return host === 'localhost' || host.includes('.');
}
const isEmail = (s: string) => /^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$/.test(s);

function maintainerProblem(m: unknown): string | undefined {
  if (!isMap(m)) return 'a maintainer entry is empty';
  const name = m.name === undefined || m.name === null ? '' : String(m.name);
  if (name === '') return 'each maintainer requires a name';
  if (m.email && !isEmail(String(m.email)))
    return `invalid email '${String(m.email)}' for maintainer '${name}'`;
  if (m.url && !isUrl(String(m.url))) return `invalid url '${String(m.url)}' for maintainer '${name}'`;
  return undefined;
}

const goType = (v: unknown) =>
  typeof v === 'number' ? 'float64' : typeof v === 'boolean' ? 'bool' : typeof v;

/**
 * helm lint's rules over Chart.yaml (`text`; null when Chart.yaml is a folder, undefined when it is
 * missing) and its dependencies against the charts found in charts/.
 */
export function chartfileFindings(
  text: string | null | undefined,
  subcharts: readonly string[],
): LintFinding[] {
  const out: LintFinding[] = [];
  const add = (severity: LintFinding['severity'], message: string, p = 'Chart.yaml') =>
    out.push({ severity, path: p, message });
  if (text === null) {
    add('ERROR', 'should be a file, not a directory');
    return out;
  }
  if (text === undefined) {
    add('ERROR', 'file does not exist: this folder is not a chart');
    return out;
  }
  let doc: unknown;
  try {
    doc = load(text, { schema: CORE_SCHEMA });
  } catch (err) {
    add('ERROR', `unable to parse YAML: ${(err as Error).message.split('\n')[0] ?? ''}`);
    return out;
  }
  if (!isMap(doc)) {
    add('ERROR', 'unable to parse YAML: not a mapping');
    return out;
  }
  const { wrong, unknown } = shapeOf(doc, FIELDS, '');
  if (wrong.length > 0) {
    add('ERROR', `unable to parse YAML: ${wrong.join(', ')} of the wrong type`);
    return out;
  }
  if (unknown.length > 0)
    add('WARNING', `failed to strictly parse chart metadata file: unknown field(s) ${unknown.join(', ')}`);
  const field = (k: string) => doc[Object.keys(doc).find((x) => x.toLowerCase() === k) ?? k];
  const str = (k: string) => {
    const v = field(k);
    return v === null || v === undefined ? '' : String(v);
  };
  const name = str('name');
  if (name === '') add('ERROR', 'name is required');
  else if (/[/\\]/.test(name) || name === '.' || name === '..')
    add('ERROR', `chart name "${name}" is invalid`);
  const apiVersion = str('apiversion');
  if (apiVersion === '') add('ERROR', 'apiVersion is required. The value must be either "v1" or "v2"');
  else if (apiVersion !== 'v1' && apiVersion !== 'v2')
    add('ERROR', `apiVersion '${apiVersion}' is not valid. The value must be either "v1" or "v2"`);
  for (const k of ['version', 'appVersion']) {
    const v = field(k.toLowerCase());
    if (v !== undefined && v !== null && typeof v !== 'string')
      add('ERROR', `${k} should be of type string but it's of type ${goType(v)}`);
  }
  const version = str('version');
  if (version === '') add('ERROR', 'version is required');
  else if (!SEMVER.test(version)) add('ERROR', `version '${version}' is not a valid SemVer`);
  if (!SEMVER2.test(version)) add('WARNING', `version '${version}' is not a valid SemVerV2`);
  const maintainers = field('maintainers');
  const badMaintainer = (Array.isArray(maintainers) ? maintainers : []).map(maintainerProblem).find(Boolean);
  if (badMaintainer) add('ERROR', badMaintainer);
  const sources = field('sources');
  const badSource = (Array.isArray(sources) ? sources : []).find((s) => !isRequestUrl(String(s ?? '')));
  if (badSource !== undefined) add('ERROR', `invalid source URL '${String(badSource ?? '')}'`);
  const icon = str('icon');
  if (icon !== '' && !isRequestUrl(icon)) add('ERROR', `invalid icon URL '${icon}'`);
  if (str('type') !== '' && apiVersion !== 'v2')
    add('ERROR', `chart type is not valid in apiVersion '${apiVersion}'. It is valid in apiVersion 'v2'`);
  const deps = (Array.isArray(field('dependencies')) ? (field('dependencies') as unknown[]) : []).filter(
    isMap,
  );
  if (deps.length > 0 && apiVersion !== 'v2') {
    add(
      'ERROR',
      `dependencies are not valid in the Chart file with apiVersion '${apiVersion}'. They are valid in apiVersion 'v2'`,
    );
  }
  out.push(...dependencyFindings(deps, subcharts));
  return out;
}

/** Chart.yaml's dependencies against charts/: each one there, each there declared, no name twice. */
function dependencyFindings(
  deps: readonly Record<string, unknown>[],
  subcharts: readonly string[],
): LintFinding[] {
  const names = deps.map((d) => String(d.name ?? ''));
  const keys = deps.map((d) => String(d.alias || d.name || ''));
  const rules: [LintFinding['severity'], string[], string][] = [
    ['ERROR', subcharts.filter((s) => !names.includes(s)), 'chart metadata is missing these dependencies'],
    [
      'ERROR',
      [...new Set(keys.filter((k, i) => keys.indexOf(k) !== i))],
      'multiple dependencies with name or alias',
    ],
    ['WARNING', names.filter((n) => !subcharts.includes(n)), 'chart directory is missing these dependencies'],
  ];
  return rules
    .filter(([, found]) => found.length > 0)
    .map(([severity, found, what]) => ({
      severity,
      path: 'charts/',
      message: `${what}: ${found.join(',')}`,
    }));
}
