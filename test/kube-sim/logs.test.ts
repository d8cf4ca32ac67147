// Pod logs the logs command relies on: --timestamps on each line (RFC 3339 with nanoseconds, the time the
// container printed it), and the `chatty` scenario option (a container that keeps printing, for the
// throughput benchmark), followed with -f.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeSim, type KubeSim } from './index.ts';
import { LogRun, MAX_LOG_LINES } from './kubelet/logs.ts';
import { startKubectl } from './test-helpers.ts';

let sim: KubeSim;
const ns = 'sim-logs';
const k = (args: string[]) => sim.kubectl([...args, '-n', ns]);

beforeAll(async () => {
  sim = await startKubeSim({
    scenario: { readyAfterMs: 50, images: { 'demo/chatty': { chatty: 500 } } },
  });
  await sim.kubectl(['create', 'namespace', ns]);
});
afterAll(async () => {
  await sim?.stop();
});

const phase = async (pod: string) => (await k(['get', 'pod', pod, '-o', 'jsonpath={.status.phase}'])).stdout;

describe('pod logs on the simulated cluster', () => {
  it('--timestamps puts the time each line was printed before it', async () => {
    const before = Date.now();
    await k(['run', 'quiet', '--image=demo/quiet:1']);
    await expect.poll(() => phase('quiet'), { timeout: 20_000, interval: 50 }).toBe('Running');
    const r = await k(['logs', 'quiet', '--timestamps']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z Starting demo\/quiet$/),
      expect.stringMatching(/^\S+ Listening on 0\.0\.0\.0:8080$/),
    ]);
    const t = Date.parse(lines[0]!.split(' ')[0]!);
    expect(t).toBeGreaterThanOrEqual(before - 1000);
    expect(t).toBeLessThanOrEqual(Date.now());
    // Without the flag, the bare lines.
    expect((await k(['logs', 'quiet'])).stdout).toBe('Starting demo/quiet\nListening on 0.0.0.0:8080\n');
  });

  it('a chatty container keeps printing numbered lines, which -f streams as they come', async () => {
    await k(['run', 'chatty', '--image=demo/chatty:1']);
    await expect.poll(() => phase('chatty'), { timeout: 20_000, interval: 50 }).toBe('Running');
    const f = startKubectl(sim, ['logs', '-f', 'chatty', '-n', ns]);
    try {
      const count = () => (f.out().match(/^chatter \d+ from chatty$/gm) ?? []).length;
      await expect.poll(count, { timeout: 20_000, interval: 50 }).toBeGreaterThan(200);
      const numbers = [...f.out().matchAll(/^chatter (\d+) from chatty$/gm)].map((m) => Number(m[1]));
      // In order, none missing, none twice.
      expect(numbers).toEqual(numbers.map((_, i) => numbers[0]! + i));
      expect(numbers[0]).toBe(1);
    } finally {
      await f.stop();
    }
    // A container without the option prints only its start-up lines.
    expect((await k(['logs', 'quiet'])).stdout).not.toContain('chatter');
  });

  it('a run keeps its last MAX_LOG_LINES lines (a chatty container does not fill the memory)', () => {
    const run = new LogRun();
    const seen: string[] = [];
    run.follow((l) => l && seen.push(l.text));
    run.write(Array.from({ length: MAX_LOG_LINES + 5 }, (_, i) => `line ${i}`).join('\n'));
    expect(run.lines).toHaveLength(MAX_LOG_LINES);
    expect(run.lines[0]!.text).toBe('line 5\n');
    expect(seen).toHaveLength(MAX_LOG_LINES + 5);
  });
});
