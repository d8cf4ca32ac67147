// The proxy subresources: /api/v1/namespaces/{ns}/services/{name[:port]}/proxy/{path} and
// .../pods/{name[:port]}/proxy/{path} forward an HTTP request to a pod (a ready endpoint of
// the Service) through the kubelet, as `kubectl get --raw` and health checks use them.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Cluster } from '../cluster.ts';
import { isReady } from '../controllers/util.ts';
import { typeByKind } from '../resources.ts';
import { KubeSimError, type PodRef } from '../runtime.ts';
import { fromMap, matchesLabels } from '../selectors.ts';
import type { JsonObject, KObject } from '../types.ts';
import { sendError } from './http.ts';

/** Matches a proxy path: namespace, kind, name[:port], rest of the path. */
export const PROXY_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/(services|pods)\/([^/]+)\/proxy(\/.*)?$/;

type Connect = (pod: PodRef, port: number) => Promise<Duplex>;

function containerPort(pod: KObject, port: string | number | undefined): number | undefined {
  const containers = ((pod.spec as JsonObject).containers ?? []) as JsonObject[];
  const ports = containers.flatMap((c) => (c.ports ?? []) as JsonObject[]);
  if (port === undefined || port === '') return ports[0] ? Number(ports[0].containerPort) : 80;
  if (/^\d+$/.test(String(port))) return Number(port);
  const named = ports.find((p) => p.name === port);
  return named ? Number(named.containerPort) : undefined;
}

function target(cluster: Cluster, ns: string, kind: string, spec: string): { pod: KObject; port: number } {
  const parts = spec.split(':');
  // "name", "name:port" or "scheme:name:port".
  const [name = '', port] = parts.length === 3 ? [parts[1], parts[2]] : [parts[0], parts[1]];
  if (kind === 'pods') {
    const pod = cluster.store.mustGet(typeByKind('Pod'), ns, name);
    const p = containerPort(pod, port);
    if (p === undefined)
      throw new KubeSimError(503, `pod "${name}" has no port named "${port ?? ''}"`, 'ServiceUnavailable');
    return { pod, port: p };
  }
  const svc = cluster.store.mustGet(typeByKind('Service'), ns, name);
  const ports = ((svc.spec as JsonObject).ports ?? []) as JsonObject[];
  const sp = port === undefined ? ports[0] : ports.find((p) => String(p.port) === port || p.name === port);
  if (!sp) throw new KubeSimError(503, `no endpoints available for service "${name}"`, 'ServiceUnavailable');
  const sel = fromMap((svc.spec as JsonObject).selector);
  const pods = sel
    ? cluster.store
        .list(typeByKind('Pod'), { namespace: ns, labels: sel })
        .filter((p) => isReady(p) && !p.metadata.deletionTimestamp && matchesLabels(sel, p.metadata.labels))
    : [];
  const pod = pods[Math.floor(Math.random() * pods.length)];
  if (!pod) throw new KubeSimError(503, `no endpoints available for service "${name}"`, 'ServiceUnavailable');
  const p = containerPort(pod, (sp.targetPort ?? sp.port) as string | number);
  if (p === undefined)
    throw new KubeSimError(503, `no endpoints available for service "${name}"`, 'ServiceUnavailable');
  return { pod, port: p };
}

/** Forwards a proxy request to its pod and streams the answer back. */
export async function serveProxy(
  cluster: Cluster,
  connect: Connect,
  req: IncomingMessage,
  res: ServerResponse,
  m: RegExpExecArray,
): Promise<void> {
  try {
    const ns = decodeURIComponent(m[1] ?? '');
    const { pod, port } = target(cluster, ns, m[2] ?? '', decodeURIComponent(m[3] ?? ''));
    const socket = await connect({ namespace: ns, name: pod.metadata.name }, port).catch((err: unknown) => {
      throw new KubeSimError(
        503,
        `error trying to reach service: ${err instanceof Error ? err.message : String(err)}`,
        'ServiceUnavailable',
      );
    });
    const query = new URL(req.url ?? '/', 'http://x').search;
    const upstream = http.request(
      {
        createConnection: () => socket,
        method: req.method,
        path: (m[4] ?? '/') + query,
        headers: { ...req.headers, host: `${pod.metadata.name}:${port}`, connection: 'close' },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', (err) =>
      sendError(
        res,
        new KubeSimError(503, `error trying to reach service: ${err.message}`, 'ServiceUnavailable'),
      ),
    );
    req.pipe(upstream);
  } catch (err) {
    sendError(res, err);
  }
}
