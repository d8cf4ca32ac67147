import { redact } from './redact.ts';

/** A Kubernetes Event: the fields the suite reads (deploy's failure details, doctor). */
export interface KubeEvent {
  type?: string;
  involvedObject?: { kind?: string; name?: string };
  reason?: string;
  message?: string;
  count?: number;
  series?: { count?: number };
  lastTimestamp?: string;
  eventTime?: string;
  firstTimestamp?: string;
  metadata?: { creationTimestamp?: string };
}

/** kubectl arguments that list the namespace's Warning events as JSON. */
export const WARNING_EVENTS_ARGS = ['get', 'events', '--field-selector', 'type=Warning'];

/** When an event last happened (ms), 0 when unknown. */
export function eventTime(e: KubeEvent): number {
  return (
    Date.parse(e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp ?? '') || 0
  );
}

/** Warning events as `Reason: message (xN)` per object name, oldest first, secrets masked. */
export function warningsByObject(events: readonly KubeEvent[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const e of [...events].sort((a, b) => eventTime(a) - eventTime(b))) {
    const name = e.involvedObject?.name;
    if (!name) continue;
    const n = e.series?.count ?? e.count ?? 1;
    const line = `${e.reason ?? 'Warning'}: ${(e.message ?? '').trim()}${n > 1 ? ` (x${n})` : ''}`;
    out.set(name, [...(out.get(name) ?? []), redact(line)]);
  }
  return out;
}
