// `npm run logs` on the simulated cluster with the real kubectl and helm: the release's lines with their
// prefixes (init containers too), --json, a secret of the release masked, exit codes of a wrong name, a
// missing release and no cluster; then a follow run that sees a rollout's new pod join and the old one
// leave, runs one kubectl per followed container (and the pod watch), and stops every one on Ctrl+C.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeSim } from '../kube-sim/index.ts';
import { type ScriptEnv, scriptEnv } from '../support/e2e.ts';
import {
  alive,
  installRelease,
  kubectl,
  kubectlOut,
  run,
  startScript,
  childPids,
} from '../port-forward/e2e-helpers.ts';

const NS = 'tf-logs';
const API_PASSWORD = 'api-db-password-4f2c9e7a1b';

function commandOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

interface Line {
  time: string;
  component: string;
  pod: string;
  container: string;
  line: string;
}

describe('npm run logs on the simulated cluster', () => {
  let sim: Awaited<ReturnType<typeof startKubeSim>>;
  let se: ScriptEnv;

  beforeAll(async () => {
    sim = await startKubeSim({
      scenario: {
        readyAfterMs: 100,
        // The MCP server prints the API database's password: the release's Secret holds it, the env file not.
        images: { 'taskflow/mcp-server': { logs: `connecting with password=${API_PASSWORD} to the api` } },
      },
    });
    se = scriptEnv({ kubeconfig: sim.kubeconfigPath, envFile: `TASKFLOW_NAMESPACE=${NS}\n` });
    await installRelease(se, NS, { api: { database: { password: API_PASSWORD } } });
  });
  afterAll(async () => {
    se?.cleanup();
    await sim?.stop();
  });

  it('prints every component with its prefix, init containers included, and masks the release’s secrets', async () => {
    const r = await run('logs', ['--no-follow'], se);
    expect(r.code, r.stderr).toBe(0);
    const sso = await kubectlOut(se, [
      'get',
      'pods',
      '-n',
      NS,
      '-l',
      'app.kubernetes.io/component=sso',
      '-o',
      'name',
    ]);
    const suffix = sso.replace('pod/sso-platform-', '');
    expect(r.stdout).toMatch(new RegExp(`^sso/${suffix}:wait-for-db +\\| Running sh -c`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^sso/${suffix} +\\|  ✓ Ready in 312ms$`, 'm'));
    expect(r.stdout).toMatch(/^api\/[a-z0-9]+-[a-z0-9]{5} +\| INFO: {5}Application startup complete\.$/m);
    expect(r.stdout).toMatch(/^mcp\/\S+ +\| connecting with password=•••••• to the api$/m);
    expect(r.stdout + r.stderr).not.toContain(API_PASSWORD);
    // No colour codes without a terminal.
    expect(r.stdout).not.toContain('\u001b[');
  });

  it('--json: one object a line, only the named components (by prefix), the time split off', async () => {
    const r = await run('logs', ['mc', 'web', '--json', '--no-follow'], se);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Line);
    expect(new Set(lines.map((l) => l.component))).toEqual(new Set(['mcp', 'web']));
    for (const l of lines) {
      expect(Object.keys(l)).toEqual(['time', 'component', 'pod', 'container', 'line']);
      expect(l.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/);
      expect(l.line).not.toMatch(/^\d{4}-/);
    }
    expect(lines).toContainEqual(
      expect.objectContaining({
        component: 'mcp',
        container: 'mcp-server',
        line: 'connecting with password=•••••• to the api',
      }),
    );
    const grep = await run('logs', ['--grep', 'Ready in', '--json', '--no-follow'], se);
    const matched = grep.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Line);
    expect(matched.map((l) => l.component).sort()).toEqual(['sso', 'web']);
  });

  it('a wrong name is exit 2 with the valid ones; a missing release exit 1; no cluster exit 3', async () => {
    const wrong = await run('logs', ['apii', '--no-follow'], se);
    expect(wrong.code).toBe(2);
    expect(wrong.stdout + wrong.stderr).toContain('unknown component "apii"');
    expect(wrong.stdout + wrong.stderr).toMatch(
      /did you mean api\? npm run logs -- api \(components: api, api-migrate/,
    );
    const missing = await run('logs', ['-n', 'elsewhere', '--no-follow'], se);
    expect(missing.code).toBe(1);
    expect(missing.stdout + missing.stderr).toContain('npm run deploy');
    const none = scriptEnv({ envFile: `TASKFLOW_NAMESPACE=${NS}\n` });
    try {
      expect((await run('logs', ['--no-follow'], none)).code).toBe(3);
    } finally {
      none.cleanup();
    }
  });

  it('--follow: a rollout’s new pod joins, the old one leaves with a note; Ctrl+C stops every kubectl', async () => {
    const before = await kubectlOut(se, [
      'get',
      'pods',
      '-n',
      NS,
      '-l',
      'app.kubernetes.io/component=mcp',
      '-o',
      'name',
    ]);
    const oldSuffix = before.replace('pod/mcp-server-', '');
    const f = startScript('logs', ['mcp', '--follow'], se);
    let pids: number[] = [];
    try {
      await expect
        .poll(() => f.output(), { timeout: 30_000, interval: 100 })
        .toContain(`mcp/${oldSuffix} | connecting with password=••••••`);
      // One kubectl per followed container (mcp has one) and the pod watch.
      await expect.poll(() => childPids(f.pid).length, { timeout: 10_000, interval: 100 }).toBe(2);
      const restarted = await kubectl(se, ['rollout', 'restart', 'deployment/mcp-server', '-n', NS]);
      expect(restarted.code, restarted.stderr).toBe(0);
      await expect
        .poll(() => f.output(), { timeout: 30_000, interval: 100 })
        .toContain(`mcp/${oldSuffix} | -- pod mcp-server-${oldSuffix} is gone`);
      const joined = () => [...f.output().matchAll(/^mcp\/(\S+) +\| connecting/gm)].map((m) => m[1]);
      await expect
        .poll(() => joined().filter((s) => s !== oldSuffix), { timeout: 30_000, interval: 100 })
        .toHaveLength(1);
      await expect.poll(() => childPids(f.pid).length, { timeout: 10_000, interval: 100 }).toBe(2);
      pids = childPids(f.pid);
      expect(pids.map((p) => commandOf(p).slice(3, 5).join(' ')).sort()).toEqual([
        'get pods',
        expect.stringMatching(/^logs mcp-server-/),
      ]);
    } finally {
      expect(await f.stop('SIGINT')).toBe(130);
    }
    for (const pid of pids) expect(alive(pid), `kubectl ${pid}`).toBe(false);
    expect(f.output()).not.toContain(API_PASSWORD);
  });
});
