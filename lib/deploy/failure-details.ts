import type { Kubectl } from '../kubectl.ts';
import { redact } from '../redact.ts';
import type { RolloutFailure } from './snapshot.ts';

/** A failure with what a user needs to fix it: the container's last log lines and its Warning events. */
export interface DetailedFailure extends RolloutFailure {
  logs: string;
  events: string[];
}

interface Event {
  involvedObject?: { kind?: string; name?: string };
  reason?: string;
  message?: string;
  count?: number;
  lastTimestamp?: string;
  eventTime?: string;
  series?: { count?: number };
}

// Image, config and scheduling failures have no container output worth reading.
const HAS_LOGS = new Set(['pods.crashloop', 'pods.oom', 'pods.init', 'rollout.timeout']);

/** Warning events as `Reason: message (xN)` per object name, oldest first. */
export function warningsByObject(events: Event[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const when = (e: Event) => Date.parse(e.lastTimestamp ?? e.eventTime ?? '') || 0;
  for (const e of [...events].sort((a, b) => when(a) - when(b))) {
    const name = e.involvedObject?.name;
    if (!name) continue;
    const n = e.series?.count ?? e.count ?? 1;
    const line = `${e.reason ?? 'Warning'}: ${(e.message ?? '').trim()}${n > 1 ? ` (x${n})` : ''}`;
    out.set(name, [...(out.get(name) ?? []), redact(line)]);
  }
  return out;
}

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
    .run(['get', 'events', '--field-selector', 'type=Warning', '-o', 'json'], { timeoutMs: 15_000 })
    .then((r) => (r.exitCode === 0 ? ((JSON.parse(r.stdout) as { items?: Event[] }).items ?? []) : []))
    .catch(() => [] as Event[]);
  const logs = await Promise.all(
    failures.map((f, i) => (i < max ? failureLogs(kubectl, f) : Promise.resolve(''))),
  );
  const events = warningsByObject(await eventsP);
  return failures.map((f, i) => {
    const name = f.pod ?? f.object.split('/')[1] ?? '';
    return { ...f, logs: logs[i] ?? '', events: (events.get(name) ?? []).slice(-10) };
  });
}
