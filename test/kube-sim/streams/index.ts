import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { EXEC_SPDY_PROTOCOLS, serveExecSpdy } from './exec-spdy.ts';
import { EXEC_WS_PROTOCOLS, serveExecWebSocket } from './exec-ws.ts';
import { abortExec, parseExecQuery, startExec, type StartedExec } from './exec.ts';
import { PORTFORWARD_PROTOCOL, PORTFORWARD_WS_PROTOCOL, servePortForward } from './portforward.ts';
import type { PodRef, PodRuntime } from './runtime-types.ts';
import { acceptSpdy, acceptWebSocket, isSpdy, isWebSocket, negotiate, rejectUpgrade } from './upgrade.ts';
import { WebSocketDuplex } from './ws-streams.ts';

export { runInContainer } from './run-in-container.ts';
export type { ExecRequest, PodProcessInfo, PodRef, PodRuntime } from './runtime-types.ts';

const PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(exec|attach|portforward)$/;

// Exec sessions of a deleted pod get this long to report their end before the connection is cut.
const EXEC_GRACE_MS = 2_000;

interface Tracked {
  close(): void;
}

const sessions = new WeakMap<PodRuntime, Map<string, Set<Tracked>>>();

function podKey(pod: PodRef): string {
  return `${pod.namespace}/${pod.name}`;
}

function track(runtime: PodRuntime, pod: PodRef, t: Tracked): () => void {
  let byPod = sessions.get(runtime);
  if (!byPod) sessions.set(runtime, (byPod = new Map()));
  const key = podKey(pod);
  const set = byPod.get(key) ?? new Set<Tracked>();
  byPod.set(key, set);
  set.add(t);
  return () => {
    set.delete(t);
    if (set.size === 0) byPod.delete(key);
  };
}

/**
 * Ends every exec and port-forward connection to a pod (call it when the pod is deleted):
 * kubectl port-forward then reports "lost connection to pod" and exits. Returns how many.
 */
export function closePodStreams(runtime: PodRuntime, pod: PodRef): number {
  const set = sessions.get(runtime)?.get(podKey(pod));
  if (!set) return 0;
  const all = [...set];
  for (const t of all) t.close();
  return all.length;
}

/**
 * Takes an HTTP 'upgrade' for a pod's exec, attach or portforward subresource (WebSocket
 * or SPDY/3.1) and serves it through `runtime`; returns false for any other request.
 */
export function handleStreamUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  runtime: PodRuntime,
): boolean {
  const url = new URL(req.url ?? '/', 'http://kube-sim');
  const m = PATH.exec(url.pathname);
  if (!m) return false;
  const pod = { namespace: decodeURIComponent(m[1] ?? ''), name: decodeURIComponent(m[2] ?? '') };
  const action = m[3];
  socket.on('error', () => socket.destroy());
  if (!isWebSocket(req) && !isSpdy(req)) {
    rejectUpgrade(socket, 400, 'unable to upgrade: missing upgrade headers in request');
  } else if (action === 'attach') {
    rejectUpgrade(socket, 400, `attach to pod ${pod.name} is not supported by the simulated cluster`);
  } else if (action === 'exec') {
    serveExec(req, socket, head, runtime, pod, url.searchParams).catch(() => socket.destroy());
  } else {
    servePortForwardUpgrade(req, socket, head, runtime, pod).catch(() => socket.destroy());
  }
  return true;
}

function unsupported(req: IncomingMessage, supported: readonly string[]): string {
  const asked = req.headers['sec-websocket-protocol'] ?? req.headers['x-stream-protocol-version'] ?? '';
  return `unable to upgrade: unable to negotiate protocol: client supports [${String(asked)}], server supports [${supported.join(', ')}]`;
}

async function serveExec(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  runtime: PodRuntime,
  pod: PodRef,
  query: URLSearchParams,
): Promise<void> {
  const supported = isWebSocket(req) ? EXEC_WS_PROTOCOLS : EXEC_SPDY_PROTOCOLS;
  const protocol = negotiate(req, supported);
  if (!protocol) return rejectUpgrade(socket, 403, unsupported(req, supported));
  const started = await startExec(runtime, pod, parseExecQuery(query));
  if (!started.ok) return rejectUpgrade(socket, started.code, started.message, started.reason);
  const exec: StartedExec = started.exec;
  let cut: () => void = () => socket.destroy();
  const untrack = track(runtime, pod, {
    close: () => {
      // The container dies with its pod: the command is killed (exit 137) and reported.
      abortExec(exec);
      setTimeout(() => cut(), EXEC_GRACE_MS).unref();
    },
  });
  try {
    if (isWebSocket(req)) {
      const ws = await acceptWebSocket(req, socket, head, protocol);
      cut = () => ws.terminate();
      await serveExecWebSocket(ws, exec);
    } else {
      await serveExecSpdy(acceptSpdy(socket, head, protocol), exec);
    }
  } finally {
    untrack();
  }
}

async function servePortForwardUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  runtime: PodRuntime,
  pod: PodRef,
): Promise<void> {
  const supported = isWebSocket(req) ? [PORTFORWARD_WS_PROTOCOL] : [PORTFORWARD_PROTOCOL];
  const protocol = negotiate(req, supported);
  if (!protocol) return rejectUpgrade(socket, 403, unsupported(req, supported));
  const transport = isWebSocket(req)
    ? new WebSocketDuplex(await acceptWebSocket(req, socket, head, protocol))
    : acceptSpdy(socket, head, protocol);
  const session = servePortForward(transport, runtime, pod);
  const untrack = track(runtime, pod, { close: () => session.close() });
  session.once('close', untrack);
}
