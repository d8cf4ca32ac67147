import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seeded } from './faults.ts';
import { startKubeSim, type KubeSim } from './index.ts';

/** One raw GET against the simulated API server: status, Retry-After, or the socket's error. */
function rawGet(url: string): Promise<{ status?: number; retryAfter?: string; error?: string }> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
  });
}

describe('the simulated API server, flaky on purpose', () => {
  let sim: KubeSim;
  beforeAll(async () => {
    sim = await startKubeSim();
  });
  afterAll(async () => {
    await sim?.stop();
  });

  it('the dice are seeded: the same seed gives the same faults', () => {
    const a = seeded(7);
    const b = seeded(7);
    const c = seeded(8);
    const rollsA = Array.from({ length: 20 }, a);
    expect(Array.from({ length: 20 }, b)).toEqual(rollsA);
    expect(Array.from({ length: 20 }, c)).not.toEqual(rollsA);
    expect(rollsA.every((r) => r >= 0 && r < 1)).toBe(true);
  });

  it('a share of requests answers 429 (with Retry-After), 500 or 503, or has its connection reset; each counted', async () => {
    await sim.setScenario({
      api: { seed: 3, errorRate: 0.5, resetRate: 0.2, paths: '^/api/v1/namespaces$' },
    });
    const before = await sim.faultCounts();
    const answers = [];
    for (let i = 0; i < 60; i++) answers.push(await rawGet(`${sim.url}/api/v1/namespaces`));
    const after = await sim.faultCounts();
    const statuses = answers.map((a) => a.status ?? a.error);
    expect(statuses).toContain(200);
    expect(statuses).toContain(429);
    expect(statuses).toContain(500);
    expect(statuses).toContain(503);
    expect(statuses).toContain('ECONNRESET');
    for (const a of answers)
      expect(a.status === 429 ? a.retryAfter : undefined).toBe(a.status === 429 ? '1' : undefined);
    const errors = (s: number) => (after.errors[s] ?? 0) - (before.errors[s] ?? 0);
    expect(errors(429) + errors(500) + errors(503)).toBe(
      answers.filter((a) => a.status !== 200 && a.status).length,
    );
    expect(after.resets - before.resets).toBe(answers.filter((a) => a.error).length);
    // another path meets none
    expect((await rawGet(`${sim.url}/version`)).status).toBe(200);
    await sim.setScenario({});
  });

  it('kubectl itself retries a 429 with Retry-After; a 500 reaches the caller', async () => {
    await sim.setScenario({
      api: {
        errorRate: 1,
        errorStatuses: [429],
        retryAfterSeconds: 0,
        paths: '^/api/v1/namespaces/default/configmaps',
      },
    });
    // client-go gives up after ten tries: every answer is a 429 here
    const refused = await sim.kubectl(['get', 'configmaps', '-n', 'default']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/TooManyRequests|too many requests/i);
    // half of them: client-go waits the Retry-After and asks again, unseen by its caller
    await sim.setScenario({
      api: {
        seed: 5,
        errorRate: 0.5,
        errorStatuses: [429],
        retryAfterSeconds: 0,
        paths: '^/api/v1/namespaces/default/configmaps',
      },
    });
    const before = (await sim.faultCounts()).errors[429] ?? 0;
    for (let i = 0; i < 4; i++) {
      const r = await sim.kubectl(['get', 'configmaps', '-n', 'default']);
      expect(r.code, r.stderr).toBe(0);
    }
    expect((await sim.faultCounts()).errors[429] ?? 0).toBeGreaterThan(before);
    await sim.setScenario({
      api: { errorRate: 1, errorStatuses: [500], paths: '^/api/v1/namespaces/default/configmaps' },
    });
    const failed = await sim.kubectl(['get', 'configmaps', '-n', 'default']);
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain('InternalError');
    await sim.setScenario({});
    expect((await sim.kubectl(['get', 'configmaps', '-n', 'default'])).code).toBe(0);
  });

  it('watches end after watchCloseAfterMs, and a re-watch from a resourceVersion may be 410 Gone', async () => {
    await sim.setScenario({ api: { watchCloseAfterMs: 300 } });
    const before = await sim.faultCounts();
    const watched = await sim.kubectl(['get', 'namespaces', '--watch', '--request-timeout=20s']);
    // the server ended the watch: kubectl's get --watch ends with it
    expect(watched.stdout).toContain('default');
    expect((await sim.faultCounts()).watchesClosed).toBeGreaterThan(before.watchesClosed);
    await sim.setScenario({ api: { goneRate: 1 } });
    const gone = await rawGet(`${sim.url}/api/v1/namespaces?watch=true&resourceVersion=1`);
    expect(gone.status).toBe(410);
    expect((await sim.faultCounts()).gone).toBe(before.gone + 1);
    // a watch from the current state (no resourceVersion) is not a re-watch
    const fresh = await sim.kubectl(['get', 'namespaces', '--watch', '--request-timeout=1s']);
    expect(fresh.stdout).toContain('default');
    await sim.setScenario({});
  });

  it('an outage drops every connection and refuses new ones; afterwards every object is still there', async () => {
    const made = await sim.kubectl(['create', 'configmap', 'kept', '-n', 'default', '--from-literal=a=b']);
    expect(made.code, made.stderr).toBe(0);
    const watch = sim.kubectl(['get', 'configmaps', '-n', 'default', '--watch', '--request-timeout=60s']);
    await new Promise((r) => setTimeout(r, 500));
    const before = await sim.faultCounts();
    await sim.setApiDown(true);
    expect((await rawGet(`${sim.url}/version`)).error).toBe('ECONNREFUSED');
    const refused = await sim.kubectl(['get', 'configmap', 'kept', '-n', 'default', '--request-timeout=2s']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/connection refused|was refused/);
    // the open watch was dropped: kubectl's watch ended
    expect((await watch).code).not.toBeNull();
    await sim.setApiDown(false);
    const after = await sim.faultCounts();
    expect(after.outages).toBe(before.outages + 1);
    expect(after.dropped).toBeGreaterThan(before.dropped);
    const back = await sim.kubectl(['get', 'configmap', 'kept', '-n', 'default', '-o', 'jsonpath={.data.a}']);
    expect(back.stdout).toBe('b');
    await sim.restartApiServer(200);
    expect((await sim.faultCounts()).outages).toBe(after.outages + 1);
    expect((await sim.kubectl(['get', 'configmap', 'kept', '-n', 'default'])).code).toBe(0);
  });
});
