import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { fakeRuntime, pattern } from './fake-runtime.ts';
import { runInContainer } from './run-in-container.ts';
import { startSimApi } from './sim-api.ts';
import { spdyExec, wsExec } from './test-clients.ts';

describe('exec over WebSocket (v5.channel.k8s.io)', () => {
  const runtime = fakeRuntime();
  let server: Awaited<ReturnType<typeof startSimApi>>;
  beforeAll(async () => {
    server = await startSimApi(runtime);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('streams stdout and stderr and reports success on channel 3, then closes normally', async () => {
    const r = await wsExec(server.port, 'p1', ['out', 'hello']);
    expect(r.stdout.toString()).toBe('hello');
    expect(r.status).toEqual({ metadata: {}, status: 'Success' });
    expect(r.closeCode).toBe(1000);
    expect(runtime.execs.at(-1)).toMatchObject({
      pod: { namespace: 'ns', name: 'p1' },
      container: 'main',
      command: ['out', 'hello'],
      stdin: null,
      tty: false,
    });
    expect((await wsExec(server.port, 'p1', ['err', 'warn'])).stderr.toString()).toBe('warn');
  });

  it('passes a non-zero exit code in the form kubectl decodes', async () => {
    const r = await wsExec(server.port, 'p1', ['exit', '3']);
    expect(r.stdout.toString()).toBe('bye\n');
    expect(r.stderr.toString()).toBe('oops\n');
    expect(r.status).toMatchObject({
      status: 'Failure',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
  });

  it('feeds stdin and ends it on the v5 close signal [255, 0]', async () => {
    const input = pattern(3 * 1024 * 1024);
    const r = await wsExec(server.port, 'p1', ['cat'], { stdin: input });
    expect(r.stdout.equals(input)).toBe(true);
    expect(r.status?.status).toBe('Success');
  });

  it('delivers large output intact', async () => {
    const r = await wsExec(server.port, 'p1', ['bytes', String(8 * 1024 * 1024)]);
    expect(r.stdout.equals(pattern(8 * 1024 * 1024))).toBe(true);
  });

  it('merges stderr into stdout with a tty', async () => {
    const r = await wsExec(server.port, 'p1', ['exit', '1'], { tty: true });
    expect(r.stdout.toString()).toBe('bye\noops\n');
    expect(r.stderr.length).toBe(0);
  });

  it('accepts v4.channel.k8s.io too', async () => {
    const r = await wsExec(server.port, 'p1', ['out', 'v4'], { protocol: 'v4.channel.k8s.io' });
    expect(r.stdout.toString()).toBe('v4');
  });

  it('answers a missing pod with an HTTP error and a Status body, before upgrading', async () => {
    const err = await wsExec(server.port, 'ghost', ['out', 'x']).catch(
      (e: Error & { statusCode?: number }) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect((err as { statusCode?: number }).statusCode).toBe(404);
    expect(JSON.parse((err as Error).message)).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'NotFound',
      code: 404,
      message: 'pods "ghost" not found',
    });
  });

  it('refuses protocols it does not speak', async () => {
    const err = await wsExec(server.port, 'p1', ['out', 'x'], { protocol: 'channel.k8s.io' }).catch(
      (e: Error & { statusCode?: number }) => e,
    );
    expect((err as { statusCode?: number }).statusCode).toBe(403);
  });

  it('serves the SPDY fallback (v4.channel.k8s.io) with the same results', async () => {
    const input = pattern(2 * 1024 * 1024);
    const echoed = await spdyExec(server.port, 'p1', ['cat'], input);
    expect(echoed.stdout.equals(input)).toBe(true);
    expect(echoed.status).toEqual({ metadata: {}, status: 'Success' });
    const failed = await spdyExec(server.port, 'p1', ['exit', '7']);
    expect(failed.stdout.toString()).toBe('bye\n');
    expect(failed.stderr.toString()).toBe('oops\n');
    expect(failed.status).toMatchObject({
      reason: 'NonZeroExitCode',
      details: { causes: [{ message: '7' }] },
    });
  });

  it('kills the command when the client hangs up', async () => {
    const codes: Promise<number>[] = [];
    const info = { pod: { namespace: 'ns', name: 'p2' }, container: 'main', image: 'app', env: {} };
    const local = await startSimApi({
      exec: (req) => {
        const code = runInContainer(info, req.command, req);
        codes.push(code);
        return code;
      },
      connectPort: () => Promise.reject(new Error('no ports')),
    });
    try {
      const q = 'command=sh&command=-c&command=echo%20up%3B%20sleep%2030&stdout=true&stderr=true';
      const ws = new WebSocket(`ws://127.0.0.1:${local.port}/api/v1/namespaces/ns/pods/p2/exec?${q}`, [
        'v5.channel.k8s.io',
      ]);
      await new Promise<void>((resolve) => ws.on('message', () => resolve()));
      ws.terminate();
      expect(await codes[0]).toBe(137);
    } finally {
      await local.close();
    }
  });
});
