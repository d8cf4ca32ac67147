import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });

/** The protocols a client offers, in its order of preference. */
function offered(value: string | string[] | undefined): string[] {
  const all = Array.isArray(value) ? value.join(',') : (value ?? '');
  return all
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
}

/** A `metav1.Status` failure, as the API server reports errors. */
export function statusFailure(code: number, reason: string, message: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  500: 'InternalError',
};

/** Answers an upgrade request with a plain HTTP error carrying a Status body, then closes. */
export function rejectUpgrade(socket: Duplex, code: number, message: string, reason?: string): void {
  const body = JSON.stringify(statusFailure(code, reason ?? REASONS[code] ?? 'InternalError', message));
  const text =
    code === 404 ? 'Not Found' : code === 400 ? 'Bad Request' : code === 403 ? 'Forbidden' : 'Error';
  socket.end(
    `HTTP/1.1 ${code} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `Connection: close\r\n\r\n${body}`,
  );
}

/** True when the request asks for a WebSocket. */
export function isWebSocket(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? '').toLowerCase() === 'websocket';
}

/** True when the request asks for a SPDY/3.1 connection. */
export function isSpdy(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? '').toLowerCase().startsWith('spdy/3.1');
}

/** The first protocol of the client's list that the server supports, for WebSocket or SPDY. */
export function negotiate(req: IncomingMessage, supported: readonly string[]): string | undefined {
  const list = isWebSocket(req)
    ? offered(req.headers['sec-websocket-protocol'])
    : offered(req.headers['x-stream-protocol-version']);
  return list.find((p) => supported.includes(p));
}

/**
 * Completes a WebSocket handshake with a chosen subprotocol. `ws` validates the
 * Sec-WebSocket-Protocol tokens and rejects `SPDY/3.1+portforward.k8s.io` (a '/' is
 * not a token character), so the header is hidden from it and the answer added back.
 */
export function acceptWebSocket(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  protocol: string,
): Promise<WebSocket> {
  delete req.headers['sec-websocket-protocol'];
  const addProtocol = (headers: string[], request: IncomingMessage): void => {
    if (request === req) headers.push(`Sec-WebSocket-Protocol: ${protocol}`);
  };
  wss.on('headers', addProtocol);
  return new Promise<WebSocket>((resolve) => {
    try {
      wss.handleUpgrade(req, socket, head, (ws) => resolve(ws));
    } finally {
      wss.off('headers', addProtocol);
    }
  });
}

/** Completes a SPDY/3.1 upgrade (HTTP 101) and returns the raw connection, early bytes put back. */
export function acceptSpdy(socket: Duplex, head: Buffer, protocol: string): Duplex {
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n' +
      `X-Stream-Protocol-Version: ${protocol}\r\n\r\n`,
  );
  if (head.length) socket.unshift(head);
  return socket;
}
