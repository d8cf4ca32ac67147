import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeSim } from '../kube-sim/index.ts';
import { deployEnv, doc, type DeployEnv } from './e2e-support.ts';

type Sim = Awaited<ReturnType<typeof startKubeSim>>;

const CRASH_LOG = 'password authentication failed for user "taskflow_user"';

/** Each case points one component at an image the scenario makes fail, in its own namespace. */
const CASES = [
  {
    name: 'crash loop',
    values: 'api:\n  image:\n    repository: fail/crash\n',
    id: 'pods.crashloop',
    container: 'taskflow-api',
    logs: CRASH_LOG,
  },
  {
    name: 'image pull',
    values: 'web:\n  image:\n    repository: fail/pull\n',
    id: 'pods.image',
    container: 'web-dashboard',
    reason: /ImagePullBackOff|ErrImagePull/,
  },
  {
    name: 'failing migration',
    values: 'sso:\n  migrations:\n    image:\n      repository: fail/migrate\n',
    id: 'pods.init',
    container: 'migrate',
    logs: 'drizzle: relation already exists',
  },
  {
    name: 'OOM',
    values: 'mcp:\n  image:\n    repository: fail/oom\n',
    id: 'pods.oom',
    container: 'mcp-server',
  },
] as const;

describe('deploy fails fast with the right failure', () => {
  let sim: Sim;
  const envs: DeployEnv[] = [];
  beforeAll(async () => {
    sim = await startKubeSim({
      scenario: {
        images: {
          'fail/crash': { state: 'crash', exitCode: 1, logs: CRASH_LOG },
          'fail/pull': { state: 'pull-error' },
          'fail/migrate': { state: 'crash', exitCode: 1, logs: 'drizzle: relation already exists' },
          'fail/oom': { state: 'oom' },
          'fail/never': { state: 'never-ready' },
        },
        readyAfterMs: 200,
      },
    });
  });
  afterAll(async () => {
    for (const e of envs) e.cleanup();
    await sim?.stop();
  });

  const env = (ns: string, values: string): { se: DeployEnv; file: string } => {
    const se = deployEnv({ kubeconfig: sim.kubeconfigPath, envFile: `TASKFLOW_NAMESPACE=${ns}\n` });
    envs.push(se);
    const file = path.join(se.cwd, 'fail.yaml');
    writeFileSync(file, values);
    return { se, file };
  };

  it.each(CASES)('$name -> $id', async (c) => {
    const { se, file } = env(`tf-${c.id.replace('pods.', '')}`, c.values);
    const r = await se.deploy(['--json', '-f', file, '--timeout', '5m']);
    expect(r.code, r.stderr).toBe(1);
    // Fail fast: on the failure itself, long before the rollout's timeout (the bench measures how fast).
    expect(r.durationMs).toBeLessThan(5 * 60_000);
    const d = doc(r);
    expect(d.ok).toBe(false);
    const f = d.failures.find((x) => x.id === c.id);
    expect(f, JSON.stringify(d.failures)).toBeDefined();
    expect(f?.container).toBe(c.container);
    expect(f?.object).toMatch(/^pod\//);
    if ('logs' in c) expect(f?.logs).toContain(c.logs);
    if ('reason' in c) expect(f?.reason).toMatch(c.reason);
    // Human output on stderr names the failure and the next step.
    expect(r.stderr).toContain(c.id);
    expect(r.stderr).toMatch(/hint:/);
    // The release stays for inspection.
    expect(
      se.kubectl(['get', 'deployments', '-n', `tf-${c.id.replace('pods.', '')}`, '-o', 'name']).stdout,
    ).toContain('deployment');
  });

  it('a component that never gets ready ends in rollout.timeout; --rollback-on-failure removes a first install', async () => {
    const { se, file } = env('tf-timeout', 'mcp:\n  image:\n    repository: fail/never\n');
    const r = await se.deploy(['--json', '-f', file, '--timeout', '4s', '--rollback-on-failure']);
    expect(r.code).toBe(1);
    const d = doc(r);
    expect(d.failures).toEqual([
      expect.objectContaining({
        id: 'rollout.timeout',
        object: 'deployment/mcp-server',
        container: 'mcp-server',
      }),
    ]);
    expect(r.stderr).toMatch(/rolled back: first install failed/);
    expect(se.kubectl(['get', 'deployments', '-n', 'tf-timeout', '-o', 'name']).stdout.trim()).toBe('');
  });
});
