// Garbage collector: dependents whose owners are all gone are deleted (background); owners
// deleted in the foreground wait until their dependents are gone; orphaning strips the owner
// references. An index of owner uid -> dependents keeps it cheap.
import type { Cluster } from '../cluster.ts';
import { FOREGROUND, ORPHAN } from '../deletion.ts';
import { RESOURCE_TYPES, typeKey, type ResourceType } from '../resources.ts';
import type { StoreEvent } from '../store.ts';
import type { KObject } from '../types.ts';
import { WorkQueue } from './queue.ts';

const byKey = new Map(RESOURCE_TYPES.map((rt) => [typeKey(rt), rt]));

interface Ref {
  rt: ResourceType;
  ns: string | undefined;
  name: string;
}

const refKey = (r: Ref): string => `${typeKey(r.rt)}|${r.ns ?? ''}|${r.name}`;
function parseRef(k: string): Ref | undefined {
  const [t = '', ns = '', name = ''] = k.split('|');
  const rt = byKey.get(t);
  return rt && { rt, ns: ns || undefined, name };
}

/** Runs the garbage collector. */
export class GarbageCollector {
  readonly queue: WorkQueue;
  private readonly dependents = new Map<string, Set<string>>();
  private readonly alive = new Map<string, string>();

  constructor(private readonly cluster: Cluster) {
    this.queue = new WorkQueue((k) => this.process(k));
  }

  /** Keeps the owner index current and queues the work deletions cause. */
  onEvent(e: StoreEvent): void {
    const o = e.object;
    const ref = refKey({ rt: e.rt, ns: o.metadata.namespace, name: o.metadata.name });
    for (const owner of e.old?.metadata.ownerReferences ?? []) this.dependents.get(owner.uid)?.delete(ref);
    if (e.type === 'DELETED') {
      this.alive.delete(o.metadata.uid);
      for (const dep of this.dependents.get(o.metadata.uid) ?? []) this.queue.add(dep);
      return;
    }
    this.alive.set(o.metadata.uid, ref);
    for (const owner of o.metadata.ownerReferences ?? []) {
      let set = this.dependents.get(owner.uid);
      if (!set) this.dependents.set(owner.uid, (set = new Set()));
      set.add(ref);
      if (!this.alive.has(owner.uid)) this.queue.add(ref);
    }
    const fin = o.metadata.finalizers ?? [];
    if (o.metadata.deletionTimestamp && (fin.includes(FOREGROUND) || fin.includes(ORPHAN)))
      this.queue.add(ref);
  }

  private process(k: string): void {
    const r = parseRef(k);
    if (!r) return;
    const o = this.cluster.store.get(r.rt, r.ns, r.name);
    if (!o) return;
    const fin = o.metadata.finalizers ?? [];
    if (o.metadata.deletionTimestamp && fin.includes(ORPHAN)) return this.orphan(o, r);
    if (o.metadata.deletionTimestamp && fin.includes(FOREGROUND)) return this.foreground(o, r);
    const owners = o.metadata.ownerReferences ?? [];
    if (!owners.length || o.metadata.deletionTimestamp) return;
    const live = owners.filter((x) => this.alive.has(x.uid));
    if (live.length === 0) this.cluster.delete(r.rt, r.ns, r.name, { propagationPolicy: 'Background' });
    else if (live.length < owners.length) {
      this.cluster.store.mutate(r.rt, r.ns, r.name, (x) => {
        x.metadata.ownerReferences = live;
      });
    }
  }

  private deps(o: KObject): Ref[] {
    return [...(this.dependents.get(o.metadata.uid) ?? [])].map(parseRef).filter((x): x is Ref => !!x);
  }

  private orphan(o: KObject, r: Ref): void {
    for (const d of this.deps(o)) {
      this.cluster.store.mutate(d.rt, d.ns, d.name, (x) => {
        x.metadata.ownerReferences = (x.metadata.ownerReferences ?? []).filter(
          (ref) => ref.uid !== o.metadata.uid,
        );
        if (!x.metadata.ownerReferences.length) delete x.metadata.ownerReferences;
      });
    }
    this.dropFinalizer(r, ORPHAN);
  }

  private foreground(o: KObject, r: Ref): void {
    const deps = this.deps(o).filter((d) => this.cluster.store.get(d.rt, d.ns, d.name));
    for (const d of deps) {
      const dep = this.cluster.store.get(d.rt, d.ns, d.name);
      if (dep && !dep.metadata.deletionTimestamp)
        this.cluster.delete(d.rt, d.ns, d.name, { propagationPolicy: 'Foreground' });
    }
    if (deps.length) this.queue.addAfter(refKey(r), 50);
    else this.dropFinalizer(r, FOREGROUND);
  }

  private dropFinalizer(r: Ref, f: string): void {
    this.cluster.store.mutate(
      r.rt,
      r.ns,
      r.name,
      (x) => {
        x.metadata.finalizers = (x.metadata.finalizers ?? []).filter((y) => y !== f);
        if (!x.metadata.finalizers.length) delete x.metadata.finalizers;
      },
      { internal: true },
    );
  }
}
