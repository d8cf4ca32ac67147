// The event recorder: core/v1 Events about objects, with the count/lastTimestamp dedup of the
// real event correlator.
import { typeByKind } from './resources.ts';
import type { Store } from './store.ts';
import { nowTimestamp, type KObject } from './types.ts';

export type EventType = 'Normal' | 'Warning';

/** Records Events the way controllers and the kubelet do. */
export class EventRecorder {
  private readonly seen = new Map<string, { namespace: string; name: string }>();
  private readonly rt = typeByKind('Event');
  private counter = 0;

  constructor(private readonly store: Store) {}

  /** Records (or counts again) an event about `obj` from `component`. */
  record(
    obj: KObject,
    type: EventType,
    reason: string,
    message: string,
    component: string,
    fieldPath?: string,
  ): void {
    const namespace = obj.metadata.namespace ?? 'default';
    const key = `${obj.metadata.uid}|${reason}|${message}|${fieldPath ?? ''}|${type}`;
    const now = nowTimestamp();
    const prev = this.seen.get(key);
    try {
      if (prev) {
        const updated = this.store.mutate(this.rt, prev.namespace, prev.name, (e) => {
          e.count = (typeof e.count === 'number' ? e.count : 1) + 1;
          e.lastTimestamp = now;
        });
        if (updated) return;
      }
      const nsObj = this.store.get(typeByKind('Namespace'), undefined, namespace);
      if (!nsObj) return;
      // Like client-go's recorder: the suffix is the time in nanoseconds, so names sort by time.
      const name = `${obj.metadata.name}.${(BigInt(Date.now()) * 1_000_000n + BigInt(this.counter++ % 1_000_000)).toString(16)}`;
      this.store.create(this.rt, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace } as KObject['metadata'],
        involvedObject: {
          kind: obj.kind,
          namespace: obj.metadata.namespace,
          name: obj.metadata.name,
          uid: obj.metadata.uid,
          apiVersion: obj.apiVersion,
          resourceVersion: obj.metadata.resourceVersion,
          ...(fieldPath && { fieldPath }),
        },
        reason,
        message,
        source: { component, ...(component === 'kubelet' && { host: 'kube-sim' }) },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
        type,
        eventTime: null,
        reportingComponent: component,
        reportingInstance: component === 'kubelet' ? 'kube-sim' : '',
      });
      this.seen.set(key, { namespace, name });
    } catch {
      // Events are best effort, as on a real cluster (e.g. in a namespace being deleted).
    }
  }
}
