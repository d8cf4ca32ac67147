import { createHash } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeRuntime, pattern } from './fake-runtime.ts';
import { closePodStreams } from './index.ts';
import { pingFrame } from './spdy-frames.ts';
import { startSimApi } from './sim-api.ts';
import { openForward, readAll, spdyConnect } from './test-clients.ts';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/**
 * A backend that answers each connection with the sha256 of what it received, then its own payload.
 * A plain TCP peer, not an API server: the pod runtime forwards to it, below the simulated cluster's
 * API server; the cluster's own pods answer HTTP only and cannot report what reached them.
 */
async function startBackend(): Promise<{ port: number; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (sock) => {
    const chunks: Buffer[] = [];
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('end', () => {
      const got = Buffer.concat(chunks);
      seen.push(sha(got));
      const size = got.length ? got.readUInt32BE(0) : 0;
      sock.end(pattern(size, size));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    seen,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe.each(['spdy', 'ws'] as const)('port-forward over %s', (mode) => {
  let backend: Awaited<ReturnType<typeof startBackend>>;
  let server: Awaited<ReturnType<typeof startSimApi>>;
  let runtime: ReturnType<typeof fakeRuntime>;
  beforeAll(async () => {
    backend = await startBackend();
    runtime = fakeRuntime({ 5432: backend.port });
    server = await startSimApi(runtime);
  });
  afterAll(async () => {
    await server?.close();
    await backend?.close();
  });

  it('carries several concurrent multi-MiB connections intact in both directions', async () => {
    const session = await spdyConnect(server.port, 'db-0', mode);
    const sizes = [4 * 1024 * 1024, 3 * 1024 * 1024 + 17, 1];
    const results = await Promise.all(
      sizes.map(async (size, i) => {
        const { error, data } = openForward(session, 5432, i);
        const upload = pattern(Math.max(size, 4), i);
        upload.writeUInt32BE(size, 0);
        const [errText, download] = await Promise.all([readAll(error), readAll(data), data.end(upload)]);
        return { errText: errText.toString(), download, upload };
      }),
    );
    for (const [i, r] of results.entries()) {
      expect(r.errText).toBe('');
      expect(sha(r.download)).toBe(sha(pattern(sizes[i] ?? 0, sizes[i])));
      expect(backend.seen).toContain(sha(r.upload));
    }
    session.close();
  });

  it('reports a failed connect on the error stream', async () => {
    const session = await spdyConnect(server.port, 'db-0', mode);
    const { error, data } = openForward(session, 6000, 0);
    const [errText, got] = await Promise.all([readAll(error), readAll(data)]);
    expect(errText.toString()).toBe(
      'error forwarding port 6000 to pod db-0_ns, uid : dial tcp4 127.0.0.1:6000: connect: connection refused',
    );
    expect(got.length).toBe(0);
    session.close();
  });

  it('answers SPDY pings and closes the session when the pod goes away', async () => {
    const session = await spdyConnect(server.port, 'db-1', mode);
    const pong = new Promise<number>((r) => session.once('pong', r));
    session.send(pingFrame(1));
    expect(await pong).toBe(1);
    const closed = new Promise<void>((r) => session.once('close', r));
    expect(closePodStreams(runtime, { namespace: 'ns', name: 'db-1' })).toBe(1);
    await closed;
    expect(closePodStreams(runtime, { namespace: 'ns', name: 'db-1' })).toBe(0);
  });
});
