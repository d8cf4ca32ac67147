// The PodStatus a kubelet reports: phase, conditions, IPs and container statuses.
import type { Condition } from '../controllers/util.ts';
import { nowTimestamp, type JsonObject } from '../types.ts';
import type { Container } from './container.ts';
import { HOST_IP } from './node.ts';
import type { PodWorker } from './pod-worker.ts';

function phase(w: PodWorker): string {
  if (!w.scheduled || !w.initialized) {
    const failedInit = w.containers.some(
      (c) => c.kind === 'init' && c.state.terminated && c.state.terminated.exitCode !== 0,
    );
    return failedInit && w.restartPolicy === 'Never' ? 'Failed' : 'Pending';
  }
  const mains = w.containers.filter((c) => c.kind === 'main');
  if (mains.some((c) => c.state.waiting && !c.lastState.terminated)) return 'Pending';
  if (mains.some((c) => c.state.running || c.state.waiting)) return 'Running';
  // Containers that will be restarted keep the pod Running between their runs.
  const restarts = (c: (typeof mains)[number]): boolean =>
    w.restartPolicy === 'Always' || (w.restartPolicy === 'OnFailure' && c.state.terminated?.exitCode !== 0);
  if (!w.stopping && mains.some(restarts)) return 'Running';
  return mains.every((c) => c.state.terminated?.exitCode === 0) ? 'Succeeded' : 'Failed';
}

function condition(
  prev: Condition[],
  type: string,
  ok: boolean,
  reason?: string,
  message?: string,
): Condition {
  const old = prev.find((c) => c.type === type);
  const status = ok ? 'True' : 'False';
  return {
    type,
    status,
    lastProbeTime: null,
    lastTransitionTime:
      old && old.status === status ? (old.lastTransitionTime ?? nowTimestamp()) : nowTimestamp(),
    ...(!ok && reason && { reason }),
    ...(!ok && message && { message }),
  };
}

/** The status document of a pod worker's pod. */
export function podStatus(w: PodWorker): JsonObject {
  const old = (w.object.status ?? {}) as JsonObject;
  const prev = (Array.isArray(old.conditions) ? old.conditions : []) as Condition[];
  const p = phase(w);
  const mains = w.containers.filter((c) => c.kind === 'main');
  const unready = mains.filter((c) => !c.ready).map((c) => c.name);
  const unfinished = w.containers
    .filter((c) => c.kind === 'init' && c.state.terminated?.exitCode !== 0)
    .map((c) => c.name);
  const done = p === 'Succeeded' || p === 'Failed';
  const notReadyReason = done ? 'PodCompleted' : 'ContainersNotReady';
  const notReadyMsg = done ? undefined : `containers with unready status: [${unready.join(' ')}]`;
  const conditions: Condition[] = w.scheduled
    ? [
        condition(prev, 'PodReadyToStartContainers', w.sandboxReady && !done),
        condition(
          prev,
          'Initialized',
          w.initialized,
          done ? 'PodCompleted' : 'ContainersNotInitialized',
          done ? undefined : `containers with incomplete status: [${unfinished.join(' ')}]`,
        ),
        condition(prev, 'Ready', unready.length === 0 && !done, notReadyReason, notReadyMsg),
        condition(prev, 'ContainersReady', unready.length === 0 && !done, notReadyReason, notReadyMsg),
        condition(prev, 'PodScheduled', true),
      ]
    : [condition(prev, 'PodScheduled', false, 'Unschedulable', w.unschedulable)];
  const statuses = (list: Container[]): JsonObject[] => list.map((c) => c.status());
  const inits = w.containers.filter((c) => c.kind !== 'main');
  return {
    phase: p,
    conditions,
    ...(w.scheduled && { hostIP: HOST_IP, hostIPs: [{ ip: HOST_IP }] }),
    ...(w.podIP && { podIP: w.podIP, podIPs: [{ ip: w.podIP }] }),
    ...(w.scheduled && { startTime: w.startTime }),
    ...(w.scheduled && inits.length > 0 && { initContainerStatuses: statuses(inits) }),
    ...(w.scheduled && { containerStatuses: statuses(mains) }),
    qosClass: old.qosClass ?? 'BestEffort',
  };
}
