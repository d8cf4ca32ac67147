// StatefulSet controller: ordinal pods (OrderedReady or Parallel), PVCs from
// volumeClaimTemplates (kept when the StatefulSet goes), ControllerRevisions, rolling updates
// from the highest ordinal down, and currentRevision/updateRevision in the status.
import type { Cluster } from '../cluster.ts';
import { typeByKind } from '../resources.ts';
import type { StoreEvent } from '../store.ts';
import { clone, controllerOf, controllerRef, makeObject, type JsonObject, type KObject } from '../types.ts';
import { createPodFromTemplate } from './pods.ts';
import { WorkQueue } from './queue.ts';
import { isActive, isReady, keyOf, ownedBy, sameJson, splitKey, templateHash } from './util.ts';

const STS = typeByKind('StatefulSet');
const POD = typeByKind('Pod');
const PVC = typeByKind('PersistentVolumeClaim');
const REV = typeByKind('ControllerRevision');
const HASH_LABEL = 'controller-revision-hash';

/** Runs the StatefulSet controller. */
export class StatefulSetController {
  readonly queue: WorkQueue;

  constructor(private readonly cluster: Cluster) {
    this.queue = new WorkQueue((k) => this.reconcile(k));
  }

  /** Reacts to StatefulSets and their pods. */
  onEvent(e: StoreEvent): void {
    if (e.rt === STS) this.queue.add(keyOf(e.object));
    else if (e.rt === POD) {
      const owner = controllerOf(e.object);
      if (owner?.kind === 'StatefulSet') this.queue.add(`${e.object.metadata.namespace ?? ''}/${owner.name}`);
    }
  }

  private revision(sts: KObject, hash: string): string {
    const name = `${sts.metadata.name}-${hash}`;
    const ns = sts.metadata.namespace;
    if (this.cluster.store.get(REV, ns, name)) return name;
    const revs = ownedBy(this.cluster.store.list(REV, { namespace: ns }), sts);
    const next = Math.max(0, ...revs.map((r) => Number(r.revision ?? 0))) + 1;
    const spec = sts.spec as JsonObject;
    this.cluster.create(
      REV,
      makeObject(
        'apps/v1',
        'ControllerRevision',
        {
          name,
          namespace: ns,
          labels: {
            ...((spec.selector as JsonObject | undefined)?.matchLabels as Record<string, string>),
            [HASH_LABEL]: hash,
          },
          ownerReferences: [controllerRef(sts)],
        },
        {
          revision: next,
          data: { spec: { template: { ...clone(spec.template as JsonObject), $patch: 'replace' } } },
        },
      ),
    );
    return name;
  }

  private reconcile(key: string): void {
    const [ns, name] = splitKey(key);
    const sts = this.cluster.store.get(STS, ns, name);
    if (!sts || sts.metadata.deletionTimestamp) return;
    const spec = sts.spec as JsonObject;
    const replicas = typeof spec.replicas === 'number' ? spec.replicas : 1;
    const template = spec.template as JsonObject;
    const updateRevision = this.revision(sts, templateHash(template));
    const parallel = spec.podManagementPolicy === 'Parallel';
    const pods = ownedBy(this.cluster.store.list(POD, { namespace: ns }), sts);
    const byOrdinal = new Map<number, KObject>();
    for (const p of pods) byOrdinal.set(Number(p.metadata.name.slice(name.length + 1)), p);

    for (const p of pods) {
      const ordinal = Number(p.metadata.name.slice(name.length + 1));
      if (ordinal >= replicas && !p.metadata.deletionTimestamp) {
        this.cluster.delete(POD, ns, p.metadata.name, {});
        this.cluster.events.record(
          sts,
          'Normal',
          'SuccessfulDelete',
          `delete Pod ${p.metadata.name} in StatefulSet ${name} successful`,
          'statefulset-controller',
        );
      } else if (!isActive(p) && !p.metadata.deletionTimestamp) {
        this.cluster.delete(POD, ns, p.metadata.name, { gracePeriodSeconds: 0 });
      }
    }
    let blocked = false;
    for (let i = 0; i < replicas && !blocked; i++) {
      const pod = byOrdinal.get(i);
      if (!pod) {
        this.createPod(sts, i, updateRevision);
        if (!parallel) blocked = true;
      } else if (!parallel && (!isReady(pod) || pod.metadata.deletionTimestamp)) blocked = true;
    }
    const current = pods.filter((p) => Number(p.metadata.name.slice(name.length + 1)) < replicas);
    const allReady =
      current.length === replicas && current.every((p) => isReady(p) && !p.metadata.deletionTimestamp);
    const partition =
      Number(
        (spec.updateStrategy as JsonObject | undefined)?.rollingUpdate &&
          ((spec.updateStrategy as JsonObject).rollingUpdate as JsonObject).partition,
      ) || 0;
    if (allReady && (spec.updateStrategy as JsonObject | undefined)?.type !== 'OnDelete') {
      const stale = current
        .filter(
          (p) =>
            p.metadata.labels?.[HASH_LABEL] !== updateRevision &&
            Number(p.metadata.name.slice(name.length + 1)) >= partition,
        )
        .sort((a, b) => b.metadata.name.localeCompare(a.metadata.name, undefined, { numeric: true }))[0];
      if (stale) this.cluster.delete(POD, ns, stale.metadata.name, {});
    }
    this.updateStatus(sts, updateRevision, current);
  }

  private createPod(sts: KObject, ordinal: number, revision: string): void {
    const spec = sts.spec as JsonObject;
    const name = `${sts.metadata.name}-${ordinal}`;
    const podSpec = clone((spec.template as JsonObject).spec) as JsonObject;
    const volumes = Array.isArray(podSpec.volumes) ? (podSpec.volumes as JsonObject[]) : [];
    for (const t of Array.isArray(spec.volumeClaimTemplates)
      ? (spec.volumeClaimTemplates as KObject[])
      : []) {
      const claim = `${t.metadata.name}-${sts.metadata.name}-${ordinal}`;
      this.ensureClaim(sts, t, claim, name);
      if (!volumes.some((v) => v.name === t.metadata.name))
        volumes.push({ name: t.metadata.name, persistentVolumeClaim: { claimName: claim } });
    }
    podSpec.volumes = volumes;
    podSpec.hostname = name;
    if (spec.serviceName) podSpec.subdomain = spec.serviceName;
    createPodFromTemplate(this.cluster, sts, spec.template as JsonObject, {
      name,
      labels: {
        [HASH_LABEL]: revision,
        'statefulset.kubernetes.io/pod-name': name,
        'apps.kubernetes.io/pod-index': String(ordinal),
      },
      spec: podSpec,
      component: 'statefulset-controller',
      message: (p) => `create Pod ${p} in StatefulSet ${sts.metadata.name} successful`,
    });
  }

  private ensureClaim(sts: KObject, t: KObject, claim: string, pod: string): void {
    const ns = sts.metadata.namespace;
    if (this.cluster.store.get(PVC, ns, claim)) return;
    const selector = ((sts.spec as JsonObject).selector as JsonObject | undefined)?.matchLabels as
      Record<string, string> | undefined;
    const { status: _s, ...rest } = clone(t);
    const policy = ((sts.spec as JsonObject).persistentVolumeClaimRetentionPolicy as JsonObject | undefined)
      ?.whenDeleted;
    this.cluster.create(
      PVC,
      makeObject(
        'v1',
        'PersistentVolumeClaim',
        {
          name: claim,
          namespace: ns,
          labels: { ...t.metadata.labels, ...selector },
          ...(t.metadata.annotations && { annotations: t.metadata.annotations }),
          ...(policy === 'Delete' && { ownerReferences: [{ ...controllerRef(sts), controller: false }] }),
        },
        { spec: rest.spec },
      ),
    );
    this.cluster.events.record(
      sts,
      'Normal',
      'SuccessfulCreate',
      `create Claim ${claim} Pod ${pod} in StatefulSet ${sts.metadata.name} success`,
      'statefulset-controller',
    );
  }

  private updateStatus(sts: KObject, updateRevision: string, pods: KObject[]): void {
    const old = (sts.status ?? {}) as JsonObject;
    const live = pods.filter((p) => !p.metadata.deletionTimestamp);
    const ready = live.filter(isReady).length;
    const updated = live.filter((p) => p.metadata.labels?.[HASH_LABEL] === updateRevision).length;
    const replicas =
      typeof (sts.spec as JsonObject).replicas === 'number'
        ? ((sts.spec as JsonObject).replicas as number)
        : 1;
    const done = updated === replicas && ready === replicas;
    const currentRevision = done || !old.currentRevision ? updateRevision : String(old.currentRevision);
    const status: JsonObject = {
      observedGeneration: sts.metadata.generation,
      replicas: live.length,
      readyReplicas: ready,
      currentReplicas: live.filter((p) => p.metadata.labels?.[HASH_LABEL] === currentRevision).length,
      updatedReplicas: updated,
      currentRevision,
      updateRevision,
      collisionCount: 0,
      availableReplicas: ready,
    };
    for (const k of ['readyReplicas', 'currentReplicas', 'updatedReplicas'])
      if (status[k] === 0) delete status[k];
    if (sameJson(status, sts.status)) return;
    sts.status = status;
    this.cluster.update(STS, sts, { subresource: 'status' });
  }
}
