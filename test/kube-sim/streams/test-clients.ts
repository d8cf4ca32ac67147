import net from 'node:net';
import WebSocket from 'ws';
import { SpdySession, type SpdyStream } from './spdy-session.ts';
import { rawWebSocket } from './ws-raw-client.ts';

export interface WsExecResult {
  stdout: Buffer;
  stderr: Buffer;
  status: Record<string, unknown> | undefined;
  closeCode: number;
}

/** Runs a command like kubectl's v5 WebSocket executor does. */
export function wsExec(
  port: number,
  pod: string,
  command: string[],
  opts: { stdin?: Buffer; tty?: boolean; protocol?: string } = {},
): Promise<WsExecResult> {
  const q = new URLSearchParams();
  for (const c of command) q.append('command', c);
  q.set('container', 'main');
  if (opts.stdin) q.set('stdin', 'true');
  q.set('stdout', 'true');
  q.set('stderr', opts.tty ? 'false' : 'true');
  if (opts.tty) q.set('tty', 'true');
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/namespaces/ns/pods/${pod}/exec?${q}`, [
    opts.protocol ?? 'v5.channel.k8s.io',
  ]);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let status: Record<string, unknown> | undefined;
  return new Promise((resolve, reject) => {
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => reject(Object.assign(new Error(body), { statusCode: res.statusCode })));
    });
    ws.on('error', reject);
    ws.on('open', () => {
      if (opts.stdin) {
        for (let off = 0; off < opts.stdin.length; off += 32 * 1024) {
          ws.send(Buffer.concat([Buffer.of(0), opts.stdin.subarray(off, off + 32 * 1024)]));
        }
        ws.send(Buffer.of(255, 0));
      }
    });
    ws.on('message', (data: Buffer) => {
      if (data[0] === 1) out.push(data.subarray(1));
      else if (data[0] === 2) err.push(data.subarray(1));
      else if (data[0] === 3) status = JSON.parse(data.subarray(1).toString()) as Record<string, unknown>;
    });
    ws.on('close', (code) =>
      resolve({ stdout: Buffer.concat(out), stderr: Buffer.concat(err), status, closeCode: code }),
    );
  });
}

/** Upgrades `path` to plain SPDY/3.1 offering `protocol`, as kubectl's SPDY round tripper does. */
export async function spdyUpgrade(port: number, path: string, protocol: string): Promise<SpdySession> {
  const socket = net.connect(port, '127.0.0.1');
  socket.write(
    `POST ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n` +
      `X-Stream-Protocol-Version: ${protocol}\r\nContent-Length: 0\r\n\r\n`,
  );
  const rest = await new Promise<Buffer>((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (c: Buffer): void => {
      buf = Buffer.concat([buf, c]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.pause();
      const head = buf.subarray(0, end).toString();
      if (!head.startsWith('HTTP/1.1 101') || !head.includes(`X-Stream-Protocol-Version: ${protocol}`)) {
        reject(new Error(`upgrade refused: ${head}`));
      }
      resolve(buf.subarray(end + 4));
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
  if (rest.length) socket.unshift(rest);
  const session = new SpdySession(socket, { server: false });
  socket.resume();
  return session;
}

/** Opens a client SPDY session to a pod's portforward, over a plain SPDY upgrade or a WebSocket tunnel. */
export async function spdyConnect(port: number, pod: string, mode: 'spdy' | 'ws'): Promise<SpdySession> {
  const path = `/api/v1/namespaces/ns/pods/${pod}/portforward`;
  if (mode === 'ws') {
    return new SpdySession(await rawWebSocket(port, path, 'SPDY/3.1+portforward.k8s.io'), { server: false });
  }
  return spdyUpgrade(port, path, 'portforward.k8s.io');
}

/** Runs a command like kubectl's SPDY executor (the fallback when WebSockets fail). */
export async function spdyExec(port: number, pod: string, command: string[], stdin?: Buffer) {
  const q = new URLSearchParams();
  for (const c of command) q.append('command', c);
  q.set('stdout', 'true');
  q.set('stderr', 'true');
  if (stdin) q.set('stdin', 'true');
  const session = await spdyUpgrade(port, `/api/v1/namespaces/ns/pods/${pod}/exec?${q}`, 'v4.channel.k8s.io');
  const error = session.openStream({ streamtype: ['error'] });
  const input = stdin ? session.openStream({ streamtype: ['stdin'] }) : undefined;
  const stdout = session.openStream({ streamtype: ['stdout'] });
  const stderr = session.openStream({ streamtype: ['stderr'] });
  input?.end(stdin);
  const [out, err, status] = await Promise.all([readAll(stdout), readAll(stderr), readAll(error)]);
  session.close();
  return {
    stdout: out,
    stderr: err,
    status: JSON.parse(status.toString() || 'null') as Record<string, unknown> | null,
  };
}

/** Opens the error+data stream pair kubectl opens per local connection. */
export function openForward(
  session: SpdySession,
  port: number,
  requestId: number,
): { error: SpdyStream; data: SpdyStream } {
  const h = { port: [String(port)], requestid: [String(requestId)] };
  const error = session.openStream({ streamtype: ['error'], ...h });
  error.end();
  const data = session.openStream({ streamtype: ['data'], ...h });
  return { error, data };
}

/** Everything a readable delivers until it ends (or closes). */
export function readAll(
  s: NodeJS.ReadableStream & { once(ev: 'close', fn: () => void): unknown },
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  return new Promise((resolve) => {
    s.on('data', (c: Buffer) => chunks.push(c));
    s.once('end', () => resolve(Buffer.concat(chunks)));
    s.once('close', () => resolve(Buffer.concat(chunks)));
  });
}
