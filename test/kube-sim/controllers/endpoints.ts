// Endpoints and EndpointSlice controller: the ready (and not-ready) pods behind each Service
// selector, with target ports resolved from the pods' named container ports.
import type { Cluster } from '../cluster.ts';
import { typeByKind } from '../resources.ts';
import { fromMap, matchesLabels } from '../selectors.ts';
import type { StoreEvent } from '../store.ts';
import { controllerRef, isObject, makeObject, type JsonObject, type KObject } from '../types.ts';
import { WorkQueue } from './queue.ts';
import { isReady, keyOf, sameJson, splitKey } from './util.ts';

const SVC = typeByKind('Service');
const POD = typeByKind('Pod');
const EP = typeByKind('Endpoints');
const SLICE = typeByKind('EndpointSlice');

function targetPort(pod: KObject, port: JsonObject): number | undefined {
  const t = port.targetPort ?? port.port;
  if (typeof t === 'number') return t;
  for (const c of ((pod.spec as JsonObject).containers ?? []) as JsonObject[]) {
    for (const p of (c.ports ?? []) as JsonObject[]) if (p.name === t) return Number(p.containerPort);
  }
  return undefined;
}

/** Runs the endpoints controller. */
export class EndpointsController {
  readonly queue: WorkQueue;

  constructor(private readonly cluster: Cluster) {
    this.queue = new WorkQueue((k) => this.reconcile(k));
  }

  /** Reacts to Services and to pods in their namespaces. */
  onEvent(e: StoreEvent): void {
    if (e.rt === SVC) this.queue.add(keyOf(e.object));
    else if (e.rt === POD) {
      for (const s of this.cluster.store.list(SVC, { namespace: e.object.metadata.namespace ?? '' }))
        this.queue.add(keyOf(s));
    }
  }

  private reconcile(key: string): void {
    const [ns, name] = splitKey(key);
    const svc = this.cluster.store.get(SVC, ns, name);
    if (!svc || svc.metadata.deletionTimestamp) return;
    const sel = fromMap((svc.spec as JsonObject).selector);
    if (!sel) return;
    const pods = this.cluster.store
      .list(POD, { namespace: ns })
      .filter(
        (p) =>
          matchesLabels(sel, p.metadata.labels) &&
          isObject(p.status) &&
          p.status.podIP &&
          !p.metadata.deletionTimestamp,
      );
    const ports = ((svc.spec as JsonObject).ports ?? []) as JsonObject[];
    const address = (p: KObject): JsonObject => ({
      ip: (p.status as JsonObject).podIP,
      nodeName: (p.spec as JsonObject).nodeName,
      targetRef: { kind: 'Pod', namespace: ns, name: p.metadata.name, uid: p.metadata.uid },
    });
    const ready = pods.filter(isReady);
    const notReady = pods.filter((p) => !isReady(p));
    const epPorts = ports.map((sp) => ({
      ...(sp.name !== undefined && { name: sp.name }),
      port: (pods[0] && targetPort(pods[0], sp)) ?? sp.port,
      protocol: sp.protocol ?? 'TCP',
    }));
    const subsets = pods.length
      ? [
          {
            ...(ready.length && { addresses: ready.map(address) }),
            ...(notReady.length && { notReadyAddresses: notReady.map(address) }),
            ports: epPorts,
          },
        ]
      : undefined;
    this.write(
      EP,
      ns,
      name,
      makeObject(
        'v1',
        'Endpoints',
        { name, namespace: ns, labels: svc.metadata.labels ?? {} },
        subsets ? { subsets } : {},
      ),
    );
    const sliceName = `${name}-kubesim`;
    this.write(
      SLICE,
      ns,
      sliceName,
      makeObject(
        'discovery.k8s.io/v1',
        'EndpointSlice',
        {
          name: sliceName,
          namespace: ns,
          labels: {
            ...svc.metadata.labels,
            'kubernetes.io/service-name': name,
            'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
          },
          ownerReferences: [controllerRef(svc)],
        },
        {
          addressType: 'IPv4',
          endpoints: pods.map((p) => ({
            addresses: [(p.status as JsonObject).podIP],
            conditions: { ready: isReady(p), serving: isReady(p), terminating: false },
            nodeName: (p.spec as JsonObject).nodeName,
            targetRef: { kind: 'Pod', namespace: ns, name: p.metadata.name, uid: p.metadata.uid },
          })),
          ports: epPorts,
        },
      ),
    );
  }

  private write(rt: typeof EP, ns: string | undefined, name: string, want: KObject): void {
    const cur = this.cluster.store.get(rt, ns, name);
    if (!cur) {
      this.cluster.store.create(rt, want);
      return;
    }
    const { metadata: _a, ...wantBody } = want;
    const { metadata: _b, ...curBody } = cur;
    if (sameJson(wantBody, curBody) && sameJson(want.metadata.labels, cur.metadata.labels)) return;
    this.cluster.store.update(rt, {
      ...wantBody,
      metadata: { ...cur.metadata, labels: want.metadata.labels ?? {} },
    } as KObject);
  }
}
