import type { Kubectl } from '../kubectl.ts';
import { type KubeEvent, WARNING_EVENTS_ARGS, warningsByObject } from '../events.ts';
import type { RolloutFailure } from './snapshot.ts';

/** A failure with what a user needs to fix it: the container's last log lines and its Warning events. */
export interface DetailedFailure extends RolloutFailure {
  logs: string;
  events: string[];
}

// Image, config and scheduling failures have no container output worth reading.
const HAS_LOGS = new Set(['pods.crashloop', 'pods.oom', 'pods.init', 'rollout.timeout']);

/** The last 30 log lines of a failed container (the previous instance's when it restarted). */
export async function failureLogs(kubectl: Kubectl, f: RolloutFailure): Promise<string> {
  if (!f.pod || !f.container || !HAS_LOGS.has(f.id)) return '';
  const base = { container: f.container, tail: 30 };
  const logs = await kubectl.logs(f.pod, { ...base, previous: f.previousLogs });
  // A container that crashed once may not have a previous instance yet: its current output is the crash.
  if (logs.trim() === '' && f.previousLogs) return kubectl.logs(f.pod, base);
  return logs;
}

/**
 * Fetches logs (one call per failed container, in parallel) and Warning events (one call for the
 * namespace) for the failures; at most `max` failures get logs.
 */
export async function collectDetails(
  kubectl: Kubectl,
  failures: RolloutFailure[],
  max = 5,
): Promise<DetailedFailure[]> {
  const eventsP = kubectl
    .run([...WARNING_EVENTS_ARGS, '-o', 'json'], { timeoutMs: 15_000 })
    .then((r) => (r.exitCode === 0 ? ((JSON.parse(r.stdout) as { items?: KubeEvent[] }).items ?? []) : []))
    .catch(() => [] as KubeEvent[]);
  const logs = await Promise.all(
    failures.map((f, i) => (i < max ? failureLogs(kubectl, f) : Promise.resolve(''))),
  );
  const events = warningsByObject(await eventsP);
  return failures.map((f, i) => {
    const name = f.pod ?? f.object.split('/')[1] ?? '';
    return { ...f, logs: logs[i] ?? '', events: (events.get(name) ?? []).slice(-10) };
  });
}
