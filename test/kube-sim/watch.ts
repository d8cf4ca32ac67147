// Watches: a bounded log of recent changes for resourceVersion replay (410 Gone beyond it),
// initial ADDED events, filtering by namespace/labels/fields (objects moving in or out of a
// filter appear as ADDED/DELETED), and bookmarks including the initial-events-end one.
import { typeKey, type ResourceType } from './resources.ts';
import { KubeSimError } from './runtime.ts';
import { matchesFields, matchesLabels, type FieldSelector, type Selector } from './selectors.ts';
import type { ChangeType, Store, StoreEvent } from './store.ts';
import type { KObject } from './types.ts';

export type WatchEventType = ChangeType | 'BOOKMARK';

export interface WatchEvent {
  type: WatchEventType;
  object: KObject;
}

export interface WatchOptions {
  namespace?: string;
  labels?: Selector;
  fields?: FieldSelector;
  /** Replay from here; undefined or "0" start with the current state as ADDED events. */
  resourceVersion?: string;
  sendInitialEvents?: boolean;
  allowBookmarks?: boolean;
}

interface Subscriber {
  rt: ResourceType;
  opts: WatchOptions;
  send: (e: WatchEvent) => void;
}

/** How many changes stay replayable; older resourceVersions get 410 Gone. */
const LOG_SIZE = 20_000;

/** The watch fan-out of one store. */
export class WatchHub {
  private log: StoreEvent[] = [];
  private oldest: number;
  private readonly subs = new Set<Subscriber>();

  constructor(private readonly store: Store) {
    this.oldest = store.currentRv();
    store.subscribe((e) => this.onChange(e));
  }

  private onChange(e: StoreEvent): void {
    this.log.push(e);
    if (this.log.length > LOG_SIZE) {
      const dropped = this.log.splice(0, this.log.length - LOG_SIZE);
      this.oldest = dropped[dropped.length - 1]?.rv ?? this.oldest;
    }
    for (const s of this.subs) deliver(s, e);
  }

  /** Forgets the replay log (tests use it to provoke 410 Gone). */
  compact(): void {
    this.log = [];
    this.oldest = this.store.currentRv();
  }

  /** Starts a watch; returns the function that ends it. Throws 410 for a too-old resourceVersion. */
  watch(rt: ResourceType, opts: WatchOptions, send: (e: WatchEvent) => void): () => void {
    const sub: Subscriber = { rt, opts, send };
    const rv = opts.resourceVersion;
    const fromState = opts.sendInitialEvents === true || !rv || rv === '0';
    if (fromState) {
      const listed = this.store.list(rt, {
        ...(opts.namespace && { namespace: opts.namespace }),
        ...(opts.labels && { labels: opts.labels }),
        ...(opts.fields && { fields: opts.fields }),
      });
      for (const o of listed) send({ type: 'ADDED', object: o });
      if (opts.sendInitialEvents) {
        send(bookmark(rt, this.store.currentRv(), true));
      }
    } else {
      const from = Number(rv);
      if (!Number.isFinite(from)) throw new KubeSimError(400, `invalid resource version "${rv}"`);
      if (from < this.oldest) {
        throw new KubeSimError(410, `too old resource version: ${from} (${this.oldest})`, 'Expired');
      }
      for (const e of this.log) if (e.rv > from) deliver(sub, e);
    }
    this.subs.add(sub);
    let timer: NodeJS.Timeout | undefined;
    if (opts.allowBookmarks) {
      // Real servers send one about every minute; a short period lets clients see them in tests.
      timer = setInterval(() => send(bookmark(rt, this.store.currentRv(), false)), 5_000);
      timer.unref();
    }
    return () => {
      if (timer) clearInterval(timer);
      this.subs.delete(sub);
    };
  }
}

function bookmark(rt: ResourceType, rv: number, initialEnd: boolean): WatchEvent {
  const apiVersion = rt.group ? `${rt.group}/${rt.version}` : rt.version;
  const metadata: Record<string, unknown> = { resourceVersion: String(rv) };
  if (initialEnd) metadata.annotations = { 'k8s.io/initial-events-end': 'true' };
  return { type: 'BOOKMARK', object: { apiVersion, kind: rt.kind, metadata } as unknown as KObject };
}

function matches(s: Subscriber, o: KObject | undefined): boolean {
  if (!o) return false;
  if (s.opts.namespace && s.rt.namespaced && o.metadata.namespace !== s.opts.namespace) return false;
  if (s.opts.labels && !matchesLabels(s.opts.labels, o.metadata.labels)) return false;
  if (s.opts.fields && !matchesFields(s.opts.fields, o)) return false;
  return true;
}

function deliver(s: Subscriber, e: StoreEvent): void {
  if (typeKey(e.rt) !== typeKey(s.rt)) return;
  const now = matches(s, e.object);
  if (e.type === 'ADDED') {
    if (now) s.send({ type: 'ADDED', object: e.object });
    return;
  }
  const before = matches(s, e.old);
  if (e.type === 'DELETED') {
    if (before || now) s.send({ type: 'DELETED', object: e.object });
    return;
  }
  if (before && now) s.send({ type: 'MODIFIED', object: e.object });
  else if (now) s.send({ type: 'ADDED', object: e.object });
  else if (before) s.send({ type: 'DELETED', object: e.object });
}
