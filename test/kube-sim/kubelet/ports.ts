// The stand-ins for what pods listen on: one loopback HTTP server per container port that
// answers 200 on any path (503 on the readiness path of a never-ready container), echoes
// POST/PUT bodies and serves GET /bytes/N (N bytes of a fixed pattern).
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

interface PortServer {
  server: http.Server;
  port: number;
  sockets: Set<Socket>;
}

/** The HTTP servers of one pod, by container port. */
export class PodPorts {
  private readonly servers = new Map<number, Promise<PortServer>>();
  private closed = false;

  constructor(
    private readonly podName: string,
    private readonly notReadyPath: () => string | undefined,
  ) {}

  /** The loopback port answering for a container port (started on first use). */
  async local(containerPort: number): Promise<number> {
    if (this.closed) throw new Error('pod is not running');
    let s = this.servers.get(containerPort);
    if (!s) {
      s = this.listen(containerPort);
      this.servers.set(containerPort, s);
    }
    return (await s).port;
  }

  private async listen(containerPort: number): Promise<PortServer> {
    const sockets = new Set<Socket>();
    const server = http.createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://pod').pathname;
      const failing = this.notReadyPath();
      if (failing !== undefined && (failing === path || failing === '*')) {
        req.resume();
        res.writeHead(503, { 'Content-Type': 'text/plain' }).end('not ready\n');
        return;
      }
      const bytes = /^\/bytes\/(\d+)$/.exec(path);
      if (bytes) {
        // A deterministic payload of any size, for transfer tests through port-forward.
        req.resume();
        res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(pattern(Number(bytes[1])));
        return;
      }
      if (req.method === 'POST' || req.method === 'PUT') {
        // Request bodies come back as they were sent.
        res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
        req.pipe(res);
        return;
      }
      req.resume();
      const body = `ok: ${this.podName}:${containerPort} ${req.method ?? 'GET'} ${path}\n`;
      res
        .writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) })
        .end(body);
    });
    server.on('connection', (s) => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return { server, port: (server.address() as AddressInfo).port, sockets };
  }

  /** Stops every server and cuts open connections. */
  async close(): Promise<void> {
    this.closed = true;
    const all = await Promise.all([...this.servers.values()].map((p) => p.catch(() => undefined)));
    this.servers.clear();
    await Promise.all(
      all.map(
        (s) =>
          s &&
          new Promise<void>((resolve) => {
            for (const sock of s.sockets) sock.destroy();
            s.server.close(() => resolve());
          }),
      ),
    );
  }
}

/** N bytes of the fixed pattern GET /bytes/N serves (byte i is i mod 251). */
export function pattern(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = i % 251;
  return b;
}
