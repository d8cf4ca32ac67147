// The HTTP front of the simulated API server: discovery, OpenAPI stubs, resources, pod logs,
// and the upgrade requests of exec/port-forward handed to the streaming layer.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { handleResource } from './api/handlers.ts';
import { sendError, sendJson } from './api/http.ts';
import { PROXY_PATH } from './api/proxy.ts';
import { parseResourcePath } from './api/request.ts';
import type { Cluster } from './cluster.ts';
import {
  aggregated,
  AGGREGATED_V2,
  coreVersions,
  groupInfo,
  groupList,
  openapiV3Doc,
  openapiV3Root,
  resourceList,
  versionInfo,
  wantsAggregated,
} from './discovery.ts';
import { faultStatus } from './faults.ts';
import { KubeSimError } from './runtime.ts';

/** Serves pod logs: GET .../pods/{name}/log. */
export type LogHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  namespace: string,
  pod: string,
  q: URLSearchParams,
) => void;
/** Serves a proxy subresource request (services/pods .../proxy/...). */
export type ProxyHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  match: RegExpExecArray,
) => Promise<void>;
/** Takes an upgrade request (exec, attach, portforward); false when it is not one of those. */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean;

/** Sees each request's method and path before it is served (what a client asked, for assertions). */
export type RequestObserver = (method: string, path: string) => void;

export interface ApiServer {
  url: string;
  port: number;
  /**
   * An outage (true): every open connection (watches, exec, port-forward streams) is dropped and new
   * ones are refused, as while a control plane restarts; false serves again on the same port. Objects
   * and pods are kept: they live in the cluster, not here.
   */
  setDown(down: boolean): Promise<void>;
  close(): Promise<void>;
}

function discovery(req: IncomingMessage, res: ServerResponse, path: string): boolean {
  const accept = req.headers.accept;
  const segs = path.split('/').filter(Boolean);
  if (path === '/version' || path === '/version/') return (sendJson(res, 200, versionInfo()), true);
  if (['/healthz', '/livez', '/readyz'].includes(path)) {
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
    return true;
  }
  if (path === '/api' || path === '/apis') {
    if (wantsAggregated(accept)) sendJson(res, 200, aggregated(path === '/api'), AGGREGATED_V2);
    else sendJson(res, 200, path === '/api' ? coreVersions(req.headers.host ?? '127.0.0.1') : groupList());
    return true;
  }
  if (segs[0] === 'api' && segs.length === 2) {
    const doc = resourceList('', segs[1] ?? '');
    if (doc) sendJson(res, 200, doc);
    else sendError(res, new KubeSimError(404, 'the server could not find the requested resource'));
    return true;
  }
  if (segs[0] === 'apis' && (segs.length === 2 || segs.length === 3)) {
    const doc = segs.length === 2 ? groupInfo(segs[1] ?? '') : resourceList(segs[1] ?? '', segs[2] ?? '');
    if (doc) sendJson(res, 200, doc);
    else sendError(res, new KubeSimError(404, 'the server could not find the requested resource'));
    return true;
  }
  if (segs[0] === 'openapi') {
    if (segs[1] === 'v3' && segs.length === 2) sendJson(res, 200, openapiV3Root());
    else if (segs[1] === 'v3') {
      const doc =
        segs[2] === 'api' ? openapiV3Doc('', segs[3] ?? '') : openapiV3Doc(segs[3] ?? '', segs[4] ?? '');
      if (doc) sendJson(res, 200, doc);
      else sendError(res, new KubeSimError(404, 'the server could not find the requested resource'));
    } else sendError(res, new KubeSimError(404, 'the simulated cluster serves no OpenAPI v2 document'));
    return true;
  }
  return false;
}

const LOG_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/log$/;

/** Starts the API server on 127.0.0.1 (port 0 picks a free one). */
export async function startApiServer(
  cluster: Cluster,
  opts: {
    port?: number;
    logs: LogHandler;
    proxy: ProxyHandler;
    upgrade: UpgradeHandler;
    debug?: boolean;
    onRequest?: RequestObserver;
  },
): Promise<ApiServer> {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://kube-sim');
    opts.onRequest?.(req.method ?? '', url.pathname);
    if (opts.debug)
      process.stderr.write(
        `[kube-sim] ${req.method ?? ''} ${req.url ?? ''} ${req.headers['content-type'] ?? ''}\n`,
      );
    const fault = cluster.faults.decide(req, url.pathname);
    if (fault.delayMs > 0) await new Promise((r) => setTimeout(r, fault.delayMs));
    if (fault.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault.kind === 'error') {
      if (fault.retryAfter !== undefined) res.setHeader('Retry-After', String(fault.retryAfter));
      sendJson(res, fault.status, faultStatus(fault.status));
      return;
    }
    if (req.method === 'GET' && discovery(req, res, url.pathname)) return;
    const log = LOG_PATH.exec(url.pathname);
    if (log && req.method === 'GET') {
      return opts.logs(
        req,
        res,
        decodeURIComponent(log[1] ?? ''),
        decodeURIComponent(log[2] ?? ''),
        url.searchParams,
      );
    }
    const proxied = PROXY_PATH.exec(url.pathname);
    if (proxied) return opts.proxy(req, res, proxied);
    const p = parseResourcePath(url.pathname);
    if (!p) throw new KubeSimError(404, 'the server could not find the requested resource');
    await handleResource(cluster, req, res, p, url.searchParams);
  };
  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (opts.debug)
        process.stderr.write(`[kube-sim]   -> ${err instanceof Error ? err.message : String(err)}\n`);
      sendError(res, err);
    });
  });
  server.keepAliveTimeout = 30_000;
  const sockets = new Set<Duplex>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    if (opts.debug) process.stderr.write(`[kube-sim] UPGRADE ${req.method ?? ''} ${req.url ?? ''}\n`);
    if (!opts.upgrade(req, socket, head)) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
    }
  });
  const listen = (port: number): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(opts.port ?? 0);
  const port = (server.address() as AddressInfo).port;
  const dropAll = (): void => {
    for (const s of sockets) {
      cluster.faults.counts.dropped++;
      s.destroy();
    }
    server.closeAllConnections();
  };
  let down = false;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    async setDown(wanted) {
      if (wanted === down) return;
      down = wanted;
      if (wanted) {
        cluster.faults.counts.outages++;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        dropAll();
        await closed;
      } else {
        // The port was ours a moment ago; on a busy machine another listener may take it meanwhile.
        for (let i = 0; ; i++) {
          try {
            await listen(port);
            return;
          } catch (err) {
            if (i >= 50) throw err;
            await new Promise((r) => setTimeout(r, 100));
          }
        }
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
        if (down) resolve();
        else server.close(() => resolve());
      }),
  };
}
