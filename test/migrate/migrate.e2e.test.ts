import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MigrateReport } from '../../lib/migrate/migrate.ts';
import { type SimRelease, simRelease } from './sim-release.ts';

const CRASH_LOG = 'drizzle: relation "organization" already exists';
// What the SSO's seed prints about the default organisation (scripts/seed-setup.ts), on a fresh
// database and on one that has it.
const seedLog = (verb: 'creating' | 'updating') =>
  [
    '🔐 Seeding OAuth clients...',
    '  ✅ Taskflow SSO Public Client (creating...)',
    '📊 Seeding default organization...',
    '',
    `  ✅ Taskflow (${verb}...)`,
    '✅ Successfully configured!',
  ].join('\n');

describe('npm run migrate on the simulated cluster', () => {
  let r: SimRelease;
  beforeAll(async () => {
    r = await simRelease({
      ns: 'tf-migrate',
      scenario: {
        images: {
          'fail/migrate': { state: 'crash', exitCode: 1, logs: CRASH_LOG },
          'taskflow/sso-platform-migrations': { state: 'complete', logs: seedLog('creating') },
          'seeded/migrate': { state: 'complete', logs: seedLog('updating') },
        },
        readyAfterMs: 150,
      },
    });
  }, 180_000);
  afterAll(async () => r?.stop());

  const manualJobs = async (): Promise<string[]> =>
    (
      await r.kubectl([
        'get',
        'jobs',
        '-l',
        'taskflow/manual-migration',
        '-o',
        'jsonpath={.items[*].metadata.name}',
      ])
    ).stdout
      .split(/\s+/)
      .filter(Boolean);

  it('sso: a Job from cronjob/sso-migrate runs to completion, its output prefixed, then it is deleted', async () => {
    const res = await r.run('run-migrations', ['sso']);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toMatch(
      /\[sso\] started job\/sso-migrate-manual-\d{8}-\d{6}-[0-9a-f]{4} from cronjob\/sso-migrate/,
    );
    expect(res.stdout).toMatch(/✓ sso: job\/sso-migrate-manual-\S+ completed in \d+\.\ds/);
    expect(await manualJobs()).toEqual([]);
    // the seed created the default organisation: the running SSO needs a restart, and the command is given
    expect(res.stdout).toContain(
      '! sso: this run created the default organisation; the running SSO looked it up when it started, so new users join it only after a restart\n  hint: restart it: kubectl rollout restart deployment/sso-platform -n tf-migrate\n',
    );
  });

  it('sso on a database that has the default organisation: no restart needed, and --json says why', async () => {
    const patch = await r.kubectl([
      'patch',
      'cronjob',
      'sso-migrate',
      '--type',
      'json',
      '-p',
      '[{"op":"replace","path":"/spec/jobTemplate/spec/template/spec/containers/0/image","value":"seeded/migrate:1"}]',
    ]);
    expect(patch.code, patch.stderr).toBe(0);
    const res = await r.run('run-migrations', ['sso']);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toContain(
      '\nsso: the default organisation was there already: the running SSO has it, no restart needed\n',
    );
    expect(res.stdout).not.toContain('rollout restart');
    const json = await r.run('run-migrations', ['sso', '--json']);
    expect((JSON.parse(json.stdout) as MigrateReport).targets[0]).toMatchObject({
      target: 'sso',
      ok: true,
      defaultOrganization: 'existed',
    });
  });

  it('all: sso as a Job and api as a restart of taskflow-api, concurrently, one JSON document', async () => {
    const res = await r.run('run-migrations', ['all', '--json']);
    expect(res.code, res.stderr).toBe(0);
    const doc = JSON.parse(res.stdout) as MigrateReport;
    expect(doc).toMatchObject({ ok: true, release: 'taskflow', namespace: 'tf-migrate' });
    expect(doc.targets.map((t) => [t.target, t.ok, t.method])).toEqual([
      ['sso', true, 'job'],
      ['api', true, 'restart'],
    ]);
    expect(res.stderr).toContain('[api] ');
    expect(res.stderr).toContain('[sso] ');
  });

  it('a failing migration: exit 1 with its logs; the newest failed Job is kept, older ones go', async () => {
    const patch = await r.kubectl([
      'patch',
      'cronjob',
      'sso-migrate',
      '--type',
      'json',
      '-p',
      '[{"op":"replace","path":"/spec/jobTemplate/spec/template/spec/containers/0/image","value":"fail/migrate:1"}]',
    ]);
    expect(patch.code, patch.stderr).toBe(0);
    const first = await r.run('run-migrations', ['sso']);
    expect(first.code).toBe(1);
    expect(first.stdout).toMatch(/✗ sso migration failed: /);
    expect(first.stdout).toContain(`[sso] ${CRASH_LOG}`);
    const kept = await manualJobs();
    expect(kept).toHaveLength(1);
    expect(first.stdout).toContain(`kubectl logs job/${kept[0]} -n tf-migrate (kept for inspection)`);

    const second = await r.run('run-migrations', ['sso', '--json']);
    expect(second.code).toBe(1);
    const doc = JSON.parse(second.stdout) as MigrateReport;
    expect(doc.targets[0]?.logs).toContain(CRASH_LOG);
    expect(doc.cleanup.deleted).toEqual(kept);
    expect(await manualJobs()).toEqual(doc.cleanup.kept);
  });

  it('--accept-data-loss asks first, backs up the SSO database, then gives drizzle-kit its --force', async () => {
    const refused = await r.run('run-migrations', ['sso', '--accept-data-loss']);
    expect(refused.code).toBe(2);
    expect(refused.stdout + refused.stderr).toContain('add --yes to confirm without a terminal');
    const apiOnly = await r.run('run-migrations', ['api', '--accept-data-loss', '--yes']);
    expect(apiOnly.code).toBe(2);
    expect(apiOnly.stdout + apiOnly.stderr).toContain(
      '--accept-data-loss applies to the SSO migrations only',
    );
    // The CronJob still runs the failing image (the test before): the Job is kept, to be read.
    const res = await r.run('run-migrations', ['sso', '--accept-data-loss', '--yes', '--json']);
    const doc = JSON.parse(res.stdout) as MigrateReport;
    expect(doc.backup).toMatch(/^backups\/taskflow-sso-.*\.dump$/);
    expect(existsSync(path.join(r.se.cwd, doc.backup!))).toBe(true);
    const [job] = doc.cleanup.kept;
    const env = await r.kubectl([
      'get',
      'job',
      job!,
      '-o',
      'jsonpath={.spec.template.spec.containers[?(@.name=="migrate")].env[?(@.name=="TASKFLOW_ACCEPT_DATA_LOSS")].value}',
    ]);
    expect(env.stdout).toBe('true');
  });

  it('a release that is not deployed: exit 1, one line naming the next step', async () => {
    const res = await r.run('run-migrations', ['sso', '-n', 'nowhere']);
    expect(res.code).toBe(1);
    // The first line says where it looked; the second why it stopped.
    expect(res.stdout.split('\n')[0]).toMatch(
      /^› context kube-sim \(local, the simulated cluster, .*\), namespace nowhere, release taskflow$/,
    );
    expect(res.stdout.split('\n')[1]).toBe('✗ release "taskflow" is not installed in namespace "nowhere"');
  });
});
