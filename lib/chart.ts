import { CORE_SCHEMA, loadAll } from 'js-yaml';
import type { RunResult, Runner } from './exec.ts';
import { type HelmTarget, valuesStdin } from './helm.ts';
import type { KubeObject } from './kubectl.ts';
import { redact } from './redact.ts';
import { readableSchemaErrors } from './schema-errors.ts';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';
import { UsageError } from './errors.ts';
import { type Values, deepMerge } from './values.ts';

/** What helm is given: the values (on stdin), the chart, the user's -f files, the target. */
export interface ChartInput {
  values: Values;
  chart: string;
  valuesFiles: string[];
  target: HelmTarget;
}

/** A helm run's outcome, its output already redacted. */
export interface ChartRun {
  ok: boolean;
  output: string;
  durationMs: number;
}

/** One document of `helm template`'s output and the template it came from. */
export interface RenderedDoc {
  /** helm's `# Source:` path, e.g. `taskflow/templates/sso/configmap.yaml` */
  source: string;
  /** the text helm printed for that source's document(s) */
  text: string;
  object: KubeObject;
}

/** A render: the objects when helm succeeded, each also with its source. */
export interface Render extends ChartRun {
  objects: KubeObject[];
  docs: RenderedDoc[];
  /** the YAML did not parse */
  parseError?: string;
}

const TIMEOUT_MS = 60_000;

/** argv of `helm template` with the values on stdin (pure). */
export function templateArgs(bin: string, input: Omit<ChartInput, 'values'>): string[] {
  const args = [bin, 'template', input.target.release, input.chart, '--namespace', input.target.namespace];
  args.push('-f', '-');
  for (const f of input.valuesFiles) args.push('-f', f);
  return args;
}

function outcome(res: RunResult): ChartRun {
  const output = redact(`${res.stderr}\n${res.exitCode === 0 ? '' : res.stdout}`.trim());
  return { ok: res.exitCode === 0, output, durationMs: res.durationMs };
}

/** `helm template` of the chart with these values, parsed into objects. */
export async function renderChart(runner: Runner, bin: string, input: ChartInput): Promise<Render> {
  const res = await runner.run(templateArgs(bin, input), {
    stdin: valuesStdin(input.values),
    timeoutMs: TIMEOUT_MS,
  });
  const run = outcome(res);
  if (!run.ok) return { ...run, objects: [], docs: [] };
  try {
    const docs = splitManifest(res.stdout);
    return { ...run, objects: docs.map((d) => d.object), docs };
  } catch (err) {
    const parseError = err instanceof Error ? err.message : String(err);
    return { ...run, ok: false, objects: [], docs: [], parseError };
  }
}

/** The lines of helm's output worth showing: errors and lint findings, at most `max`. */
export function helmFindings(output: string, max = 8): string[] {
  const lines = readableSchemaErrors(output)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /\[(ERROR|WARNING)\]|^Error:|error|failed|^- /i.test(l))
    .filter((l) => !/^\d+ chart\(s\) linted/.test(l));
  const uniq = [...new Set(lines)];
  return uniq.length > max ? [...uniq.slice(0, max), `… ${uniq.length - max} more`] : uniq;
}

/** A problem found in a rendered manifest. */
export interface RenderProblem {
  object: string;
  message: string;
}

/**
 * The documents of a `helm template` output with their `# Source:` (empty documents dropped). helm
 * prints each document after a `---` line, so the text splits there; a YAML error names its source.
 */
export function splitManifest(text: string): RenderedDoc[] {
  const out: RenderedDoc[] = [];
  for (const chunk of text.split(/^---[ \t]*$/m)) {
    const source = /^\s*# Source: (.*)$/m.exec(chunk)?.[1]?.trim() ?? '';
    let docs: unknown[];
    try {
      docs = loadAll(chunk, null, { schema: CORE_SCHEMA });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new Error(source ? `${source}: ${message}` : message);
    }
    for (const d of docs) {
      if (d !== null && typeof d === 'object') out.push({ source, text: chunk, object: d as KubeObject });
    }
  }
  return out;
}

/** Structural checks every object must pass: kind, name, the release label, the release namespace. */
export function checkObjects(
  objects: KubeObject[],
  target: { namespace: string; release: string },
): RenderProblem[] {
  const out: RenderProblem[] = [];
  for (const o of objects) {
    const id = `${o.kind ?? '?'}/${o.metadata?.name ?? '?'}`;
    if (!o.apiVersion || !o.kind || !o.metadata?.name) {
      out.push({ object: id, message: 'missing apiVersion, kind or metadata.name' });
      continue;
    }
    if (o.metadata.namespace && o.metadata.namespace !== target.namespace) {
      out.push({
        object: id,
        message: `namespace "${o.metadata.namespace}" is not the release namespace "${target.namespace}"`,
      });
    }
    if (o.metadata.labels?.['app.kubernetes.io/instance'] !== target.release) {
      out.push({ object: id, message: `label app.kubernetes.io/instance is not "${target.release}"` });
    }
  }
  return out;
}

type Validator = (obj: KubeObject) => void;
interface ModelClass {
  new (data: unknown): { validate(): void };
}

/**
 * Validates each object against the Kubernetes schemas (the kubernetes-models package, when installed;
 * without it only the structural checks run). Returns the problems and whether schemas were used.
 */
export async function validateSchemas(
  objects: KubeObject[],
): Promise<{ problems: RenderProblem[]; schemas: boolean }> {
  const problems: RenderProblem[] = [];
  let schemas = false;
  for (const o of objects) {
    if (!o.apiVersion || !o.kind) continue;
    const validate = await validatorOf(o.apiVersion, o.kind);
    if (!validate) continue;
    schemas = true;
    try {
      validate(o);
    } catch (err) {
      problems.push({
        object: `${o.kind}/${o.metadata.name}`,
        message: err instanceof Error ? err.message : String(err),
      });
    }
  }
  return { problems, schemas };
}

/**
 * The schema modules of the kinds the chart renders, each imported by a literal name so that the
 * launcher's bundle carries them (one file read instead of hundreds of small modules); any other kind is
 * imported by its computed name from node_modules.
 */
const CHART_MODELS: Readonly<Record<string, () => Promise<unknown>>> = {
  'apps/v1/Deployment': () => import('kubernetes-models/apps/v1/Deployment'),
  'apps/v1/StatefulSet': () => import('kubernetes-models/apps/v1/StatefulSet'),
  'batch/v1/CronJob': () => import('kubernetes-models/batch/v1/CronJob'),
  'batch/v1/Job': () => import('kubernetes-models/batch/v1/Job'),
  'networking.k8s.io/v1/Ingress': () => import('kubernetes-models/networking.k8s.io/v1/Ingress'),
  'networking.k8s.io/v1/NetworkPolicy': () => import('kubernetes-models/networking.k8s.io/v1/NetworkPolicy'),
  'v1/ConfigMap': () => import('kubernetes-models/v1/ConfigMap'),
  'v1/Pod': () => import('kubernetes-models/v1/Pod'),
  'v1/Secret': () => import('kubernetes-models/v1/Secret'),
  'v1/Service': () => import('kubernetes-models/v1/Service'),
};

const importModel = (key: string): Promise<unknown> =>
  CHART_MODELS[key]?.() ?? import(`kubernetes-models/${key}`);

/**
 * Starts loading the schema modules of the chart's kinds (tens of ms) so that a validation started
 * later, while helm runs in its own processes meanwhile, finds them loaded. Never rejects.
 */
export function prewarmSchemas(): Promise<void> {
  return Promise.all(Object.keys(CHART_MODELS).map((k) => importModel(k).catch(() => undefined))).then(
    () => undefined,
  );
}

// One validator per kind for the life of the process: a later run (tests, the benchmark) reuses it.
const validators = new Map<string, Promise<Validator | undefined>>();

function validatorOf(apiVersion: string, kind: string): Promise<Validator | undefined> {
  const key = `${apiVersion}/${kind}`;
  let v = validators.get(key);
  if (!v) validators.set(key, (v = loadValidator(apiVersion, kind)));
  return v;
}

async function loadValidator(apiVersion: string, kind: string): Promise<Validator | undefined> {
  try {
    const mod = (await importModel(`${apiVersion}/${kind}`)) as Record<string, ModelClass>;
    const Model = mod[kind];
    return Model ? (obj) => new Model(obj).validate() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The user's `-f` values files merged in order (as helm merges them), read only to learn what the
 * deploy must know before helm runs: the storage class, external databases, existing Secrets.
 */
export function readValuesFiles(
  files: string[],
  read: (p: string) => string = (p) => readFileSync(p, 'utf8'),
): Values {
  let out: Values = {};
  for (const f of files) {
    let doc: unknown;
    try {
      doc = parse(read(f));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new UsageError(
        code
          ? `cannot read values file ${f} (${code})`
          : `values file ${f} is not valid YAML: ${(err as Error).message.split('\n')[0]}`,
        { hint: 'check the path given to -f/--values' },
      );
    }
    if (doc === null || doc === undefined) continue;
    if (typeof doc !== 'object' || Array.isArray(doc))
      throw new UsageError(`values file ${f} is not a YAML mapping`, {
        hint: "a values file maps keys to values, like the chart's values.yaml",
      });
    out = deepMerge(out, doc as Values);
  }
  return out;
}
