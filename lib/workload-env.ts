import type { KubeObject } from './kubectl.ts';
import type { WorkloadRef } from './flow-map.ts';

/**
 * Resolves what a container's environment variable holds, the way the kubelet does, against a list of
 * objects (a chart render or the live cluster): `envFrom` first (later sources win), then `env` (the last
 * entry of a name wins), with `$(VAR)` references expanded from the variables defined before.
 */

export interface EnvVarSource {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name?: string; key: string; optional?: boolean };
    configMapKeyRef?: { name?: string; key: string; optional?: boolean };
    fieldRef?: { fieldPath: string };
    resourceFieldRef?: { resource: string };
  };
}
interface EnvFromSource {
  prefix?: string;
  secretRef?: { name?: string; optional?: boolean };
  configMapRef?: { name?: string; optional?: boolean };
}
export interface Container {
  name: string;
  image?: string;
  env?: EnvVarSource[];
  envFrom?: EnvFromSource[];
}
export interface PodSpec {
  containers?: Container[];
  initContainers?: Container[];
  volumes?: {
    secret?: { secretName?: string };
    configMap?: { name?: string };
    projected?: { sources?: { secret?: { name?: string }; configMap?: { name?: string } }[] };
  }[];
}

/** A Secret or ConfigMap key a variable reads. */
export interface ObjectRef {
  kind: 'Secret' | 'ConfigMap';
  name: string;
  /** undefined for envFrom (every key) */
  key?: string;
}

/** What a container variable resolves to. */
export interface EnvResolution {
  /** the variable is defined in the container */
  found: boolean;
  /** its text; undefined when it comes from an object not in the list (or from a field) */
  value?: string;
  /** human-readable path, e.g. `Secret sso-platform key DATABASE_URL` */
  via: string;
  refs: ObjectRef[];
  /** a reference to a key that does not exist (the pod would fail with CreateContainerConfigError) */
  broken?: string;
  /** the referenced object is not among the objects (an existingSecret, say) */
  external?: string;
  /** some of the text is written in the pod spec itself */
  literal: boolean;
}

/** The data of a Secret (decoded) or ConfigMap, or undefined when the object is not in the list. */
export function objectData(
  objects: readonly KubeObject[],
  kind: 'Secret' | 'ConfigMap',
  name: string,
): Map<string, string> | undefined {
  const o = objects.find((x) => x.kind === kind && x.metadata?.name === name) as
    (KubeObject & { data?: Record<string, string>; stringData?: Record<string, string> }) | undefined;
  if (!o) return undefined;
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(o.data ?? {})) {
    out.set(k, kind === 'Secret' ? Buffer.from(String(v), 'base64').toString('utf8') : String(v));
  }
  for (const [k, v] of Object.entries(o.stringData ?? {})) out.set(k, String(v));
  return out;
}

/** The pod spec of a Deployment, StatefulSet, Job or CronJob. */
export function podSpecOf(o: KubeObject): PodSpec | undefined {
  const spec = o.spec as
    | {
        template?: { spec?: PodSpec };
        jobTemplate?: { spec?: { template?: { spec?: PodSpec } } };
      }
    | undefined;
  if (o.kind === 'CronJob') return spec?.jobTemplate?.spec?.template?.spec;
  if (o.kind === 'Pod') return o.spec as PodSpec | undefined;
  return spec?.template?.spec;
}

/** The workload among the objects, if rendered/deployed. */
export function findWorkload(objects: readonly KubeObject[], ref: WorkloadRef): KubeObject | undefined {
  return objects.find((o) => o.kind === ref.kind && o.metadata?.name === ref.name);
}

/** The containers of a pod spec (init containers with `init`). */
export function containersOf(spec: PodSpec | undefined, init: boolean): Container[] {
  return (init ? spec?.initContainers : spec?.containers) ?? [];
}

const NOT_FOUND: EnvResolution = { found: false, via: 'not set', refs: [], literal: false };

/** Resolves one variable of a container against the objects. */
export function resolveEnv(
  container: Container,
  name: string,
  objects: readonly KubeObject[],
): EnvResolution {
  const vars = new Map<string, EnvResolution>();
  for (const from of container.envFrom ?? []) {
    const kind = from.secretRef ? 'Secret' : from.configMapRef ? 'ConfigMap' : undefined;
    const objName = (from.secretRef ?? from.configMapRef)?.name;
    if (!kind || !objName) continue;
    const data = objectData(objects, kind, objName);
    const prefix = from.prefix ?? '';
    const ref: ObjectRef = { kind, name: objName };
    if (!data) {
      // An object we cannot see may hold any key: it might define the variable.
      if (!vars.has(name)) {
        vars.set(name, {
          found: true,
          via: `envFrom ${kind} ${objName}`,
          refs: [ref],
          external: `${kind} ${objName} is not part of the release`,
          literal: false,
        });
      }
      continue;
    }
    for (const [k, v] of data) {
      vars.set(prefix + k, {
        found: true,
        value: v,
        via: `${kind} ${objName} key ${k} (envFrom)`,
        refs: [{ ...ref, key: k }],
        literal: false,
      });
    }
  }
  for (const e of container.env ?? []) vars.set(e.name, resolveEntry(e, vars, objects));
  return vars.get(name) ?? NOT_FOUND;
}

function resolveEntry(
  e: EnvVarSource,
  earlier: Map<string, EnvResolution>,
  objects: readonly KubeObject[],
): EnvResolution {
  const keyRef = e.valueFrom?.secretKeyRef ?? e.valueFrom?.configMapKeyRef;
  if (keyRef) {
    const kind = e.valueFrom?.secretKeyRef ? 'Secret' : 'ConfigMap';
    const objName = keyRef.name ?? '';
    const ref: ObjectRef = { kind, name: objName, key: keyRef.key };
    const via = `${kind} ${objName} key ${keyRef.key}`;
    const data = objectData(objects, kind, objName);
    if (!data)
      return {
        found: true,
        via,
        refs: [ref],
        external: `${kind} ${objName} is not part of the release`,
        literal: false,
      };
    const value = data.get(keyRef.key);
    if (value === undefined) {
      const broken = keyRef.optional
        ? undefined
        : `${kind} ${objName} has no key ${keyRef.key} (the pod would fail with CreateContainerConfigError)`;
      return { found: !keyRef.optional, via, refs: [ref], literal: false, ...(broken && { broken }) };
    }
    return { found: true, value, via, refs: [ref], literal: false };
  }
  if (e.valueFrom) return { found: true, via: 'a field of the pod', refs: [], literal: false };
  return expand(e.value ?? '', earlier);
}

/** `$(VAR)` expansion as the kubelet does it: defined variables are replaced, `$$` is a literal `$`. */
function expand(text: string, earlier: Map<string, EnvResolution>): EnvResolution {
  const used: EnvResolution[] = [];
  let unknown = false;
  const value = text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) => {
    if (m === '$$') return '$';
    const v = name === undefined ? undefined : earlier.get(name);
    if (!v) return m;
    used.push(v);
    if (v.value === undefined) unknown = true;
    return v.value ?? m;
  });
  const refs = used.flatMap((u) => u.refs);
  const via =
    used.length === 0 ? 'pod spec value' : `pod spec value with ${used.map((u) => u.via).join(', ')}`;
  const broken = used.find((u) => u.broken)?.broken;
  const external = used.find((u) => u.external)?.external;
  return {
    found: true,
    ...(!unknown && { value }),
    via,
    refs,
    literal: true,
    ...(broken && { broken }),
    ...(external && { external }),
  };
}

/** Every Secret/ConfigMap a pod spec references, with the keys read by keyRef (undefined: all keys). */
export function referencedObjects(spec: PodSpec | undefined): ObjectRef[] {
  const out: ObjectRef[] = [];
  for (const c of [...containersOf(spec, true), ...containersOf(spec, false)]) {
    for (const f of c.envFrom ?? []) {
      if (f.secretRef?.name) out.push({ kind: 'Secret', name: f.secretRef.name });
      if (f.configMapRef?.name) out.push({ kind: 'ConfigMap', name: f.configMapRef.name });
    }
    for (const e of c.env ?? []) {
      const s = e.valueFrom?.secretKeyRef;
      const m = e.valueFrom?.configMapKeyRef;
      if (s?.name) out.push({ kind: 'Secret', name: s.name, key: s.key });
      if (m?.name) out.push({ kind: 'ConfigMap', name: m.name, key: m.key });
    }
  }
  for (const v of spec?.volumes ?? []) {
    if (v.secret?.secretName) out.push({ kind: 'Secret', name: v.secret.secretName });
    if (v.configMap?.name) out.push({ kind: 'ConfigMap', name: v.configMap.name });
    for (const p of v.projected?.sources ?? []) {
      if (p.secret?.name) out.push({ kind: 'Secret', name: p.secret.name });
      if (p.configMap?.name) out.push({ kind: 'ConfigMap', name: p.configMap.name });
    }
  }
  return out;
}

/** The variable names a container receives (env and every key of its envFrom objects). */
export function containerEnvNames(c: Container, objects: readonly KubeObject[]): string[] {
  const names = new Set((c.env ?? []).map((e) => e.name));
  for (const f of c.envFrom ?? []) {
    const kind = f.secretRef ? 'Secret' : 'ConfigMap';
    const name = (f.secretRef ?? f.configMapRef)?.name ?? '';
    for (const k of objectData(objects, kind, name)?.keys() ?? []) names.add((f.prefix ?? '') + k);
  }
  return [...names];
}
