// Deletion as the API server does it: propagation policies become finalizers (the garbage
// collector finishes the job), objects with finalizers only get a deletionTimestamp, pods
// terminate gracefully (the kubelet removes them), namespaces go through Terminating.
import type { Cluster } from './cluster.ts';
import type { ResourceType } from './resources.ts';
import { KubeSimError } from './runtime.ts';
import { nowTimestamp, type KObject } from './types.ts';

export type PropagationPolicy = 'Orphan' | 'Background' | 'Foreground';

export interface DeleteOptions {
  propagationPolicy?: PropagationPolicy;
  gracePeriodSeconds?: number;
  dryRun?: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
}

/** Finalizers the garbage collector acts on. */
export const FOREGROUND = 'foregroundDeletion';
export const ORPHAN = 'orphan';

// batch/v1 Jobs (and core ReplicationControllers) orphan their pods unless told otherwise.
const ORPHAN_BY_DEFAULT = new Set(['Job', 'ReplicationController']);

/** Deletes one object; returns it as it is afterwards (gone, or marked for deletion). */
export function deleteObject(
  cluster: Cluster,
  rt: ResourceType,
  ns: string | undefined,
  name: string,
  opts: DeleteOptions,
): KObject {
  const { store } = cluster;
  const obj = store.mustGet(rt, ns, name);
  const pre = opts.preconditions;
  if (pre?.uid && pre.uid !== obj.metadata.uid) {
    throw new KubeSimError(
      409,
      `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${obj.metadata.uid}`,
      'Conflict',
    );
  }
  if (pre?.resourceVersion && pre.resourceVersion !== obj.metadata.resourceVersion) {
    throw new KubeSimError(
      409,
      `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${obj.metadata.resourceVersion}`,
      'Conflict',
    );
  }
  if (opts.dryRun) return obj;
  const policy = opts.propagationPolicy ?? (ORPHAN_BY_DEFAULT.has(rt.kind) ? 'Orphan' : 'Background');
  const meta = obj.metadata;
  const finalizers = new Set(meta.finalizers ?? []);
  if (policy === 'Foreground') finalizers.add(FOREGROUND);
  if (policy === 'Orphan') finalizers.add(ORPHAN);

  if (rt.kind === 'Pod') {
    const grace =
      opts.gracePeriodSeconds ??
      (obj.spec as { terminationGracePeriodSeconds?: number } | undefined)?.terminationGracePeriodSeconds ??
      30;
    const phase = (obj.status as { phase?: string } | undefined)?.phase;
    const unscheduled = !(obj.spec as { nodeName?: string } | undefined)?.nodeName;
    // Force deletion, and pods no kubelet runs, go at once; others are terminated by the kubelet.
    if (grace > 0 && !unscheduled && phase !== 'Succeeded' && phase !== 'Failed') {
      if (meta.deletionTimestamp) return obj;
      meta.deletionTimestamp = nowTimestamp();
      meta.deletionGracePeriodSeconds = grace;
      meta.finalizers = [...finalizers];
      if (!meta.finalizers.length) delete meta.finalizers;
      return store.update(rt, obj, { internal: true });
    }
  }
  if (rt.kind === 'Namespace') {
    if (!meta.deletionTimestamp) {
      meta.deletionTimestamp = nowTimestamp();
      meta.deletionGracePeriodSeconds = 0;
      obj.status = { ...(obj.status as object), phase: 'Terminating' };
      return store.update(rt, obj, { internal: true });
    }
    return obj;
  }
  if (finalizers.size === 0) {
    return store.remove(rt, ns, name) ?? obj;
  }
  if (!meta.deletionTimestamp) {
    meta.deletionTimestamp = nowTimestamp();
    meta.deletionGracePeriodSeconds = 0;
  }
  meta.finalizers = [...finalizers];
  return store.update(rt, obj, { internal: true });
}
