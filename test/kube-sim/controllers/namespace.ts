// Namespace controller: every namespace gets its `default` ServiceAccount and the
// kube-root-ca.crt ConfigMap; a deleted namespace stays Terminating until everything in it is
// gone, then disappears.
import type { Cluster } from '../cluster.ts';
import { RESOURCE_TYPES, typeByKind } from '../resources.ts';
import type { StoreEvent } from '../store.ts';
import { makeObject, type KObject } from '../types.ts';
import { WorkQueue } from './queue.ts';

const NS = typeByKind('Namespace');
const SA = typeByKind('ServiceAccount');
const CM = typeByKind('ConfigMap');
const MIN_TERMINATING_MS = 500;
const CA = '-----BEGIN CERTIFICATE-----\nMIIBkube-sim-not-a-real-ca\n-----END CERTIFICATE-----\n';

/** Runs the namespace controller. */
export class NamespaceController {
  readonly queue: WorkQueue;
  // When each namespace began terminating (deletionTimestamp has only second precision).
  private readonly terminating = new Map<string, number>();

  constructor(private readonly cluster: Cluster) {
    this.queue = new WorkQueue((k) => this.reconcile(k));
  }

  /** Reacts to namespaces, and to objects leaving a terminating namespace. */
  onEvent(e: StoreEvent): void {
    if (e.rt === NS && e.type !== 'DELETED') this.queue.add(e.object.metadata.name);
    else if (e.type === 'DELETED' && e.object.metadata.namespace) this.queue.add(e.object.metadata.namespace);
    else if (e.rt === SA && e.type === 'DELETED') this.queue.add(e.object.metadata.namespace ?? '');
  }

  private reconcile(name: string): void {
    const ns = this.cluster.store.get(NS, undefined, name);
    if (!ns) return;
    if (!ns.metadata.deletionTimestamp) return this.populate(ns);
    let remaining = 0;
    for (const rt of RESOURCE_TYPES) {
      if (!rt.namespaced) continue;
      for (const o of this.cluster.store.list(rt, { namespace: name })) {
        remaining++;
        if (!o.metadata.deletionTimestamp)
          this.cluster.delete(rt, name, o.metadata.name, { propagationPolicy: 'Background' });
      }
    }
    // A real namespace stays Terminating for a while (pods get their grace period); half a
    // second at least lets clients observe the phase.
    const started = this.terminating.get(ns.metadata.uid) ?? Date.now();
    this.terminating.set(ns.metadata.uid, started);
    const since = Date.now() - started;
    if (remaining > 0 || since < MIN_TERMINATING_MS) {
      this.queue.addAfter(name, remaining > 0 ? 100 : MIN_TERMINATING_MS - since);
      return;
    }
    this.terminating.delete(ns.metadata.uid);
    ns.spec = { ...(ns.spec as object), finalizers: [] };
    this.cluster.store.update(NS, ns, { internal: true });
  }

  private populate(ns: KObject): void {
    const name = ns.metadata.name;
    const { store } = this.cluster;
    if (!store.get(SA, name, 'default')) {
      store.create(SA, makeObject('v1', 'ServiceAccount', { name: 'default', namespace: name }));
    }
    if (!store.get(CM, name, 'kube-root-ca.crt')) {
      store.create(
        CM,
        makeObject(
          'v1',
          'ConfigMap',
          {
            name: 'kube-root-ca.crt',
            namespace: name,
            annotations: {
              'kubernetes.io/description':
                'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.',
            },
          },
          { data: { 'ca.crt': CA } },
        ),
      );
    }
  }
}
