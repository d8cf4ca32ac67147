import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../kubectl.ts';

/** A problem found in a rendered manifest. */
export interface RenderProblem {
  object: string;
  message: string;
}

/** The objects of a `helm template` output (empty documents dropped). */
export function parseManifests(text: string): KubeObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null && typeof o === 'object');
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
  const cache = new Map<string, Validator | undefined>();
  for (const o of objects) {
    if (!o.apiVersion || !o.kind) continue;
    const key = `${o.apiVersion}/${o.kind}`;
    if (!cache.has(key)) cache.set(key, await loadValidator(o.apiVersion, o.kind));
    const validate = cache.get(key);
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

async function loadValidator(apiVersion: string, kind: string): Promise<Validator | undefined> {
  try {
    const mod = (await importModel(`${apiVersion}/${kind}`)) as Record<string, ModelClass>;
    const Model = mod[kind];
    return Model ? (obj) => new Model(obj).validate() : undefined;
  } catch {
    return undefined;
  }
}
