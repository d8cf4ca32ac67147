import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeSim } from '../kube-sim/index.ts';
import { runScript } from '../support/e2e.ts';
import { deployEnv, doc, type DeployEnv } from './e2e-support.ts';
import { toolset } from '../support/tools.ts';
import type { CheckReport } from '../../lib/checks.ts';

type Sim = Awaited<ReturnType<typeof startKubeSim>>;

interface Lease {
  metadata: { resourceVersion: string };
  spec: { holderIdentity?: string; renewTime?: string };
}

const HOST = os.hostname().split('.')[0] || 'localhost';

describe('one writing command per release at a time (the release lock)', () => {
  let sim: Sim;
  const envs: DeployEnv[] = [];
  beforeAll(async () => {
    // progressDeadlineScale 1: a never-ready pod must not end the Ctrl+C test's rollout early.
    sim = await startKubeSim({
      scenario: {
        images: { 'fail/never': { state: 'never-ready' } },
        readyAfterMs: 200,
        progressDeadlineScale: 1,
      },
    });
  });
  afterAll(async () => {
    for (const e of envs) e.cleanup();
    await sim?.stop();
  });
  const env = (ns: string): DeployEnv => {
    const se = deployEnv({ kubeconfig: sim.kubeconfigPath, envFile: `TASKFLOW_NAMESPACE=${ns}\n` });
    envs.push(se);
    return se;
  };
  const lease = (se: DeployEnv, ns: string): Lease | undefined => {
    const r = se.kubectl(['get', 'lease', 'taskflow-lock-taskflow', '-n', ns, '-o', 'json']);
    return r.code === 0 ? (JSON.parse(r.stdout) as Lease) : undefined;
  };
  /** A Lease written as another command would (host, pid, renewed `agoS` seconds ago). */
  const holdAs = (se: DeployEnv, ns: string, host: string, pid: number, agoS: number) => {
    se.kubectl(['create', 'namespace', ns]);
    const t = new Date(Date.now() - agoS * 1000).toISOString().replace('Z', '000Z');
    const file = path.join(se.cwd, `lease-${ns}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: 'taskflow-lock-taskflow', namespace: ns },
        spec: {
          holderIdentity: `deploy@${host}:${pid}:0badc0de`,
          leaseDurationSeconds: 30,
          acquireTime: t,
          renewTime: t,
        },
      }),
    );
    const r = se.kubectl(['apply', '-f', file]);
    expect(r.code, r.stderr).toBe(0);
  };
  const helmRevision = (se: DeployEnv, ns: string) =>
    (JSON.parse(se.helm(['list', '-n', ns, '-o', 'json']).stdout) as { revision: string }[])[0]?.revision;

  it('two deploys at once: both exit 0, the second waited naming the first, one revision, lease released', async () => {
    const se = env('tf-race');
    const pids: number[] = [];
    const [a, b] = await Promise.all(
      [0, 1].map(() => se.deploy(['--json'], { onStarted: (p) => void pids.push(p) })),
    );
    for (const r of [a, b]) {
      expect(r?.code, r?.stderr).toBe(0);
      expect(doc(r!).ok).toBe(true);
      expect(r?.stderr).not.toMatch(/already exists|another helm operation|helm rollback/);
    }
    const waited = [a, b].filter((r) => r?.stderr.includes('is held by npm run deploy'));
    expect(waited).toHaveLength(1);
    const other = pids.find((p) => waited[0]?.stderr.includes(`(host ${HOST}, pid ${p}, since `));
    expect(other).toBeDefined();
    expect(waited[0]?.stderr).toMatch(/waiting for it to finish \(--no-wait refuses instead\)/);
    // the second found nothing to change: one revision
    expect(String(helmRevision(se, 'tf-race'))).toBe('1');
    expect(lease(se, 'tf-race')?.spec.holderIdentity).toBeUndefined();
  });

  it('--no-wait while another host holds it: exit 2 naming the holder, nothing written', async () => {
    const se = env('tf-busy');
    holdAs(se, 'tf-busy', 'other-laptop', 4242, 0);
    const before = lease(se, 'tf-busy');
    const r = await se.deploy(['--no-wait', '--json']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(
      /release "taskflow" is held by npm run deploy \(host other-laptop, pid 4242, since .* UTC, \d+ s ago\): not waiting \(--no-wait\)/,
    );
    expect(r.stderr).toContain(
      'hint: run it again when that one has finished (without --no-wait it waits): npm run deploy',
    );
    expect(se.calls().filter((c) => c.tool === 'helm' && c.args.includes('upgrade'))).toEqual([]);
    expect(lease(se, 'tf-busy')?.metadata.resourceVersion).toBe(before?.metadata.resourceVersion);
    // another writing command refuses the same way
    const m = await runScript('run-migrations', ['sso', '--no-wait'], se);
    expect(m.code, m.stderr).toBe(2);
    expect(m.stdout + m.stderr).toContain('is held by npm run deploy (host other-laptop, pid 4242');
    expect(m.stdout + m.stderr).toContain('without --no-wait it waits): npm run migrate -- sso');
    expect(se.kubectl(['get', 'jobs', '-n', 'tf-busy', '-o', 'name']).stdout).toBe('');
  });

  it('Ctrl+C while waiting exits 130 and leaves the holder its lease', async () => {
    const se = env('tf-wait-int');
    holdAs(se, 'tf-wait-int', 'other-laptop', 4242, 0);
    const before = lease(se, 'tf-wait-int');
    let pid = 0;
    const run = se.deploy(['--json'], { onStarted: (p) => (pid = p) });
    const polls = () => se.calls().filter((c) => c.args.includes('create') && c.args.includes('-f')).length;
    for (let i = 0; i < 600 && polls() < 2; i++) await new Promise((r) => setTimeout(r, 100));
    expect(polls()).toBeGreaterThanOrEqual(2);
    process.kill(pid, 'SIGINT');
    const r = await run;
    expect(r.code, r.stderr).toBe(130);
    // --json: the waiting line on stderr, stdout one document
    expect(doc(r).ok).toBe(false);
    expect(r.stderr).toContain('is held by npm run deploy (host other-laptop, pid 4242');
    expect(lease(se, 'tf-wait-int')?.metadata.resourceVersion).toBe(before?.metadata.resourceVersion);
  });

  it('Ctrl+C while holding the release (during the rollout) gives the lease back', async () => {
    const se = env('tf-hold-int');
    const never = path.join(se.cwd, 'never.yaml');
    writeFileSync(never, 'mcp:\n  image:\n    repository: fail/never\n');
    let pid = 0;
    const run = se.deploy(['--timeout', '60s', '-f', never], { onStarted: (p) => (pid = p) });
    const watching = () =>
      se.calls().some((c) => c.args.includes('rollout') || c.args.some((a) => a.startsWith('pods,')));
    for (let i = 0; i < 600 && !watching(); i++) await new Promise((r) => setTimeout(r, 100));
    expect(lease(se, 'tf-hold-int')?.spec.holderIdentity).toMatch(
      new RegExp(`^deploy@${HOST}:${pid}:[0-9a-f]+$`),
    );
    process.kill(pid, 'SIGINT');
    const r = await run;
    expect(r.code, r.stdout + r.stderr).toBe(130);
    expect(lease(se, 'tf-hold-int')?.spec.holderIdentity).toBeUndefined();
  });

  it('doctor on a release helm is upgrading: no rollback while its holder is there; once nobody holds it, the repair', async () => {
    const ns = 'tf-doc-lock';
    const se = env(ns);
    const first = await se.deploy(['--json']);
    expect(first.code, first.stderr).toBe(0);
    // A deploy on another machine holds the release, and its helm upgrade waits for a pod never ready.
    holdAs(se, ns, 'other-host', 4242, 0);
    const chart = path.join(import.meta.dirname, '..', '..', 'charts', 'taskflow');
    const helm = spawn(
      toolset('v35').helm,
      [
        'upgrade',
        'taskflow',
        chart,
        '-n',
        ns,
        '--reuse-values',
        '--set',
        'mcp.image.repository=fail/never',
        '--wait',
        '--timeout',
        '120s',
      ],
      { env: se.env, stdio: 'ignore' },
    );
    const exited = new Promise((r) => helm.once('exit', r));
    try {
      const status = () =>
        (
          JSON.parse(se.helm(['status', 'taskflow', '-n', ns, '-o', 'json']).stdout || '{}') as {
            info?: { status?: string };
          }
        ).info?.status;
      await expect.poll(status, { timeout: 60_000, interval: 200 }).toBe('pending-upgrade');
      const doctor = async () => {
        const r = await runScript('doctor', ['-n', ns, '--json'], se);
        return (JSON.parse(r.stdout) as CheckReport).checks.find((c) => c.id === 'release.status');
      };
      // Renewed now, as its holder would every 10 s, however long the wait above took.
      holdAs(se, ns, 'other-host', 4242, 0);
      const held = await doctor();
      expect(held).toMatchObject({
        status: 'warn',
        hint: `let it finish, then run npm run doctor -- -n ${ns} again`,
      });
      expect(held?.detail).toMatch(
        /is pending-upgrade(: [^;]*)?; npm run deploy \(host other-host, pid 4242, since .*\) holds the release and is changing it now/,
      );
      expect(`${held?.detail} ${held?.hint}`).not.toMatch(/rollback/);

      // The upgrade dies with its holder's machine; its lease is gone too: now the repair is advised.
      helm.kill('SIGKILL');
      await exited;
      expect(se.kubectl(['delete', 'lease', 'taskflow-lock-taskflow', '-n', ns]).code).toBe(0);
      const free = await doctor();
      expect(free).toMatchObject({ status: 'fail' });
      expect(free?.detail).toContain('no command of this suite holds the release (its lock checked)');
      expect(free?.hint).toContain(`helm rollback taskflow -n ${ns}, then npm run deploy -- -n ${ns}`);
    } finally {
      helm.kill('SIGKILL');
    }
  });

  it('a fresh lease of a dead process on this machine is taken over at once', async () => {
    const se = env('tf-dead');
    const dead = spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' });
    holdAs(se, 'tf-dead', HOST, Number(dead.stdout.trim()), 0);
    const r = await se.deploy(['--no-wait', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      new RegExp(
        `took release "taskflow" over from npm run deploy \\(host ${HOST}, pid \\d+.*\\): its process \\d+ on this machine is gone`,
      ),
    );
    expect(lease(se, 'tf-dead')?.spec.holderIdentity).toBeUndefined();
  });

  it("another host's expired lease is taken over", async () => {
    const se = env('tf-expired');
    holdAs(se, 'tf-expired', 'lost-laptop', 4242, 120);
    const r = await se.deploy(['--no-wait', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /took release "taskflow" over from npm run deploy \(host lost-laptop, pid 4242.*\): its lease was last renewed 2m \d+s ago \(it lasts 30 s\)/,
    );
    expect(lease(se, 'tf-expired')?.spec.holderIdentity).toBeUndefined();
  });
});
