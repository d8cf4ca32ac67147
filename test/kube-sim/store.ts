// The in-memory object store: one map per resource type, a global resourceVersion counter,
// optimistic concurrency, generation bumps on spec changes, and a change feed for watches and
// controllers.
import { randomUUID } from 'node:crypto';
import { qualifiedName, typeKey, typeByKind, type ResourceType } from './resources.ts';
import { KubeSimError } from './runtime.ts';
import { matchesFields, matchesLabels, type FieldSelector, type Selector } from './selectors.ts';
import { clone, nowTimestamp, randomSuffix, type KObject } from './types.ts';

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One change to the store, as watches and controllers see it. */
export interface StoreEvent {
  type: ChangeType;
  rt: ResourceType;
  object: KObject;
  /** The object before the change (MODIFIED and DELETED). */
  old?: KObject;
  rv: number;
}

export interface ListOptions {
  namespace?: string;
  labels?: Selector;
  fields?: FieldSelector;
}

/** Write options shared by create/update. */
export interface WriteOptions {
  dryRun?: boolean;
  /** Write the status subresource: only `status` changes. */
  subresource?: 'status';
  /** A server-internal write: status and deletion marks are taken from the input as they are. */
  internal?: boolean;
}

function nsName(ns: string | undefined, name: string): string {
  return `${ns ?? ''}/${name}`;
}

/** A "not found" error in the API server's words. */
export function notFound(rt: ResourceType, name: string): KubeSimError {
  return new KubeSimError(404, `${qualifiedName(rt)} "${name}" not found`);
}

/** A conflict error in the API server's words. */
export function conflict(rt: ResourceType, name: string): KubeSimError {
  return new KubeSimError(
    409,
    `Operation cannot be fulfilled on ${qualifiedName(rt)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    'Conflict',
  );
}

function specChanged(a: KObject, b: KObject): boolean {
  const strip = (o: KObject): string => {
    const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = o;
    return JSON.stringify(rest);
  };
  return strip(a) !== strip(b);
}

// Kinds whose metadata.generation counts spec changes (observedGeneration is compared to it).
const GENERATION_KINDS = new Set([
  'Deployment',
  'ReplicaSet',
  'StatefulSet',
  'DaemonSet',
  'Job',
  'CronJob',
  'Pod',
  'HorizontalPodAutoscaler',
  'PodDisruptionBudget',
  'Ingress',
  'NetworkPolicy',
  'CustomResourceDefinition',
  'ReplicationController',
]);

/** Is an object marked for deletion with nothing left holding it (finalizers, graceful pods)? */
function readyToGo(o: KObject): boolean {
  if (!o.metadata.deletionTimestamp || (o.metadata.finalizers ?? []).length) return false;
  if (o.kind === 'Pod' && (o.metadata.deletionGracePeriodSeconds ?? 0) > 0) return false;
  const specFinalizers = (o.spec as { finalizers?: string[] } | undefined)?.finalizers;
  return !(o.kind === 'Namespace' && specFinalizers?.length);
}

/** The object store of one simulated cluster. */
export class Store {
  private readonly objects = new Map<string, Map<string, KObject>>();
  private rv = 1000;
  private readonly listeners = new Set<(e: StoreEvent) => void>();

  /** The latest resourceVersion handed out. */
  currentRv(): number {
    return this.rv;
  }

  /** Calls `fn` synchronously after every change. */
  subscribe(fn: (e: StoreEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private bucket(rt: ResourceType): Map<string, KObject> {
    const key = typeKey(rt);
    let b = this.objects.get(key);
    if (!b) this.objects.set(key, (b = new Map()));
    return b;
  }

  private emit(e: StoreEvent): void {
    for (const fn of this.listeners) fn(e);
  }

  /** A copy of one object, or undefined. */
  get(rt: ResourceType, namespace: string | undefined, name: string): KObject | undefined {
    const o = this.bucket(rt).get(nsName(rt.namespaced ? namespace : undefined, name));
    return o && clone(o);
  }

  /** A copy of one object; 404 when missing. */
  mustGet(rt: ResourceType, namespace: string | undefined, name: string): KObject {
    const o = this.get(rt, namespace, name);
    if (!o) throw notFound(rt, name);
    return o;
  }

  /** Copies of the matching objects, ordered by namespace then name. */
  list(rt: ResourceType, opts: ListOptions = {}): KObject[] {
    const out: KObject[] = [];
    for (const o of this.bucket(rt).values()) {
      if (opts.namespace && rt.namespaced && o.metadata.namespace !== opts.namespace) continue;
      if (opts.labels && !matchesLabels(opts.labels, o.metadata.labels)) continue;
      if (opts.fields && !matchesFields(opts.fields, o)) continue;
      out.push(clone(o));
    }
    return out.sort((a, b) =>
      nsName(a.metadata.namespace, a.metadata.name).localeCompare(
        nsName(b.metadata.namespace, b.metadata.name),
      ),
    );
  }

  private checkNamespace(rt: ResourceType, ns: string | undefined): void {
    if (!rt.namespaced) return;
    if (!ns)
      throw new KubeSimError(400, 'the server could not find the requested resource: namespace is required');
    const nsObj = this.bucket(typeByKind('Namespace')).get(nsName(undefined, ns));
    if (!nsObj) throw new KubeSimError(404, `namespaces "${ns}" not found`);
    if (nsObj.metadata.deletionTimestamp && rt.kind !== 'Event') {
      throw new KubeSimError(
        403,
        `${rt.plural} "${''}" is forbidden: unable to create new content in namespace ${ns} because it is being terminated`,
        'Forbidden',
      );
    }
  }

  /** Stores a new object: name from generateName, uid, resourceVersion, timestamps. */
  create(rt: ResourceType, input: KObject, opts: WriteOptions = {}): KObject {
    const obj = clone(input);
    const meta = obj.metadata;
    if (!rt.namespaced) delete meta.namespace;
    if (!meta.name && meta.generateName) {
      do meta.name = meta.generateName + randomSuffix();
      while (this.bucket(rt).has(nsName(meta.namespace, meta.name)));
    }
    if (!meta.name)
      throw new KubeSimError(
        422,
        `${rt.kind} "" is invalid: metadata.name: Required value: name or generateName is required`,
      );
    this.checkNamespace(rt, meta.namespace);
    const key = nsName(meta.namespace, meta.name);
    if (this.bucket(rt).has(key)) {
      throw new KubeSimError(409, `${qualifiedName(rt)} "${meta.name}" already exists`, 'AlreadyExists');
    }
    meta.uid ||= randomUUID();
    meta.creationTimestamp = nowTimestamp();
    delete meta.deletionTimestamp;
    if (GENERATION_KINDS.has(rt.kind)) meta.generation = 1;
    else delete meta.generation;
    if (opts.dryRun) return { ...obj, metadata: { ...meta, resourceVersion: String(this.rv) } };
    meta.resourceVersion = String(++this.rv);
    this.bucket(rt).set(key, obj);
    this.emit({ type: 'ADDED', rt, object: clone(obj), rv: this.rv });
    return clone(obj);
  }

  /**
   * Replaces an object. A resourceVersion in the input must match (409 otherwise). The main
   * resource keeps the stored status; the status subresource changes only the status.
   */
  update(rt: ResourceType, input: KObject, opts: WriteOptions = {}): KObject {
    const ns = rt.namespaced ? input.metadata.namespace : undefined;
    const key = nsName(ns, input.metadata.name);
    const old = this.bucket(rt).get(key);
    if (!old) throw notFound(rt, input.metadata.name);
    if (input.metadata.resourceVersion && input.metadata.resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(rt, input.metadata.name);
    }
    let obj: KObject;
    if (opts.subresource === 'status') {
      obj = { ...clone(old), status: clone(input.status) };
      if (input.status === undefined) delete obj.status;
    } else {
      obj = clone(input);
      if (rt.hasStatus && !opts.internal) {
        if (old.status === undefined) delete obj.status;
        else obj.status = clone(old.status);
      }
      const m = obj.metadata;
      m.uid = old.metadata.uid;
      m.creationTimestamp = old.metadata.creationTimestamp;
      if (!rt.namespaced) delete m.namespace;
      else m.namespace = old.metadata.namespace;
      if (opts.internal) {
        // deletion marks as given
      } else if (old.metadata.deletionTimestamp) {
        m.deletionTimestamp = old.metadata.deletionTimestamp;
        if (old.metadata.deletionGracePeriodSeconds !== undefined) {
          m.deletionGracePeriodSeconds = old.metadata.deletionGracePeriodSeconds;
        }
      } else {
        delete m.deletionTimestamp;
        delete m.deletionGracePeriodSeconds;
      }
      if (old.metadata.generation !== undefined) {
        m.generation = old.metadata.generation + (specChanged(old, obj) ? 1 : 0);
      }
    }
    obj.apiVersion = old.apiVersion;
    obj.kind = old.kind;
    if (
      JSON.stringify({ ...obj, metadata: { ...obj.metadata, resourceVersion: '' } }) ===
      JSON.stringify({ ...old, metadata: { ...old.metadata, resourceVersion: '' } })
    ) {
      // A no-op write keeps the resourceVersion and emits nothing, like the real server.
      return clone(old);
    }
    if (opts.dryRun)
      return { ...obj, metadata: { ...obj.metadata, resourceVersion: old.metadata.resourceVersion } };
    if (readyToGo(obj)) {
      return this.remove(rt, ns, obj.metadata.name) ?? obj;
    }
    obj.metadata.resourceVersion = String(++this.rv);
    this.bucket(rt).set(key, obj);
    this.emit({ type: 'MODIFIED', rt, object: clone(obj), old: clone(old), rv: this.rv });
    return clone(obj);
  }

  /** Removes an object from storage at once (after finalizers); undefined when already gone. */
  remove(rt: ResourceType, namespace: string | undefined, name: string): KObject | undefined {
    const key = nsName(rt.namespaced ? namespace : undefined, name);
    const old = this.bucket(rt).get(key);
    if (!old) return undefined;
    this.bucket(rt).delete(key);
    const gone = clone(old);
    gone.metadata.resourceVersion = String(++this.rv);
    this.emit({ type: 'DELETED', rt, object: clone(gone), old: clone(old), rv: this.rv });
    return gone;
  }

  /** Applies `fn` to a fresh copy and writes it back, retrying on conflicts. */
  mutate(
    rt: ResourceType,
    namespace: string | undefined,
    name: string,
    fn: (o: KObject) => void | false,
    opts: WriteOptions = {},
  ): KObject | undefined {
    const cur = this.get(rt, namespace, name);
    if (!cur) return undefined;
    if (fn(cur) === false) return cur;
    return this.update(rt, cur, opts);
  }
}
