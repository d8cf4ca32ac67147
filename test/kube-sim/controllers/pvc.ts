// Volume controller: a claim of an existing StorageClass gets a PersistentVolume and is Bound;
// a claim of a missing class stays Pending with ProvisioningFailed events. Deleted claims wait
// while a pod uses them (pvc-protection), then take their volume (and its data) with them.
import type { Cluster } from '../cluster.ts';
import { typeByKind } from '../resources.ts';
import type { StoreEvent } from '../store.ts';
import { getPath, makeObject, nowTimestamp, type JsonObject, type KObject } from '../types.ts';
import { WorkQueue } from './queue.ts';
import { isActive, keyOf, splitKey } from './util.ts';

const PVC = typeByKind('PersistentVolumeClaim');
const PV = typeByKind('PersistentVolume');
const SC = typeByKind('StorageClass');
const POD = typeByKind('Pod');
const PROTECTION = 'kubernetes.io/pvc-protection';

/** Runs the volume controller; `onClaimDeleted` is told when a claim's data is gone. */
export class VolumeController {
  readonly queue: WorkQueue;

  constructor(
    private readonly cluster: Cluster,
    private readonly onClaimDeleted: (namespace: string, name: string) => void,
  ) {
    this.queue = new WorkQueue((k) => this.reconcile(k));
  }

  /** Reacts to claims, storage classes (a new class may bind pending claims) and pods. */
  onEvent(e: StoreEvent): void {
    if (e.rt === PVC) {
      if (e.type === 'DELETED') this.claimGone(e.object);
      else this.queue.add(keyOf(e.object));
    } else if (e.rt === SC) {
      for (const c of this.cluster.store.list(PVC)) this.queue.add(keyOf(c));
    } else if (e.rt === POD && (e.type === 'DELETED' || !isActive(e.object))) {
      for (const v of ((e.object.spec as JsonObject | undefined)?.volumes ?? []) as JsonObject[]) {
        const claim = getPath(v, ['persistentVolumeClaim', 'claimName']);
        if (typeof claim === 'string') this.queue.add(`${e.object.metadata.namespace ?? ''}/${claim}`);
      }
    }
  }

  private inUse(ns: string | undefined, name: string): boolean {
    return this.cluster.store
      .list(POD, { namespace: ns ?? '' })
      .some(
        (p) =>
          (p.status as JsonObject | undefined)?.phase !== 'Succeeded' &&
          (p.status as JsonObject | undefined)?.phase !== 'Failed' &&
          (((p.spec as JsonObject).volumes ?? []) as JsonObject[]).some(
            (v) => getPath(v, ['persistentVolumeClaim', 'claimName']) === name,
          ),
      );
  }

  private reconcile(key: string): void {
    const [ns, name] = splitKey(key);
    const pvc = this.cluster.store.get(PVC, ns, name);
    if (!pvc) return;
    if (pvc.metadata.deletionTimestamp) {
      if (this.inUse(ns, name)) return;
      this.cluster.store.mutate(
        PVC,
        ns,
        name,
        (c) => {
          c.metadata.finalizers = (c.metadata.finalizers ?? []).filter((f) => f !== PROTECTION);
          if (!c.metadata.finalizers.length) delete c.metadata.finalizers;
        },
        { internal: true },
      );
      return;
    }
    if ((pvc.status as JsonObject | undefined)?.phase === 'Bound') return;
    const spec = pvc.spec as JsonObject;
    const className = spec.storageClassName;
    if (className === '' || className === undefined) {
      this.cluster.events.record(
        pvc,
        'Normal',
        'FailedBinding',
        'no persistent volumes available for this claim and no storage class is set',
        'persistentvolume-controller',
      );
      return;
    }
    const sc = this.cluster.store.get(SC, undefined, String(className));
    if (!sc) {
      this.cluster.events.record(
        pvc,
        'Warning',
        'ProvisioningFailed',
        `storageclass.storage.k8s.io "${String(className)}" not found`,
        'persistentvolume-controller',
      );
      return;
    }
    this.provision(pvc, sc);
  }

  private provision(pvc: KObject, sc: KObject): void {
    const spec = pvc.spec as JsonObject;
    const ns = pvc.metadata.namespace;
    const pvName = `pvc-${pvc.metadata.uid}`;
    const storage = getPath(spec, ['resources', 'requests', 'storage']) ?? '1Gi';
    const provisioner = String(sc.provisioner ?? 'kube-sim.io/hostpath');
    this.cluster.events.record(
      pvc,
      'Normal',
      'Provisioning',
      `External provisioner is provisioning volume for claim "${ns ?? ''}/${pvc.metadata.name}"`,
      `${provisioner}_kube-sim`,
    );
    if (!this.cluster.store.get(PV, undefined, pvName)) {
      this.cluster.create(
        PV,
        makeObject(
          'v1',
          'PersistentVolume',
          { name: pvName, annotations: { 'pv.kubernetes.io/provisioned-by': provisioner } },
          {
            spec: {
              capacity: { storage },
              accessModes: spec.accessModes ?? ['ReadWriteOnce'],
              persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? 'Delete',
              storageClassName: sc.metadata.name,
              volumeMode: spec.volumeMode ?? 'Filesystem',
              hostPath: { path: `/var/lib/kube-sim/${pvName}`, type: '' },
              claimRef: {
                kind: 'PersistentVolumeClaim',
                apiVersion: 'v1',
                namespace: ns,
                name: pvc.metadata.name,
                uid: pvc.metadata.uid,
                resourceVersion: pvc.metadata.resourceVersion,
              },
            },
          },
        ),
      );
      this.cluster.store.mutate(
        PV,
        undefined,
        pvName,
        (pv) => {
          pv.status = { phase: 'Bound', lastPhaseTransitionTime: nowTimestamp() };
        },
        { subresource: 'status' },
      );
    }
    this.cluster.store.mutate(PVC, ns, pvc.metadata.name, (c) => {
      (c.spec as JsonObject).volumeName = pvName;
      c.metadata.annotations = {
        ...c.metadata.annotations,
        'pv.kubernetes.io/bind-completed': 'yes',
        'pv.kubernetes.io/bound-by-controller': 'yes',
        'volume.beta.kubernetes.io/storage-provisioner': provisioner,
        'volume.kubernetes.io/storage-provisioner': provisioner,
      };
    });
    this.cluster.store.mutate(
      PVC,
      ns,
      pvc.metadata.name,
      (c) => {
        c.status = {
          phase: 'Bound',
          accessModes: spec.accessModes ?? ['ReadWriteOnce'],
          capacity: { storage },
        };
      },
      { subresource: 'status' },
    );
    this.cluster.events.record(
      pvc,
      'Normal',
      'ProvisioningSucceeded',
      `Successfully provisioned volume ${pvName}`,
      `${provisioner}_kube-sim`,
    );
  }

  private claimGone(pvc: KObject): void {
    const volume = (pvc.spec as JsonObject | undefined)?.volumeName;
    if (typeof volume === 'string') {
      const pv = this.cluster.store.get(PV, undefined, volume);
      if (pv && (pv.spec as JsonObject).persistentVolumeReclaimPolicy !== 'Retain') {
        this.cluster.store.remove(PV, undefined, volume);
      } else if (pv) {
        this.cluster.store.mutate(
          PV,
          undefined,
          volume,
          (x) => {
            x.status = { phase: 'Released' };
          },
          { subresource: 'status' },
        );
      }
    }
    this.onClaimDeleted(pvc.metadata.namespace ?? '', pvc.metadata.name);
  }
}
