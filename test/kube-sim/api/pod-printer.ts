// The READY/STATUS/RESTARTS cells of a pod, computed the way kubectl's pod printer does.
import { isObject, type JsonObject, type KObject } from '../types.ts';
import { age } from './age.ts';

interface ContainerState {
  waiting?: { reason?: string };
  running?: { startedAt?: string };
  terminated?: { reason?: string; exitCode?: number; signal?: number; finishedAt?: string };
}
interface ContainerStatus {
  name: string;
  ready?: boolean;
  started?: boolean;
  restartCount?: number;
  state?: ContainerState;
  lastState?: ContainerState;
}

function statuses(v: unknown): ContainerStatus[] {
  return Array.isArray(v) ? (v.filter(isObject) as unknown as ContainerStatus[]) : [];
}

/** The pod's [ready, status, restarts] cells. */
export function podCells(pod: KObject): [string, string, string] {
  const spec = (pod.spec ?? {}) as JsonObject;
  const status = (pod.status ?? {}) as JsonObject;
  const containers = Array.isArray(spec.containers) ? spec.containers : [];
  const initContainers = Array.isArray(spec.initContainers) ? spec.initContainers : [];
  let reason = String(status.reason ?? status.phase ?? 'Pending');
  let restarts = 0;
  let lastRestart = 0;
  let ready = 0;
  const noteRestart = (c: ContainerStatus): void => {
    restarts += c.restartCount ?? 0;
    const fin = c.lastState?.terminated?.finishedAt;
    if (fin) lastRestart = Math.max(lastRestart, Date.parse(fin));
  };
  let initializing = false;
  const inits = statuses(status.initContainerStatuses);
  for (let i = 0; i < inits.length; i++) {
    const c = inits[i];
    if (!c) continue;
    noteRestart(c);
    const t = c.state?.terminated;
    const w = c.state?.waiting;
    if (t && t.exitCode === 0) continue;
    if (t)
      reason = t.reason
        ? `Init:${t.reason}`
        : t.signal
          ? `Init:Signal:${t.signal}`
          : `Init:ExitCode:${t.exitCode ?? 0}`;
    else if (w?.reason && w.reason !== 'PodInitializing') reason = `Init:${w.reason}`;
    else reason = `Init:${i}/${initContainers.length}`;
    initializing = true;
    break;
  }
  const conditions = Array.isArray(status.conditions) ? status.conditions.filter(isObject) : [];
  const initialized = conditions.some((c) => c.type === 'Initialized' && c.status === 'True');
  if (!initializing || initialized) {
    let hasRunning = false;
    const cs = statuses(status.containerStatuses);
    for (let i = cs.length - 1; i >= 0; i--) {
      const c = cs[i];
      if (!c) continue;
      noteRestart(c);
      const w = c.state?.waiting;
      const t = c.state?.terminated;
      if (w?.reason) reason = w.reason;
      else if (t?.reason) reason = t.reason;
      else if (t) reason = t.signal ? `Signal:${t.signal}` : `ExitCode:${t.exitCode ?? 0}`;
      else if (c.ready && c.state?.running) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      reason = conditions.some((c) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
    }
  }
  const phase = status.phase;
  if (pod.metadata.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';
  const restartCell = lastRestart
    ? `${restarts} (${age(new Date(lastRestart).toISOString())} ago)`
    : String(restarts);
  return [`${ready}/${containers.length}`, reason, restartCell];
}
