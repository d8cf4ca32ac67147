// ReplicaSet controller: keeps `replicas` active pods from the template, reports replica
// counts (ready and available) in the status.
import type { Cluster } from '../cluster.ts';
import { typeByKind } from '../resources.ts';
import type { StoreEvent } from '../store.ts';
import { controllerOf, type JsonObject, type KObject } from '../types.ts';
import { createPodFromTemplate } from './pods.ts';
import { WorkQueue } from './queue.ts';
import { isActive, isReady, keyOf, ownedBy, sameJson, splitKey } from './util.ts';

const RS = typeByKind('ReplicaSet');
const POD = typeByKind('Pod');

/** Runs the ReplicaSet controller. */
export class ReplicaSetController {
  readonly queue: WorkQueue;

  constructor(private readonly cluster: Cluster) {
    this.queue = new WorkQueue((k) => this.reconcile(k));
  }

  /** Reacts to ReplicaSets and to their pods. */
  onEvent(e: StoreEvent): void {
    if (e.rt === RS) this.queue.add(keyOf(e.object));
    else if (e.rt === POD) {
      const owner = controllerOf(e.object);
      if (owner?.kind === 'ReplicaSet') this.queue.add(`${e.object.metadata.namespace ?? ''}/${owner.name}`);
    }
  }

  private reconcile(key: string): void {
    const [ns, name] = splitKey(key);
    const rs = this.cluster.store.get(RS, ns, name);
    if (!rs || rs.metadata.deletionTimestamp) return;
    const spec = rs.spec as JsonObject;
    const want = typeof spec.replicas === 'number' ? spec.replicas : 1;
    const pods = ownedBy(this.cluster.store.list(POD, { namespace: ns }), rs);
    const active = pods.filter(isActive);
    // Finished pods of a ReplicaSet (restartPolicy Always never finishes normally) are replaced.
    for (const p of pods.filter((p) => !isActive(p) && !p.metadata.deletionTimestamp)) {
      this.cluster.delete(POD, ns, p.metadata.name, { gracePeriodSeconds: 0 });
    }
    if (active.length < want) {
      for (let i = active.length; i < want; i++) {
        const pod = createPodFromTemplate(this.cluster, rs, spec.template as JsonObject, {
          component: 'replicaset-controller',
        });
        if (pod) active.push(pod);
      }
    } else if (active.length > want) {
      // Not-ready and younger pods go first, as in the real controller.
      const victims = [...active]
        .sort(
          (a, b) =>
            Number(isReady(a)) - Number(isReady(b)) ||
            b.metadata.creationTimestamp.localeCompare(a.metadata.creationTimestamp),
        )
        .slice(0, active.length - want);
      for (const v of victims) {
        this.cluster.delete(POD, ns, v.metadata.name, {});
        this.cluster.events.record(
          rs,
          'Normal',
          'SuccessfulDelete',
          `Deleted pod: ${v.metadata.name}`,
          'replicaset-controller',
        );
      }
      active.splice(0, active.length, ...active.filter((a) => !victims.includes(a)));
    }
    this.updateStatus(rs, active);
  }

  private updateStatus(rs: KObject, active: KObject[]): void {
    const ready = active.filter(isReady).length;
    const status: JsonObject = {
      replicas: active.length,
      fullyLabeledReplicas: active.length,
      readyReplicas: ready,
      availableReplicas: ready,
      observedGeneration: rs.metadata.generation,
    };
    for (const k of ['fullyLabeledReplicas', 'readyReplicas', 'availableReplicas'])
      if (status[k] === 0) delete status[k];
    if (sameJson(status, rs.status)) return;
    rs.status = status;
    this.cluster.update(RS, rs, { subresource: 'status' });
  }
}
