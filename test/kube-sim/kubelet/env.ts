// A container's environment as the kubelet builds it: envFrom, env values with $(VAR)
// expansion, Secret/ConfigMap key references and field references. A missing reference
// (unless optional) is a CreateContainerConfigError.
import { typeByKind } from '../resources.ts';
import type { Store } from '../store.ts';
import { getPath, isObject, type JsonObject, type KObject } from '../types.ts';

const SECRET = typeByKind('Secret');
const CM = typeByKind('ConfigMap');

/** A reference the kubelet cannot resolve; the message is the one the kubelet reports. */
export class ConfigError extends Error {}

/** Expands $(VAR) references against the variables defined so far; $$ escapes. */
export function expand(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) => {
    if (m === '$$') return '$';
    return name !== undefined && Object.hasOwn(vars, name) ? (vars[name] ?? '') : m;
  });
}

function source(
  store: Store,
  kind: 'Secret' | 'ConfigMap',
  ns: string,
  name: string,
): Record<string, string> | undefined {
  const o = store.get(kind === 'Secret' ? SECRET : CM, ns, name);
  if (!o) return undefined;
  const out: Record<string, string> = {};
  if (kind === 'Secret') {
    for (const [k, v] of Object.entries((o.data ?? {}) as Record<string, string>))
      out[k] = Buffer.from(v, 'base64').toString('utf8');
  } else {
    for (const [k, v] of Object.entries((o.data ?? {}) as Record<string, string>)) out[k] = v;
    for (const [k, v] of Object.entries((o.binaryData ?? {}) as Record<string, string>))
      out[k] = Buffer.from(v, 'base64').toString('utf8');
  }
  return out;
}

function fieldRef(pod: KObject, path: string): string {
  const label = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (label) return String(getPath(pod, ['metadata', label[1] ?? '', label[2] ?? '']) ?? '');
  const v = getPath(pod, path.split('.'));
  return v === undefined ? '' : String(v);
}

/** The resolved environment of a container of `pod` (throws ConfigError). */
export function resolveEnv(store: Store, pod: KObject, container: JsonObject): Record<string, string> {
  const ns = pod.metadata.namespace ?? 'default';
  const env: Record<string, string> = {};
  const label = (kind: string): string => (kind === 'Secret' ? 'secret' : 'configmap');
  for (const from of Array.isArray(container.envFrom) ? (container.envFrom as JsonObject[]) : []) {
    const kind = isObject(from.secretRef) ? 'Secret' : 'ConfigMap';
    const ref = (from.secretRef ?? from.configMapRef) as JsonObject | undefined;
    if (!ref) continue;
    const data = source(store, kind, ns, String(ref.name));
    if (!data) {
      if (ref.optional === true) continue;
      throw new ConfigError(`${label(kind)} "${String(ref.name)}" not found`);
    }
    const prefix = typeof from.prefix === 'string' ? from.prefix : '';
    for (const [k, v] of Object.entries(data)) env[prefix + k] = v;
  }
  for (const e of Array.isArray(container.env) ? (container.env as JsonObject[]) : []) {
    const name = String(e.name);
    if (typeof e.value === 'string') {
      env[name] = expand(e.value, env);
      continue;
    }
    const vf = isObject(e.valueFrom) ? e.valueFrom : undefined;
    if (!vf) {
      env[name] = '';
      continue;
    }
    const keyRef = (vf.secretKeyRef ?? vf.configMapKeyRef) as JsonObject | undefined;
    if (keyRef) {
      const kind = isObject(vf.secretKeyRef) ? 'Secret' : 'ConfigMap';
      const data = source(store, kind, ns, String(keyRef.name));
      const key = String(keyRef.key);
      if (!data) {
        if (keyRef.optional === true) continue;
        throw new ConfigError(`${label(kind)} "${String(keyRef.name)}" not found`);
      }
      if (!Object.hasOwn(data, key)) {
        if (keyRef.optional === true) continue;
        throw new ConfigError(`couldn't find key ${key} in ${kind} ${ns}/${String(keyRef.name)}`);
      }
      env[name] = data[key] ?? '';
    } else if (isObject(vf.fieldRef)) env[name] = fieldRef(pod, String(vf.fieldRef.fieldPath));
    else if (isObject(vf.resourceFieldRef)) env[name] = '0';
  }
  return {
    HOSTNAME: pod.metadata.name,
    KUBERNETES_SERVICE_HOST: '10.96.0.1',
    KUBERNETES_SERVICE_PORT: '443',
    ...env,
  };
}

/** Secret/ConfigMap volumes whose source is missing, as FailedMount messages. */
export function missingVolumes(store: Store, pod: KObject): string[] {
  const ns = pod.metadata.namespace ?? 'default';
  const out: string[] = [];
  for (const v of Array.isArray((pod.spec as JsonObject).volumes)
    ? ((pod.spec as JsonObject).volumes as JsonObject[])
    : []) {
    if (
      isObject(v.secret) &&
      v.secret.optional !== true &&
      !store.get(SECRET, ns, String(v.secret.secretName))
    ) {
      out.push(
        `MountVolume.SetUp failed for volume "${String(v.name)}" : secret "${String(v.secret.secretName)}" not found`,
      );
    }
    if (
      isObject(v.configMap) &&
      v.configMap.optional !== true &&
      !store.get(CM, ns, String(v.configMap.name))
    ) {
      out.push(
        `MountVolume.SetUp failed for volume "${String(v.name)}" : configmap "${String(v.configMap.name)}" not found`,
      );
    }
  }
  return out;
}
