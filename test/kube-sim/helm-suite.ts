// The helm behaviours the simulated cluster must support, run per toolset (helm 4 and helm 3)
// by helm-v4.test.ts and helm-v3.test.ts.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ToolsetName } from '../support/tools.ts';
import { startKubeSim, type KubeSim } from './index.ts';
import { json, waitFor } from './test-helpers.ts';

const CHART = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'demo-chart');

/** Registers the helm tests for one toolset. */
export function helmSuite(ts: ToolsetName): void {
  const helm4 = ts === 'v35';
  let sim: KubeSim;
  const helm = (args: string[], input?: string) =>
    sim.helm(args, { toolset: ts, ...(input !== undefined && { input }) });
  const k = (args: string[]) => sim.kubectl(args, { toolset: ts });

  beforeAll(async () => {
    sim = await startKubeSim({
      scenario: {
        readyAfterMs: 100,
        // 600 s of progress deadline become 3 s.
        progressDeadlineScale: 0.005,
        images: {
          'demo/broken': { state: 'crash', logs: 'boom' },
          'demo/failing-test': { state: 'crash', exitCode: 1 },
        },
      },
    });
  });
  afterAll(async () => {
    await sim?.stop();
  });

  describe(`helm ${helm4 ? 4 : 3}`, () => {
    const ns = 'apps';

    it('installs with --create-namespace, values on stdin and --wait, running the pre-install hook', async () => {
      const r = await helm(
        [
          'upgrade',
          '--install',
          'demo',
          CHART,
          '-n',
          ns,
          '--create-namespace',
          '--wait',
          '--timeout',
          '60s',
          '-f',
          '-',
        ],
        'message: from-stdin\n',
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('STATUS: deployed');
      expect(
        (await k(['get', 'deploy', 'demo-app', '-n', ns, '-o', 'jsonpath={.status.readyReplicas}'])).stdout,
      ).toBe('1');
      expect((await k(['get', 'cm', 'demo-config', '-n', ns, '-o', 'jsonpath={.data.message}'])).stdout).toBe(
        'from-stdin',
      );
      const hook = json<{ status: { conditions: { type: string }[] } }>(
        await k(['get', 'job', 'demo-pre-install', '-n', ns, '-o', 'json']),
      );
      expect(hook.status.conditions.map((c) => c.type)).toContain('Complete');
      const values = json<Record<string, unknown>>(
        await helm(['get', 'values', 'demo', '-n', ns, '--all', '-o', 'json']),
      );
      expect(values).toMatchObject({ message: 'from-stdin', image: { repository: 'demo/app', tag: '1.0' } });
      const status = await helm(['status', 'demo', '-n', ns]);
      expect(status.stdout).toMatch(/STATUS: deployed[\s\S]*REVISION: 1/);
    });

    it('sees existing objects through lookup under --dry-run=server', async () => {
      const plain = await helm(['upgrade', '--install', 'demo', CHART, '-n', ns, '--dry-run=server']);
      expect(plain.code, plain.stderr).toBe(0);
      expect(plain.stdout).toMatch(/lookupFound: '?no/);
      expect(
        (await k(['create', 'secret', 'generic', 'preexisting', '-n', ns, '--from-literal=x=y'])).code,
      ).toBe(0);
      const found = await helm(['upgrade', '--install', 'demo', CHART, '-n', ns, '--dry-run=server']);
      expect(found.stdout).toMatch(/lookupFound: '?yes/);
      expect((await helm(['history', 'demo', '-n', ns, '-o', 'json'])).stdout).not.toContain('"revision":2');
    });

    it('upgrades, keeps history, rolls back', async () => {
      expect(
        (
          await helm([
            'upgrade',
            'demo',
            CHART,
            '-n',
            ns,
            '--set',
            'message=second',
            '--wait',
            '--timeout',
            '60s',
          ])
        ).code,
      ).toBe(0);
      expect((await k(['get', 'cm', 'demo-config', '-n', ns, '-o', 'jsonpath={.data.message}'])).stdout).toBe(
        'second',
      );
      const rb = await helm(['rollback', 'demo', '1', '-n', ns, '--wait', '--timeout', '60s']);
      expect(rb.code, rb.stderr).toBe(0);
      expect((await k(['get', 'cm', 'demo-config', '-n', ns, '-o', 'jsonpath={.data.message}'])).stdout).toBe(
        'from-stdin',
      );
      const hist = json<{ revision: number; status: string; description: string }[]>(
        await helm(['history', 'demo', '-n', ns, '-o', 'json']),
      );
      expect(hist.map((h) => [h.revision, h.status])).toEqual([
        [1, 'superseded'],
        [2, 'superseded'],
        [3, 'deployed'],
      ]);
      expect(hist[2]?.description).toBe('Rollback to 1');
      await waitFor(
        async () =>
          (
            await k([
              'get',
              'deploy',
              'demo-app',
              '-n',
              ns,
              '-o',
              'jsonpath={.status.updatedReplicas}/{.status.readyReplicas}/{.status.replicas}',
            ])
          ).stdout === '1/1/1',
        10_000,
        'rolled back pods',
      );
    });

    it('runs helm test: passes with a healthy test pod, fails with a failing one', async () => {
      const ok = await helm(['test', 'demo', '-n', ns, '--timeout', '30s']);
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(/TEST SUITE:\s+demo-test[\s\S]*Phase:\s+Succeeded/);
      expect(
        (
          await helm([
            'upgrade',
            'demo',
            CHART,
            '-n',
            ns,
            '--reuse-values',
            '--set',
            'testImage=demo/failing-test',
          ])
        ).code,
      ).toBe(0);
      const bad = await helm(['test', 'demo', '-n', ns, '--timeout', '30s']);
      expect(bad.code).not.toBe(0);
      expect(bad.stderr + bad.stdout).toMatch(/demo-test.*failed|pod demo-test failed/i);
    });

    it(`reports a crashing upgrade under --wait as a failure${helm4 ? ', never success' : ''} and rolls it back on request`, async () => {
      const rev = (await helm(['history', 'demo', '-n', ns, '-o', 'json'])).stdout;
      const last = Math.max(...json<{ revision: number }[]>({ stdout: rev }).map((h) => h.revision));
      const broken = await helm([
        'upgrade',
        'demo',
        CHART,
        '-n',
        ns,
        '--reuse-values',
        '--set',
        'image.repository=demo/broken',
        '--wait',
        '--timeout',
        '4s',
      ]);
      expect(broken.code).not.toBe(0);
      expect(broken.stderr).toMatch(
        helm4
          ? /not ready|Progress deadline exceeded|context deadline exceeded/
          : /timed out waiting for the condition|context deadline exceeded/,
      );
      expect((await helm(['status', 'demo', '-n', ns])).stdout).toContain('STATUS: failed');
      const crashing = await k(['get', 'pods', '-n', ns, '-l', 'app=demo-app']);
      expect(crashing.stdout).toMatch(/CrashLoopBackOff|Error/);
      const atomic = await helm([
        'upgrade',
        'demo',
        CHART,
        '-n',
        ns,
        '--reuse-values',
        '--set',
        'image.repository=demo/broken',
        helm4 ? '--rollback-on-failure' : '--atomic',
        '--timeout',
        '4s',
      ]);
      expect(atomic.code).not.toBe(0);
      expect(atomic.stderr).toMatch(/rolled back|roll(ed)? back/i);
      const hist = json<{ revision: number; status: string; description: string }[]>(
        await helm(['history', 'demo', '-n', ns, '-o', 'json']),
      );
      const latest = hist[hist.length - 1];
      expect(latest?.revision).toBe(last + 3);
      expect(latest?.status).toBe('deployed');
      expect(latest?.description).toMatch(/Rollback to/);
    });

    it('uninstalls, removing the release and its objects', async () => {
      const r = await helm(['uninstall', 'demo', '-n', ns, '--wait', '--timeout', '30s']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('release "demo" uninstalled');
      expect((await k(['get', 'deploy,svc,cm', '-n', ns, '-l', 'app=demo-app', '-o', 'name'])).stdout).toBe(
        '',
      );
      expect((await k(['get', 'secrets', '-n', ns, '-l', 'owner=helm', '-o', 'name'])).stdout).toBe('');
      await waitFor(
        async () => (await k(['get', 'pods', '-n', ns, '-l', 'app=demo-app', '-o', 'name'])).stdout === '',
        10_000,
        'pods gone',
      );
      expect((await helm(['status', 'demo', '-n', ns])).code).not.toBe(0);
    });
  });
}
