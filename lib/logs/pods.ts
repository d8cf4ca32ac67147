import type { Pod } from '../pod-status.ts';

/** What the logs command reads of a container: which one, its kind, and the run it is on. */
export interface ContainerView {
  name: string;
  /** init (runs before the others), sidecar (an init container that keeps running) or main. */
  kind: 'init' | 'sidecar' | 'main';
  /** The pod's first container: the only one printed without `:container`. */
  primary: boolean;
  state: 'running' | 'terminated' | 'waiting';
  /** The current run's id (changes on each restart); undefined before the first start. */
  runId: string | undefined;
  /** Whether an earlier run ended (what --previous reads). */
  hasPrevious: boolean;
  /** Why it waits (CrashLoopBackOff, ImagePullBackOff, ...), when it does and the kubelet said. */
  waitingReason?: string;
  /** How often the kubelet restarted it. */
  restarts: number;
}

/** One pod as the logs command sees it. */
export interface PodView {
  name: string;
  uid: string;
  component: string;
  /** The part of the pod's name after its workload's name (`7c9d8f-x2k4q`, `0`). */
  suffix: string;
  containers: ContainerView[];
  /** Being deleted: its containers stop. */
  terminating: boolean;
}

const ADDON_LABEL = 'taskflow.dev/addon';
const COMPONENT_LABEL = 'app.kubernetes.io/component';

/** A pod's component: its add-on label, else its component label, else its own name. */
export function componentName(pod: Pod): string {
  const labels = pod.metadata.labels ?? {};
  return labels[ADDON_LABEL] ?? labels[COMPONENT_LABEL] ?? pod.metadata.name;
}

/**
 * The name of the workload that made a pod: a ReplicaSet's Deployment (its name without the
 * pod-template-hash), a StatefulSet, a Job; undefined for a bare pod.
 */
export function workloadName(pod: Pod): string | undefined {
  const owner = pod.metadata.ownerReferences?.[0];
  if (!owner) return undefined;
  const hash = pod.metadata.labels?.['pod-template-hash'];
  if (owner.kind === 'ReplicaSet' && hash && owner.name.endsWith(`-${hash}`)) {
    return owner.name.slice(0, -(hash.length + 1));
  }
  return owner.name;
}

/** The part of the pod's name after its workload's name; the whole name when it does not start with it. */
export function podSuffix(pod: Pod): string {
  const name = pod.metadata.name;
  const workload = workloadName(pod);
  return workload && name.startsWith(`${workload}-`) ? name.slice(workload.length + 1) : name;
}

interface RawStatus {
  name: string;
  containerID?: string;
  restartCount?: number;
  state?: { running?: object; terminated?: { containerID?: string }; waiting?: { reason?: string } };
  lastState?: { terminated?: object };
}

/** The view of a pod (pure: from its JSON). */
export function podView(pod: Pod): PodView {
  const spec = (pod.spec ?? {}) as {
    containers?: { name: string }[];
    initContainers?: { name: string; restartPolicy?: string }[];
  };
  const statuses = new Map<string, RawStatus>();
  const st = pod.status as
    { containerStatuses?: RawStatus[]; initContainerStatuses?: RawStatus[] } | undefined;
  for (const s of [...(st?.initContainerStatuses ?? []), ...(st?.containerStatuses ?? [])]) {
    statuses.set(s.name, s);
  }
  const view = (name: string, kind: ContainerView['kind'], primary: boolean): ContainerView => {
    const s = statuses.get(name);
    const state = s?.state?.running ? 'running' : s?.state?.terminated ? 'terminated' : 'waiting';
    return {
      name,
      kind,
      primary,
      state,
      runId: state === 'waiting' ? undefined : (s?.containerID ?? s?.state?.terminated?.containerID),
      hasPrevious: Boolean(s?.lastState?.terminated) || (s?.restartCount ?? 0) > 0,
      ...(s?.state?.waiting?.reason && { waitingReason: s.state.waiting.reason }),
      restarts: s?.restartCount ?? 0,
    };
  };
  const inits = (spec.initContainers ?? []).map((c) =>
    view(c.name, c.restartPolicy === 'Always' ? 'sidecar' : 'init', false),
  );
  const mains = (spec.containers ?? []).map((c, i) => view(c.name, 'main', i === 0));
  return {
    name: pod.metadata.name,
    uid: pod.metadata.uid ?? pod.metadata.name,
    component: componentName(pod),
    suffix: podSuffix(pod),
    containers: [...inits, ...mains],
    terminating: Boolean(pod.metadata.deletionTimestamp),
  };
}

/**
 * The prefix of a container's lines: `component/suffix`, plus `:container` unless it is the pod's first,
 * plus ` (previous)` for the lines of its previous run (the one that ended before the current one).
 */
export function linePrefix(
  pod: Pick<PodView, 'component' | 'suffix'>,
  c: Pick<ContainerView, 'name' | 'primary'>,
  previous = false,
): string {
  return `${pod.component}/${pod.suffix}${c.primary ? '' : `:${c.name}`}${previous ? ' (previous)' : ''}`;
}

/** Whether a container has lines to read: it runs or has run (its run id is known). */
export function hasLogs(c: ContainerView): boolean {
  return c.runId !== undefined || c.state !== 'waiting';
}
