import type { KubeObject } from './kubectl.ts';

/** Failure ids shared by deploy's rollout watch (failures[].id) and doctor (check ids). */
export type PodFailureId =
  'pods.crashloop' | 'pods.image' | 'pods.config' | 'pods.init' | 'pods.pending' | 'pods.oom';

export interface PodFailure {
  id: PodFailureId;
  /** e.g. `pod/sso-platform-6d9f-abcde` */
  object: string;
  pod: string;
  container?: string;
  init: boolean;
  reason: string;
  message: string;
  /** Read the previous instance's logs (the container restarted). */
  previousLogs: boolean;
}

interface ContainerState {
  waiting?: { reason?: string; message?: string };
  running?: { startedAt?: string };
  terminated?: { reason?: string; exitCode?: number; message?: string };
}
interface ContainerStatus {
  name: string;
  ready?: boolean;
  restartCount?: number;
  state?: ContainerState;
  lastState?: ContainerState;
}
export interface PodStatus {
  phase?: string;
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
  containerStatuses?: ContainerStatus[];
  initContainerStatuses?: ContainerStatus[];
}
export type Pod = KubeObject & { status?: PodStatus; spec?: { nodeName?: string } & Record<string, unknown> };

const IMAGE_REASONS = ['ErrImagePull', 'ImagePullBackOff', 'ErrImageNeverPull', 'InvalidImageName'];
const CONFIG_REASONS = ['CreateContainerConfigError', 'CreateContainerError'];
/** Waiting reasons that will not fix themselves, and the failure id each one is. */
const STUCK_REASONS = new Map<string, PodFailureId>([
  ...IMAGE_REASONS.map((r) => [r, 'pods.image'] as const),
  ...CONFIG_REASONS.map((r) => [r, 'pods.config'] as const),
]);

/** Everything wrong with one pod that will not fix itself, most specific reason first. */
export function podFailures(pod: Pod): PodFailure[] {
  const name = pod.metadata.name;
  const base = { object: `pod/${name}`, pod: name };
  const out: PodFailure[] = [];
  const st = pod.status ?? {};
  const sched = st.conditions?.find((c) => c.type === 'PodScheduled');
  if (sched?.status === 'False' && sched.reason === 'Unschedulable') {
    out.push({
      ...base,
      id: 'pods.pending',
      init: false,
      reason: 'Unschedulable',
      message: sched.message ?? 'pod cannot be scheduled',
      previousLogs: false,
    });
    return out;
  }
  for (const [init, list] of [
    [true, st.initContainerStatuses ?? []],
    [false, st.containerStatuses ?? []],
  ] as const) {
    for (const cs of list) {
      const f = containerFailure(cs, init);
      if (f) out.push({ ...base, ...f, container: cs.name, init });
    }
  }
  return out;
}

function containerFailure(
  cs: ContainerStatus,
  init: boolean,
): Omit<PodFailure, 'object' | 'pod' | 'container' | 'init'> | undefined {
  const waiting = cs.state?.waiting;
  const term = cs.state?.terminated;
  const last = cs.lastState?.terminated;
  const restarted = (cs.restartCount ?? 0) > 0;
  if (
    term?.reason === 'OOMKilled' ||
    (last?.reason === 'OOMKilled' && waiting?.reason === 'CrashLoopBackOff')
  ) {
    return {
      id: 'pods.oom',
      reason: 'OOMKilled',
      message: 'container was killed for exceeding its memory limit',
      previousLogs: !term,
    };
  }
  const stuck = waiting?.reason ? STUCK_REASONS.get(waiting.reason) : undefined;
  if (waiting?.reason && stuck) {
    return {
      id: stuck,
      reason: waiting.reason,
      message: waiting.message ?? waiting.reason,
      previousLogs: false,
    };
  }
  if (waiting?.reason === 'CrashLoopBackOff') {
    const exit = last?.exitCode === undefined ? '' : ` (exit code ${last.exitCode})`;
    return {
      id: init ? 'pods.init' : 'pods.crashloop',
      reason: 'CrashLoopBackOff',
      message: `container keeps crashing${exit}; restarted ${cs.restartCount ?? 0} time(s)`,
      previousLogs: restarted,
    };
  }
  if (init && term && term.exitCode !== undefined && term.exitCode !== 0) {
    return {
      id: 'pods.init',
      reason: term.reason ?? 'Error',
      message: `init container exited with code ${term.exitCode}`,
      previousLogs: false,
    };
  }
  return undefined;
}

/** Whether the pod's Ready condition is true. */
export function isPodReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** The init container a pod is currently stuck in (running or waiting), if any. */
export function pendingInitContainer(pod: Pod): string | undefined {
  for (const cs of pod.status?.initContainerStatuses ?? []) {
    if (!cs.state?.terminated || cs.state.terminated.exitCode !== 0) return cs.name;
  }
  return undefined;
}

/** The `app.kubernetes.io/component` label of an object. */
export function componentOf(obj: KubeObject): string | undefined {
  return obj.metadata.labels?.['app.kubernetes.io/component'];
}
