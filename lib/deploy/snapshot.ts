import type { KubeObject } from '../kubectl.ts';
import { jobState } from '../jobs.ts';
import {
  type Pod,
  type PodFailure,
  componentOf,
  isPodReady,
  pendingInitContainer,
  podFailures,
} from '../pod-status.ts';

/** The kinds one poll lists, in one kubectl call. */
export const WATCHED_KINDS = ['pods', 'replicasets', 'deployments', 'statefulsets', 'jobs', 'pvc'];

/** Failure ids of the rollout beyond the pod ones of lib/pod-status.ts. */
export type RolloutFailureId = PodFailure['id'] | 'rollout.timeout' | 'job.failed';

/** One thing that stops the deploy. */
export interface RolloutFailure {
  id: RolloutFailureId;
  object: string;
  pod?: string;
  container?: string;
  reason: string;
  message: string;
  previousLogs: boolean;
}

/** Readiness of one workload (Deployment, StatefulSet or Job) of the release. */
export interface WorkloadState {
  kind: 'Deployment' | 'StatefulSet' | 'Job';
  name: string;
  component: string;
  ready: boolean;
  /** Why it is not ready yet, e.g. `0/1 ready` or `init: migrate`. */
  waitingFor: string;
  /** The first current pod that is not ready, and its first container that is not ready. */
  pod?: string;
  container?: string;
}

/** What one poll saw. */
export interface Snapshot {
  workloads: WorkloadState[];
  failures: RolloutFailure[];
  /** Every Deployment/StatefulSet ready and every watched Job complete (and at least one workload). */
  done: boolean;
}

interface Status {
  replicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  updatedReplicas?: number;
  observedGeneration?: number;
  currentRevision?: string;
  updateRevision?: string;
  succeeded?: number;
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
}

const status = (o: KubeObject): Status => (o.status ?? {}) as Status;
const specReplicas = (o: KubeObject): number => {
  const r = (o.spec as { replicas?: number } | undefined)?.replicas;
  return typeof r === 'number' ? r : 1;
};
const observed = (o: KubeObject): boolean =>
  (status(o).observedGeneration ?? 0) >= (o.metadata.generation ?? 0);
const owner = (o: KubeObject, kind: string): string | undefined =>
  o.metadata.ownerReferences?.find((r) => r.kind === kind)?.name;
const revisionOf = (o: KubeObject): number =>
  Number(o.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? NaN);
const created = (o: KubeObject): number => Date.parse(o.metadata.creationTimestamp ?? '') || 0;

/** The name of a Deployment's current ReplicaSet: same revision annotation, else the newest. */
export function currentReplicaSet(deployment: KubeObject, replicaSets: KubeObject[]): string | undefined {
  const own = replicaSets.filter((rs) => owner(rs, 'Deployment') === deployment.metadata.name);
  const rev = revisionOf(deployment);
  const byRev = Number.isNaN(rev) ? undefined : own.find((rs) => revisionOf(rs) === rev);
  if (byRev) return byRev.metadata.name;
  return own.sort((a, b) => created(b) - created(a) || revisionOf(b) - revisionOf(a))[0]?.metadata.name;
}

/** The fields that name a workload: kind, name, and component (the name when unlabelled). */
function workloadId<K extends WorkloadState['kind']>(
  o: KubeObject,
  kind: K,
): { kind: K; name: string; component: string } {
  return { kind, name: o.metadata.name, component: componentOf(o) ?? o.metadata.name };
}

/** Readiness of a Deployment or StatefulSet: nothing until its update is observed, then what `judge` reads. */
function replicatedState(
  o: KubeObject,
  kind: 'Deployment' | 'StatefulSet',
  judge: (want: number, s: Status) => { ready: boolean; waitingFor: string },
): WorkloadState {
  const base = workloadId(o, kind);
  if (!observed(o)) return { ...base, ready: false, waitingFor: 'update not yet observed' };
  const { ready, waitingFor } = judge(specReplicas(o), status(o));
  return { ...base, ready, waitingFor: ready ? '' : waitingFor };
}

function deploymentState(d: KubeObject): WorkloadState {
  return replicatedState(d, 'Deployment', (want, s) => {
    const updated = s.updatedReplicas ?? 0;
    const available = s.availableReplicas ?? 0;
    const total = s.replicas ?? 0;
    return {
      ready: updated >= want && available >= want && total <= want,
      waitingFor:
        total > updated
          ? `${total - updated} old replica(s) terminating`
          : `${Math.min(available, updated)}/${want} ready`,
    };
  });
}

function statefulSetState(s: KubeObject): WorkloadState {
  return replicatedState(s, 'StatefulSet', (want, st) => {
    const revisionDone =
      !st.updateRevision || !st.currentRevision || st.updateRevision === st.currentRevision;
    const updated = st.updatedReplicas ?? (revisionDone ? (st.readyReplicas ?? 0) : 0);
    return {
      ready: (st.readyReplicas ?? 0) >= want && (revisionDone || updated >= want),
      waitingFor: `${st.readyReplicas ?? 0}/${want} ready`,
    };
  });
}

function jobWorkload(j: KubeObject): { state: WorkloadState; failed?: RolloutFailure } {
  const js = jobState(j);
  const state: WorkloadState = {
    ...workloadId(j, 'Job'),
    ready: js.state === 'complete',
    waitingFor: js.state === 'complete' ? '' : 'running',
  };
  if (js.state !== 'failed') return { state };
  return {
    state,
    failed: {
      id: 'job.failed',
      object: `job/${j.metadata.name}`,
      reason: js.reason,
      message: js.message,
      previousLogs: false,
    },
  };
}

/** Options for judging a snapshot. */
export interface JudgeOptions {
  /** Only Jobs created at or after this instant belong to this deploy (ms since epoch). */
  since: number;
  /** Storage classes that exist; a PVC asking for another one fails at once. */
  storageClasses?: string[];
}

/**
 * Judges one listing of the release's objects: which workloads are ready, and what failed in the
 * objects of the current revision (pods of old ReplicaSets or StatefulSet revisions being
 * replaced are ignored, as are Jobs older than this deploy).
 */
export function judgeSnapshot(items: KubeObject[], opts: JudgeOptions): Snapshot {
  const of = (kind: string) => items.filter((i) => i.kind === kind && !i.metadata.deletionTimestamp);
  const replicaSets = of('ReplicaSet');
  const deployments = of('Deployment');
  const statefulSets = of('StatefulSet');
  const jobs = of('Job').filter((j) => created(j) >= opts.since - 2000);
  const workloads: WorkloadState[] = [];
  const failures: RolloutFailure[] = [];

  // Which owners' pods count: the current ReplicaSet of each observed Deployment, the update revision of
  // each observed StatefulSet, and the watched Jobs. Not yet observed: nothing of it counts yet.
  const currentRs = new Set<string>();
  const allRs = new Set(replicaSets.map((r) => r.metadata.name));
  for (const d of deployments) {
    workloads.push(deploymentState(d));
    const rs = observed(d) ? currentReplicaSet(d, replicaSets) : undefined;
    if (rs) currentRs.add(rs);
  }
  const stsRevision = new Map<string, string | undefined>();
  for (const s of statefulSets) {
    workloads.push(statefulSetState(s));
    if (observed(s)) stsRevision.set(s.metadata.name, status(s).updateRevision);
  }
  const jobNames = new Set<string>();
  for (const j of jobs) {
    const { state, failed } = jobWorkload(j);
    workloads.push(state);
    jobNames.add(j.metadata.name);
    if (failed) failures.push(failed);
  }

  const counts = (p: Pod): boolean => {
    if (p.metadata.deletionTimestamp) return false;
    const rs = owner(p, 'ReplicaSet');
    if (rs !== undefined) return currentRs.has(rs) || !allRs.has(rs);
    const sts = owner(p, 'StatefulSet');
    if (sts !== undefined) {
      if (!stsRevision.has(sts)) return !statefulSets.some((s) => s.metadata.name === sts);
      const rev = stsRevision.get(sts);
      return !rev || p.metadata.labels?.['controller-revision-hash'] === rev;
    }
    const job = owner(p, 'Job');
    if (job !== undefined) return jobNames.has(job);
    return true;
  };
  const pods = of('Pod').filter((p) => counts(p as Pod)) as Pod[];
  for (const p of pods) {
    for (const f of podFailures(p)) failures.push(fromPod(f));
  }
  for (const pvc of of('PersistentVolumeClaim')) {
    const phase = (pvc.status as { phase?: string } | undefined)?.phase;
    const cls = (pvc.spec as { storageClassName?: string } | undefined)?.storageClassName;
    if (phase === 'Pending' && cls && opts.storageClasses && !opts.storageClasses.includes(cls)) {
      failures.push({
        id: 'pods.pending',
        object: `pvc/${pvc.metadata.name}`,
        reason: 'StorageClassNotFound',
        message: `volume claim asks for storage class "${cls}", which does not exist (available: ${opts.storageClasses.join(', ') || 'none'})`,
        previousLogs: false,
      });
    }
  }
  annotateWaiting(workloads, pods, replicaSets);
  const done = workloads.length > 0 && workloads.every((w) => w.ready) && failures.length === 0;
  return { workloads, failures, done };
}

function fromPod(f: PodFailure): RolloutFailure {
  return {
    id: f.id,
    object: f.object,
    pod: f.pod,
    ...(f.container !== undefined && { container: f.container }),
    reason: f.reason,
    message: f.message,
    previousLogs: f.previousLogs,
  };
}

// A workload waiting on an init container says so: "init: migrate" reads better than "0/1 ready".
function annotateWaiting(workloads: WorkloadState[], pods: Pod[], replicaSets: KubeObject[]): void {
  const rsOwner = new Map(replicaSets.map((r) => [r.metadata.name, owner(r, 'Deployment')]));
  for (const w of workloads) {
    if (w.ready) continue;
    const mine = pods.filter((p) => {
      const rs = owner(p, 'ReplicaSet');
      return w.kind === 'Deployment'
        ? rs !== undefined && rsOwner.get(rs) === w.name
        : owner(p, w.kind) === w.name;
    });
    const pod = mine.find((p) => !isPodReady(p));
    if (!pod) continue;
    w.pod = pod.metadata.name;
    const init = pendingInitContainer(pod);
    const main = pod.status?.containerStatuses?.find((c) => !c.ready)?.name;
    const container = init ?? main;
    if (container !== undefined) w.container = container;
    if (init) w.waitingFor = `init: ${init}`;
    else if (pod.status?.phase === 'Running') w.waitingFor += ', not ready yet';
  }
}

/** Deployments whose progress deadline passed (the controller gave up): a failure, not a wait. */
export function progressDeadlineFailures(items: KubeObject[], s: Snapshot): RolloutFailure[] {
  const out: RolloutFailure[] = [];
  // pod name -> its Deployment, through its ReplicaSet
  const rsOwner = new Map(
    items.filter((i) => i.kind === 'ReplicaSet').map((r) => [r.metadata.name, owner(r, 'Deployment')]),
  );
  const podsOf = new Map(
    items
      .filter((i) => i.kind === 'Pod')
      .map((p) => [p.metadata.name, rsOwner.get(owner(p, 'ReplicaSet') ?? '')] as const),
  );
  for (const d of items.filter((i) => i.kind === 'Deployment')) {
    const c = status(d).conditions?.find((x) => x.type === 'Progressing');
    if (c?.status !== 'False' || c.reason !== 'ProgressDeadlineExceeded') continue;
    const w = s.workloads.find((x) => x.kind === 'Deployment' && x.name === d.metadata.name);
    if (w?.ready) continue;
    // Its pods' own failure (an image pull, a crash) is the cause already reported: the deadline adds nothing.
    if (s.failures.some((f) => f.pod !== undefined && podsOf.get(f.pod) === d.metadata.name)) continue;
    out.push(
      timeoutFailure(
        w ?? { kind: 'Deployment', name: d.metadata.name, component: '', ready: false, waitingFor: '' },
        c.message ?? 'progress deadline exceeded',
        'ProgressDeadlineExceeded',
      ),
    );
  }
  return out;
}

/** A rollout.timeout failure for a workload that did not become ready in time. */
export function timeoutFailure(w: WorkloadState, message: string, reason = 'NotReady'): RolloutFailure {
  return {
    id: 'rollout.timeout',
    object: `${w.kind.toLowerCase()}/${w.name}`,
    ...(w.pod !== undefined && { pod: w.pod }),
    ...(w.container !== undefined && { container: w.container }),
    reason,
    message: w.waitingFor ? `${message} (${w.waitingFor})` : message,
    previousLogs: false,
  };
}

/** Workloads that are not ready, for a timeout report. */
export function notReady(s: Snapshot): WorkloadState[] {
  return s.workloads.filter((w) => !w.ready);
}
