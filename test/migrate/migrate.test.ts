import { describe, expect, it } from 'vitest';
import { OperationError } from '../../lib/errors.ts';
import { Helm } from '../../lib/helm.ts';
import { Kubectl } from '../../lib/kubectl.ts';
import { Logger } from '../../lib/log.ts';
import { MANUAL_RUN_LABEL } from '../../lib/jobs.ts';
import { type MigrateReport, migrate } from '../../lib/migrate/migrate.ts';
import type { MigrateTarget } from '../../lib/migrate/targets.ts';
import { captureOut } from '../support/command-context.ts';
import { FakeRunner, type Reply, type StartReply, json, list } from '../support/fake-runner.ts';

const target = { namespace: 'tf', release: 'rel' };

interface Scenario {
  deployed?: boolean;
  cronJobs?: string[];
  deployments?: string[];
  /** Job states per poll, per target (the last one repeats). */
  jobPolls?: Partial<Record<MigrateTarget, ('running' | 'Complete' | 'Failed' | 'crashloop')[]>>;
  logs?: Partial<Record<MigrateTarget, string>>;
  existingJobs?: unknown[];
  rollout?: StartReply;
}

/** A fake kube world for migrate: helm status, CronJobs, Jobs whose states advance per poll. */
function world(sc: Scenario) {
  const created: Record<string, { target: MigrateTarget; body: Record<string, unknown> }> = {};
  const polls: Record<string, number> = {};
  const jobObject = (name: string, t: MigrateTarget) => {
    const seq = sc.jobPolls?.[t] ?? ['Complete'];
    const n = polls[name] ?? 0;
    const state = seq[Math.min(n, seq.length - 1)] ?? 'Complete';
    polls[name] = n + 1;
    const conditions =
      state === 'Complete' || state === 'Failed'
        ? [
            {
              type: state,
              status: 'True',
              reason: 'BackoffLimitExceeded',
              message: 'Job has reached the specified backoff limit',
            },
          ]
        : [];
    const pod = {
      kind: 'Pod',
      metadata: { name: `${name}-abcde`, ownerReferences: [{ kind: 'Job', name }] },
      status:
        state === 'crashloop'
          ? {
              phase: 'Running',
              containerStatuses: [
                {
                  name: 'migrate',
                  restartCount: 3,
                  state: { waiting: { reason: 'CrashLoopBackOff' } },
                  lastState: { terminated: { exitCode: 1 } },
                },
              ],
            }
          : state === 'Failed'
            ? {
                phase: 'Failed',
                initContainerStatuses: [{ name: 'wait-for-db', state: { terminated: { exitCode: 0 } } }],
                containerStatuses: [
                  { name: 'migrate', state: { terminated: { exitCode: 1, reason: 'Error' } } },
                ],
              }
            : { phase: 'Running' },
    };
    return [
      {
        kind: 'Job',
        metadata: { name, labels: { [MANUAL_RUN_LABEL]: t }, creationTimestamp: '2025-01-01T00:00:00Z' },
        status: { conditions },
      },
      pod,
    ];
  };
  const reply = (args: string[], stdin: string | undefined): Reply => {
    const a = args.join(' ');
    if (a.startsWith('get --raw /version')) return { stdout: '{}' };
    if (args[0] === 'status') {
      return sc.deployed === false
        ? { exitCode: 1, stderr: 'Error: release: not found' }
        : json({ name: 'rel', namespace: 'tf', version: 1, info: { status: 'deployed' } });
    }
    if (a === 'get cronjobs,deployments -o json') {
      return list([
        ...(sc.cronJobs ?? ['sso-migrate']).map((name) => ({ kind: 'CronJob', metadata: { name } })),
        ...(sc.deployments ?? ['taskflow-api']).map((name) => ({ kind: 'Deployment', metadata: { name } })),
      ]);
    }
    if (args[0] === 'create' && args[1] === 'job') {
      const name = args[2] ?? '';
      return json({
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name, labels: { chart: 'yes' } },
        spec: {},
        status: {},
      });
    }
    if (a === 'create -f -') {
      const body = JSON.parse(stdin ?? '{}') as {
        metadata: { name: string; labels: Record<string, string> };
      };
      created[body.metadata.name] = { target: body.metadata.labels[MANUAL_RUN_LABEL] as MigrateTarget, body };
      return { stdout: `job.batch/${body.metadata.name} created` };
    }
    if (a === 'get jobs,pods -o json') {
      return list(Object.entries(created).flatMap(([name, c]) => jobObject(name, c.target)));
    }
    if (a === `get jobs -l ${MANUAL_RUN_LABEL} -o json`) {
      return list([
        ...(sc.existingJobs ?? []),
        ...Object.entries(created).map(([name, c]) => jobObject(name, c.target)[0]),
      ]);
    }
    if (args[0] === 'delete') return { stdout: '' };
    if (args[0] === 'logs') {
      const name = Object.keys(created).find((n) => (args[1] ?? '').startsWith(n)) ?? '';
      return { stdout: sc.logs?.[created[name]?.target ?? 'sso'] ?? '' };
    }
    if (a.startsWith('rollout restart')) return { stdout: 'deployment.apps/taskflow-api restarted' };
    if (a.startsWith('get deployment taskflow-api')) {
      return json({
        kind: 'Deployment',
        metadata: { name: 'taskflow-api' },
        spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': 'T1' } } } },
      });
    }
    if (a === 'get pods -o json') return list([]);
    throw new Error(`unexpected call: ${a}`);
  };
  const startReply = (args: string[]): StartReply => {
    if (args[0] === 'logs') {
      const name = (args[2] ?? '').replace('job/', '');
      const t = created[name]?.target ?? 'sso';
      return { stdout: sc.logs?.[t] ?? '', afterMs: 5 };
    }
    if (args[0] === 'rollout')
      return sc.rollout ?? { stdout: 'deployment "taskflow-api" successfully rolled out\n', afterMs: 20 };
    return {};
  };
  const runner = new FakeRunner(reply, (child) => startReply(child.args));
  return { runner, created };
}

async function run(
  sc: Scenario,
  targets: MigrateTarget[],
  extra: { json?: boolean; timeoutMs?: number } = {},
) {
  const w = world(sc);
  const out = captureOut();
  const stdout = captureOut();
  const log = new Logger({ out: out.stream, interactive: false, color: false });
  const kubectl = new Kubectl(w.runner, 'kubectl', target);
  const helm = new Helm(w.runner, 'helm', 4, target);
  let code: number | undefined;
  let error: unknown;
  try {
    code = await migrate(
      { log, stdout: stdout.stream, signal: new AbortController().signal },
      { kubectl, helm, target },
      targets,
      {
        timeoutMs: extra.timeoutMs ?? 10_000,
        timeoutText: '10s',
        json: extra.json ?? false,
        pollMs: 5,
        acceptDataLoss: false,
        yes: false,
      },
    );
  } catch (err) {
    error = err;
  }
  return { ...w, code, error, out: out.text(), stdout: stdout.text() };
}

describe('npm run migrate (fake cluster)', () => {
  it('sso: renders a Job from cronjob/sso-migrate, labels it, streams its logs with a prefix, then deletes it', async () => {
    const r = await run(
      {
        logs: { sso: 'drizzle push: done\nseed: ok\n' },
        jobPolls: { sso: ['running', 'running', 'Complete'] },
      },
      ['sso'],
    );
    expect(r.error).toBeUndefined();
    expect(r.code).toBe(0);
    const [name] = Object.keys(r.created);
    expect(name).toMatch(/^sso-migrate-manual-\d{8}-\d{6}-[0-9a-f]{4}$/);
    expect(r.runner.find('create', 'job')[0]?.argv).toContain('--from=cronjob/sso-migrate');
    const body = r.created[name!]!.body as { metadata: { labels: Record<string, string> } };
    expect(body.metadata.labels).toMatchObject({
      chart: 'yes',
      [MANUAL_RUN_LABEL]: 'sso',
      'app.kubernetes.io/instance': 'rel',
    });
    expect(r.out).toContain(`[sso] started job/${name} from cronjob/sso-migrate`);
    expect(r.out).toContain('[sso] drizzle push: done\n[sso] seed: ok\n');
    expect(r.out).toMatch(new RegExp(`✓ sso: job/${name} completed in \\d+\\.\\ds`));
    // The SSO reads the seeded default organisation only when it starts; this seed's output says
    // nothing of it, so the restart is advised, and why.
    expect(r.out).toContain(
      "! sso: the seed's output did not say whether it created the default organisation; a restart of the SSO makes sure new users join it\n  hint: restart it: kubectl rollout restart deployment/sso-platform -n tf\n",
    );
    expect(r.runner.find('delete', 'job')[0]?.argv).toEqual(
      expect.arrayContaining(['delete', 'job', name, '--ignore-not-found', '--wait=false']),
    );
    // The log follower was started with the Job and stopped (or ended) before the command returned.
    expect(r.runner.find('logs', '-f')).toHaveLength(1);
  });

  it('a failed Job: exit 1, its last log lines prefixed, the Job kept for inspection', async () => {
    const r = await run(
      { logs: { sso: 'error: relation "user" already exists\n' }, jobPolls: { sso: ['running', 'Failed'] } },
      ['sso'],
      { json: true },
    );
    expect(r.code).toBe(1);
    const [name] = Object.keys(r.created);
    expect(r.out).toContain(
      '✗ sso migration failed: BackoffLimitExceeded: Job has reached the specified backoff limit',
    );
    expect(r.out).toContain('last log lines of sso:\n[sso] error: relation "user" already exists');
    expect(r.out).toContain(
      `hint: inspect: kubectl describe job/${name} -n tf; kubectl logs job/${name} -n tf (kept for inspection)`,
    );
    expect(r.runner.find('delete')).toHaveLength(0);
    // The logs are those of the container that failed, not of the init container before it.
    const logsCall = r.runner.find('logs').find((c) => !c.started);
    expect(logsCall?.argv).toEqual(expect.arrayContaining(['-c', 'migrate']));
    expect(logsCall?.argv).not.toContain('--all-containers=true');
    const doc = JSON.parse(r.stdout) as MigrateReport;
    expect(doc).toMatchObject({
      ok: false,
      release: 'rel',
      namespace: 'tf',
      cleanup: { deleted: [], kept: [name] },
    });
    expect(doc.targets[0]).toMatchObject({ target: 'sso', ok: false, method: 'job', object: `job/${name}` });
    expect(doc.targets[0]?.logs).toContain('already exists');
  });

  it('a crash-looping migration pod fails at once, with the previous run logs', async () => {
    const r = await run(
      { logs: { sso: 'ECONNREFUSED sso-postgres:5432\n' }, jobPolls: { sso: ['crashloop'] } },
      ['sso'],
    );
    expect(r.code).toBe(1);
    expect(r.out).toMatch(
      /✗ sso migration failed: CrashLoopBackOff in container migrate of pod sso-migrate-manual-.*-abcde: container keeps crashing \(exit code 1\)/,
    );
    const logsCall = r.runner.recorded.find((c) => c.argv.includes('--previous'));
    expect(logsCall?.argv).toEqual(expect.arrayContaining(['-c', 'migrate', '--previous']));
  });

  it('gives up at --timeout with the logs so far', async () => {
    const r = await run({ jobPolls: { sso: ['running'] }, logs: { sso: 'waiting for lock\n' } }, ['sso'], {
      timeoutMs: 60,
    });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/✗ sso migration failed: job\/sso-migrate-manual-\S+ did not finish within 10s/);
  });

  it('all: sso as a Job and api as a restart, concurrently, each line prefixed', async () => {
    const r = await run(
      { logs: { sso: 'seed: ok\n' }, jobPolls: { sso: ['running', 'running', 'running', 'Complete'] } },
      ['sso', 'api'],
    );
    expect(r.code).toBe(0);
    expect(r.out).toContain('[sso] seed: ok');
    expect(r.out).toContain('[api] deployment "taskflow-api" successfully rolled out');
    expect(r.out).toContain('✓ sso: job/');
    expect(r.out).toContain('✓ api: deployment/taskflow-api restarted and ready');
    // Concurrent: the API restart starts before the sso Job's polling is over.
    const order = r.runner.recorded.map((c) => c.argv.slice(3).join(' '));
    const restart = order.findIndex((a) => a.startsWith('rollout restart'));
    const lastPoll = order.lastIndexOf('get jobs,pods -o json');
    expect(restart).toBeGreaterThan(-1);
    expect(restart).toBeLessThan(lastPoll);
  });

  it('api: a Job from cronjob/api-migrate when the release has one', async () => {
    const r = await run(
      { cronJobs: ['sso-migrate', 'api-migrate'], logs: { api: 'alembic upgrade head\n' } },
      ['api'],
    );
    expect(r.code).toBe(0);
    expect(r.runner.find('create', 'job')[0]?.argv).toContain('--from=cronjob/api-migrate');
    expect(r.runner.find('rollout')).toHaveLength(0);
    expect(r.out).toContain('[api] alembic upgrade head');
  });

  it('api: a failed rollout is a failure with its reason', async () => {
    const r = await run(
      {
        rollout: {
          stderr: 'error: deployment "taskflow-api" exceeded its progress deadline\n',
          exitCode: 1,
          afterMs: 10,
        },
      },
      ['api'],
    );
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      '✗ api migration failed: deployment "taskflow-api" exceeded its progress deadline',
    );
  });

  it('refuses a release that is not deployed, before creating anything', async () => {
    const r = await run({ deployed: false }, ['sso']);
    expect(r.error).toBeInstanceOf(OperationError);
    expect((r.error as Error).message).toBe('release "rel" is not installed in namespace "tf"');
    expect(r.runner.find('create')).toHaveLength(0);
  });

  it('refuses sso when the release has no sso-migrate CronJob', async () => {
    const r = await run({ cronJobs: [] }, ['sso']);
    expect((r.error as Error).message).toMatch(/^cronjob\/sso-migrate not found in namespace tf/);
  });

  it('cleanup removes older finished manual Jobs and keeps only the newest failed one', async () => {
    const old = (name: string, t: string, type: string) => ({
      kind: 'Job',
      metadata: { name, labels: { [MANUAL_RUN_LABEL]: 'sso' }, creationTimestamp: t },
      status: { conditions: [{ type, status: 'True' }] },
    });
    const r = await run(
      {
        existingJobs: [
          old('sso-migrate-manual-1', '2024-01-01T00:00:00Z', 'Failed'),
          old('sso-migrate-manual-2', '2024-01-02T00:00:00Z', 'Failed'),
          old('sso-migrate-manual-3', '2024-01-03T00:00:00Z', 'Complete'),
        ],
      },
      ['sso'],
    );
    expect(r.code).toBe(0);
    const deleted = r.runner.find('delete', 'job')[0]?.argv ?? [];
    expect(deleted).toEqual(
      expect.arrayContaining(['sso-migrate-manual-1', 'sso-migrate-manual-3', Object.keys(r.created)[0]]),
    );
    expect(deleted).not.toContain('sso-migrate-manual-2');
  });
});
