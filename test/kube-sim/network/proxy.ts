// A small kube-proxy: every TCP port of every ClusterIP Service listens on its cluster IP (loopback,
// network/addresses.ts) and hands each connection to one of the Service's ready endpoints, in turn,
// at the pod IP and target port its Endpoints name. Pods listen on their own IPs (a program itself,
// any other pod through the kubelet's stand-in), so this is the path a program's `sso-platform:3001`
// takes. No ready endpoint: the connection is closed at once, as a refused one.
import net from 'node:net';
import type { Cluster } from '../cluster.ts';
import { typeByKind } from '../resources.ts';
import type { StoreEvent } from '../store.ts';
import type { JsonObject, KObject } from '../types.ts';
import { splice } from './splice.ts';

const SVC = typeByKind('Service');
const EP = typeByKind('Endpoints');

interface Listener {
  server: net.Server;
  sockets: Set<net.Socket>;
}

/** Where a connection to a Service port goes: the ready endpoints' pod IPs at the target port. */
export function endpointsFor(
  cluster: Cluster,
  svc: KObject,
  port: JsonObject,
): { ip: string; port: number }[] {
  const ep = cluster.store.get(EP, svc.metadata.namespace, svc.metadata.name);
  const out: { ip: string; port: number }[] = [];
  for (const subset of ((ep as JsonObject | undefined)?.subsets ?? []) as JsonObject[]) {
    const ports = (subset.ports ?? []) as JsonObject[];
    const target = ports.length === 1 ? ports[0] : ports.find((p) => p.name === port.name);
    if (!target) continue;
    for (const a of (subset.addresses ?? []) as JsonObject[])
      if (typeof a.ip === 'string') out.push({ ip: a.ip, port: Number(target.port) });
  }
  return out;
}

/** The kube-proxy of the simulated node. */
export class KubeProxy {
  private readonly listeners = new Map<string, Listener>();
  private readonly turn = new Map<string, number>();
  private stopped = false;

  constructor(private readonly cluster: Cluster) {}

  onEvent(e: StoreEvent): void {
    if (e.rt !== SVC || this.stopped) return;
    this.sync(e.object, e.type === 'DELETED' || e.object.metadata.deletionTimestamp !== undefined);
  }

  private sync(svc: KObject, gone: boolean): void {
    const spec = (svc.spec ?? {}) as JsonObject;
    const ip = spec.clusterIP;
    const prefix = `${svc.metadata.namespace}/${svc.metadata.name}/`;
    const wanted = new Set<string>();
    if (!gone && typeof ip === 'string' && this.cluster.addresses.owns(ip)) {
      for (const p of (spec.ports ?? []) as JsonObject[]) {
        if ((p.protocol ?? 'TCP') !== 'TCP') continue;
        const key = `${prefix}${ip}:${String(p.port)}`;
        wanted.add(key);
        if (!this.listeners.has(key)) this.listen(key, svc, p, ip);
      }
    }
    for (const key of [...this.listeners.keys()])
      if (key.startsWith(prefix) && !wanted.has(key)) this.close(key);
  }

  private listen(key: string, svc: KObject, port: JsonObject, ip: string): void {
    const sockets = new Set<net.Socket>();
    const ns = svc.metadata.namespace;
    const name = svc.metadata.name;
    const server = net.createServer((client) => {
      sockets.add(client);
      client.once('close', () => sockets.delete(client));
      const current = this.cluster.store.get(SVC, ns, name);
      const targets = current ? endpointsFor(this.cluster, current, port) : [];
      if (targets.length === 0) {
        client.destroy();
        return;
      }
      const n = this.turn.get(key) ?? 0;
      this.turn.set(key, n + 1);
      const target = targets[n % targets.length]!;
      const upstream = net.connect(target.port, target.ip);
      sockets.add(upstream);
      upstream.once('close', () => sockets.delete(upstream));
      splice(client, upstream);
    });
    // A port another process holds on this address cannot be: the Service is then not reachable by
    // its IP (port-forward and the proxy subresource still are).
    server.once('error', () => this.listeners.delete(key));
    server.listen(Number(port.port), ip);
    this.listeners.set(key, { server, sockets });
  }

  private close(key: string): void {
    const l = this.listeners.get(key);
    if (!l) return;
    this.listeners.delete(key);
    for (const s of l.sockets) s.destroy();
    l.server.close();
  }

  stop(): void {
    this.stopped = true;
    for (const key of [...this.listeners.keys()]) this.close(key);
  }
}
