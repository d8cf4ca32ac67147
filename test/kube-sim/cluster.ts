// One simulated cluster's state: the store, watches, events, admission (defaults and
// validation) and deletion; controllers and the kubelet work through it.
import { randomUUID } from 'node:crypto';
import { applyDefaults } from './defaults.ts';
import { deleteObject, type DeleteOptions } from './deletion.ts';
import { EventRecorder } from './events.ts';
import { FaultInjector } from './faults.ts';
import { type AddressBlock, unclaimedBlock } from './network/addresses.ts';
import { typeByKind, type ResourceType } from './resources.ts';
import type { Scenario } from './scenario.ts';
import { Store, type WriteOptions } from './store.ts';
import { ensurePath, isObject, type JsonObject, type KObject } from './types.ts';
import { validate } from './validation.ts';
import { WatchHub } from './watch.ts';

/** The shared state every part of the simulated cluster works on. */
export class Cluster {
  readonly store = new Store();
  readonly hub = new WatchHub(this.store);
  readonly events = new EventRecorder(this.store);
  /** Images pods pulled onto the node (its status.images lists them with the scenario's nodeImages). */
  readonly pulledImages = new Set<string>();
  /** The API server's injected faults, from the scenario's `api` section as it is now. */
  readonly faults = new FaultInjector(() => this.scenario.api);
  private nextNodePort = 30000;

  constructor(
    public scenario: Scenario,
    /** pod and Service IPs (network/addresses.ts) */
    readonly addresses: AddressBlock = unclaimedBlock(),
  ) {}

  /** The name of the default StorageClass, if one exists. */
  defaultStorageClass(): string | undefined {
    return this.store
      .list(typeByKind('StorageClass'))
      .find((sc) => sc.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true')
      ?.metadata.name;
  }

  /** Admits and stores a new object (defaults, generated fields, validation). */
  create(rt: ResourceType, input: KObject, opts: WriteOptions = {}): KObject {
    const o: KObject = { ...input, metadata: { ...input.metadata, uid: randomUUID() } };
    applyDefaults(o, this.defaultStorageClass());
    this.admitNew(rt, o);
    validate(rt, o);
    return this.store.create(rt, o, opts);
  }

  /** Admits and stores a changed object; the status subresource skips defaulting. */
  update(rt: ResourceType, o: KObject, opts: WriteOptions = {}): KObject {
    if (opts.subresource !== 'status') {
      const old = this.store.mustGet(rt, o.metadata.namespace, o.metadata.name);
      applyDefaults(o, this.defaultStorageClass());
      if (rt.kind === 'Job') this.jobSelector(o);
      validate(rt, o, old);
    }
    return this.store.update(rt, o, opts);
  }

  /** Reads, changes and writes an object (undefined when it is gone). */
  mutate(
    rt: ResourceType,
    ns: string | undefined,
    name: string,
    fn: (o: KObject) => void | false,
    opts: WriteOptions = {},
  ): KObject | undefined {
    const cur = this.store.get(rt, ns, name);
    if (!cur) return undefined;
    if (fn(cur) === false) return cur;
    return this.update(rt, cur, opts);
  }

  /** Deletes an object the way the API does (finalizers, propagation, graceful pods). */
  delete(rt: ResourceType, ns: string | undefined, name: string, opts: DeleteOptions = {}): KObject {
    return deleteObject(this, rt, ns, name, opts);
  }

  private jobSelector(o: KObject): void {
    const spec = ensurePath(o, ['spec']);
    if (spec.manualSelector === true) return;
    const uid = o.metadata.uid;
    const tplMeta = ensurePath(spec, ['template', 'metadata']);
    const labels = (tplMeta.labels ?? {}) as Record<string, string>;
    const controllerUid = labels['batch.kubernetes.io/controller-uid'] ?? uid;
    tplMeta.labels = {
      ...labels,
      'batch.kubernetes.io/controller-uid': controllerUid,
      'batch.kubernetes.io/job-name': o.metadata.name,
      'controller-uid': controllerUid,
      'job-name': o.metadata.name,
    };
    if (!isObject(spec.selector))
      spec.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': controllerUid } };
  }

  private admitNew(rt: ResourceType, o: KObject): void {
    const meta = o.metadata;
    switch (rt.kind) {
      case 'Job':
        this.jobSelector(o);
        break;
      case 'Service': {
        const spec = ensurePath(o, ['spec']);
        if (spec.clusterIP === undefined || spec.clusterIP === '')
          spec.clusterIP = this.addresses.serviceIp();
        spec.clusterIPs = [spec.clusterIP];
        if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
          for (const p of Array.isArray(spec.ports) ? (spec.ports as JsonObject[]) : [])
            p.nodePort ??= this.nextNodePort++;
        }
        o.status = { loadBalancer: {} };
        break;
      }
      case 'PersistentVolumeClaim':
        meta.finalizers = [...new Set([...(meta.finalizers ?? []), 'kubernetes.io/pvc-protection'])];
        o.status = { phase: 'Pending' };
        break;
      case 'PersistentVolume':
        meta.finalizers = [...new Set([...(meta.finalizers ?? []), 'kubernetes.io/pv-protection'])];
        break;
      case 'Namespace':
        o.status = { phase: 'Active' };
        break;
      case 'Pod':
        o.status = { phase: 'Pending', qosClass: 'BestEffort' };
        break;
      default:
        if (
          rt.hasStatus &&
          o.status === undefined &&
          ['Deployment', 'StatefulSet', 'ReplicaSet', 'DaemonSet', 'Job', 'CronJob'].includes(rt.kind)
        )
          o.status = {};
    }
  }
}
