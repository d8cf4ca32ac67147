import { NotReadyError } from './errors.ts';
import { type KubeObject, type Kubectl, translateKubectlError } from './kubectl.ts';

/** What the storage check found: `ok` false means the chart's PVCs would stay Pending. */
export interface StorageClassStatus {
  ok: boolean;
  detail: string;
  hint?: string;
  classes: string[];
  defaultClass?: string;
}

const DEFAULT_ANNOTATIONS = [
  'storageclass.kubernetes.io/is-default-class',
  'storageclass.beta.kubernetes.io/is-default-class',
];

/** Whether a StorageClass object is marked as the cluster default. */
export function isDefaultClass(sc: KubeObject): boolean {
  const a = sc.metadata.annotations ?? {};
  return DEFAULT_ANNOTATIONS.some((k) => a[k] === 'true');
}

/** Judges a list of StorageClass objects against the wanted class (pure; `wanted` empty => a default must exist). */
export function judgeStorageClasses(items: KubeObject[], wanted?: string): StorageClassStatus {
  const classes = items.map((i) => i.metadata.name).sort();
  const defaultClass = items.find(isDefaultClass)?.metadata.name;
  const base = { classes, ...(defaultClass !== undefined && { defaultClass }) };
  const available = classes.length > 0 ? classes.join(', ') : 'none';
  if (wanted) {
    if (classes.includes(wanted)) return { ...base, ok: true, detail: `storage class "${wanted}" exists` };
    return {
      ...base,
      ok: false,
      detail: `storage class "${wanted}" (TASKFLOW_STORAGE_CLASS) does not exist; the database volumes would stay Pending (available: ${available})`,
      hint: defaultClass
        ? `remove TASKFLOW_STORAGE_CLASS to use the default class "${defaultClass}", or set it to one of: ${available}`
        : `set TASKFLOW_STORAGE_CLASS to one of: ${available} (kubectl get storageclass)`,
    };
  }
  if (defaultClass) return { ...base, ok: true, detail: `default storage class "${defaultClass}"` };
  return {
    ...base,
    ok: false,
    detail: `the cluster has no default storage class; the database volumes would stay Pending (available: ${available})`,
    hint:
      classes.length > 0
        ? `set TASKFLOW_STORAGE_CLASS to one of: ${available}`
        : 'enable a provisioner (minikube: minikube addons enable storage-provisioner default-storageclass)',
  };
}

/** kubectl arguments (cluster-scoped) that list the storage classes. */
export const STORAGE_CLASS_ARGS: readonly string[] = [
  'get',
  'storageclasses',
  '-o',
  'json',
  '--request-timeout=15s',
];

/**
 * Checks that the storage class the chart will ask for exists (or, with no class named, that the
 * cluster has a default one). Read rights missing: reported ok with a "not checked" detail.
 */
export async function storageClassStatus(kubectl: Kubectl, wanted?: string): Promise<StorageClassStatus> {
  const res = await kubectl.run(STORAGE_CLASS_ARGS, {
    clusterScoped: true,
    timeoutMs: 20_000,
  });
  if (res.exitCode !== 0) {
    if (/forbidden/i.test(res.stderr)) {
      return {
        ok: true,
        classes: [],
        detail: 'storage classes not checked: not allowed to list them',
        hint: 'ask for read access to storageclasses, or check with your cluster admin that the class exists',
      };
    }
    throw translateKubectlError(res.stderr, kubectl.target, 'list storage classes');
  }
  const doc = JSON.parse(res.stdout || '{}') as { items?: KubeObject[] };
  return judgeStorageClasses(doc.items ?? [], wanted);
}

/** The storage class check, as a NotReadyError (exit 3) when the volumes could never bind. */
export async function assertStorage(
  kubectl: Kubectl,
  wanted: string | undefined,
): Promise<StorageClassStatus> {
  const st = await storageClassStatus(kubectl, wanted);
  if (!st.ok) throw new NotReadyError(st.detail, st.hint === undefined ? {} : { hint: st.hint });
  return st;
}
