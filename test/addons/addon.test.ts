import { afterEach, describe, expect, it } from 'vitest';
import { parseAddonOptions, runAddon } from '../../lib/addons/index.ts';
import { ADDONS } from '../../lib/addons/registry.ts';
import { waitForRollouts } from '../../lib/addons/wait.ts';
import type { ParsedValues } from '../../lib/cli.ts';
import { CHART_PATH } from '../../lib/context.ts';
import { ExitCode, TaskflowError, exitCodeOf } from '../../lib/errors.ts';
import { FAILED_MIGRATE, UNSCHEDULABLE_DB } from '../fixtures/pods.ts';
import { testCtx, testSession } from '../support/command-context.ts';
import { FakeRunner, type Reply } from '../support/fake-runner.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const ADMIN = 'pgadmin-admin-pass-123';
const SSO_DB = 'sso-db-password-0123456789';

/** A fake release: helm status/values/upgrade, the add-on Secrets, Deployments and the SSO ConfigMap. */
function fakeCluster(
  opts: {
    installed?: boolean;
    pgadmin?: boolean;
    mailpit?: boolean;
    /** a Secret not there */ missing?: string;
  } = {},
) {
  const state = {
    pgadmin: opts.pgadmin ?? false,
    mailpit: opts.mailpit ?? false,
    revision: 1,
    leases: [] as string[],
  };
  const runner = new FakeRunner(
    (args, stdin): Reply => {
      const [v0, v1, v2] = args;
      // the release lock (lib/release-lock.ts): the Lease is written back as sent
      if ((v0 === 'create' || v0 === 'replace') && v1 === '-f' && stdin?.includes('"kind":"Lease"')) {
        state.leases.push(
          `${v0} ${(JSON.parse(stdin) as { spec: { holderIdentity?: string } }).spec.holderIdentity ?? '(released)'}`,
        );
        return { stdout: stdin };
      }
      if (v0 === 'status') {
        if (opts.installed === false) return { exitCode: 1, stderr: 'Error: release: not found' };
        return {
          stdout: JSON.stringify({ name: 'taskflow', version: state.revision, info: { status: 'deployed' } }),
        };
      }
      if (v0 === 'get' && v1 === 'values') {
        return {
          stdout: JSON.stringify({
            pgadmin: { enabled: state.pgadmin, email: 'admin@example.com' },
            mailpit: { enabled: state.mailpit },
            sso: { database: { name: 'sso_db' } },
          }),
        };
      }
      if (v0 === 'upgrade') {
        state.revision++;
        if (stdin?.includes('pgadmin:')) state.pgadmin = /pgadmin:\n\s+enabled: true/.test(stdin);
        if (stdin?.includes('mailpit:')) state.mailpit = /mailpit:\n\s+enabled: true/.test(stdin);
        return { stdout: `Release "taskflow" has been upgraded.\nREVISION: ${state.revision}\n` };
      }
      if (v0 === 'get' && v1 === 'secret') {
        const data: Record<string, Record<string, string>> = {
          pgadmin: { password: b64(ADMIN) },
          'sso-postgres': { password: b64(SSO_DB) },
          'api-postgres': { password: b64('api-db-password-9876543210') },
        };
        const found = v2 !== opts.missing && data[v2 ?? ''];
        return { stdout: found ? JSON.stringify({ data: found }) : '' };
      }
      if (v0 === 'get' && v1 === 'deployment') {
        return { stdout: JSON.stringify({ spec: { selector: { matchLabels: { app: v2 } } } }) };
      }
      if (v0 === 'get' && v1 === 'configmap') {
        const host = state.mailpit ? 'mailpit' : 'smtp.example.com';
        return {
          stdout: JSON.stringify({ data: { SMTP_HOST: host, SMTP_PORT: state.mailpit ? '1025' : '587' } }),
        };
      }
      return { exitCode: 1, stderr: `unexpected: ${args.join(' ')}` };
    },
    (child) => child.exit(0), // rollout status: done at once
  );
  return { runner, state };
}

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

async function addon(
  name: string,
  values: ParsedValues,
  cluster = fakeCluster(),
  envText = '',
): Promise<{ code: number; err?: TaskflowError; logged: string; stdout: string; cluster: typeof cluster }> {
  const { ctx, logged, stdout } = testCtx(cluster.runner, values);
  const s = testSession(cluster.runner, envText);
  cleanups.push(s.cleanup);
  try {
    const code = await runAddon(ctx, s.session, parseAddonOptions(values, name));
    return { code, logged: logged.text, stdout: stdout.text, cluster };
  } catch (e) {
    if (!(e instanceof TaskflowError)) throw e;
    return { code: exitCodeOf(e), err: e, logged: logged.text, stdout: stdout.text, cluster };
  }
}

const upgrades = (c: ReturnType<typeof fakeCluster>) =>
  c.runner.recorded.filter((r) => r.argv[1] === 'upgrade');

describe('npm run addon / pgadmin (fake cluster)', () => {
  it('turns pgAdmin on with one upgrade that keeps the release values, waits, and prints URL and login', async () => {
    const r = await addon('pgadmin', { 'no-forward': true });
    expect(r.code).toBe(0);
    // one writing command per release: the add-on took the release's lock (once) before upgrading
    expect(r.cluster.state.leases).toEqual([expect.stringMatching(/^create .+@.+:\d+:[0-9a-f]+$/)]);
    const [up] = upgrades(r.cluster);
    expect(up?.argv).toEqual([
      'helm',
      'upgrade',
      'taskflow',
      CHART_PATH,
      '--install',
      '--namespace',
      'tf',
      '-f',
      '-',
      '--reset-then-reuse-values',
      '--timeout',
      '300s',
    ]);
    expect(up?.stdin).toBe('pgadmin:\n  enabled: true\n');
    expect(r.cluster.runner.children.map((c) => c.argv.slice(-4).join(' '))).toEqual([
      'rollout status deployment/pgadmin --timeout=300s',
    ]);
    expect(r.logged).toContain('✓ pgAdmin is ready (release revision 2)');
    // The login pgAdmin's sign-in page asks for (server mode): pgadmin.email and the pgadmin Secret.
    expect(r.logged).toContain('pgAdmin:  (not forwarded)');
    expect(r.logged).toContain(`  login:    admin@example.com / ${ADMIN}\n`);
    expect(r.logged).toContain("(the sign-in page's e-mail and password; Secret pgadmin, key password)");
    expect(r.logged).toContain(
      '  servers:  SSO database (sso_db as sso_user on sso-postgres), API database (taskflow_db as taskflow_user on api-postgres)',
    );
    expect(r.logged).toContain("pre-configured from the databases' Secrets: no database password prompt");
    expect(r.logged).toContain('database passwords: add --show-passwords to print them');
    expect(r.logged + r.stdout).not.toContain(SSO_DB);
    expect(r.logged + r.stdout).not.toContain('api-db-password-9876543210');
  });

  it('prints the database passwords, after the admin login, only with --show-passwords', async () => {
    const r = await addon('pgadmin', { 'no-forward': true, 'show-passwords': true });
    expect(r.code).toBe(0);
    const out = r.logged + r.stdout;
    expect(out).toContain(`  login:    admin@example.com / ${ADMIN}\n`);
    expect(r.stdout).toContain(`  sso_user password: ${SSO_DB}\n`);
    expect(r.stdout).toContain('  taskflow_user password: api-db-password-9876543210\n');
    expect(out).not.toContain('add --show-passwords');
  });

  it('says so when the pgadmin Secret is missing instead of printing a login that does not exist', async () => {
    const r = await addon(
      'pgadmin',
      { 'no-forward': true },
      fakeCluster({ pgadmin: true, missing: 'pgadmin' }),
    );
    expect(r.code).toBe(0);
    expect(r.logged).toContain('  login:    admin@example.com / (Secret pgadmin not found)');
    expect(r.logged + r.stdout).not.toContain(ADMIN);
  });

  it('is idempotent: already on means no upgrade', async () => {
    const r = await addon('pgadmin', { 'no-forward': true }, fakeCluster({ pgadmin: true }));
    expect(r.code).toBe(0);
    expect(upgrades(r.cluster)).toEqual([]);
    expect(r.logged).toContain('pgAdmin is already on in release "taskflow"');
  });

  it('prints the database passwords only with --show-passwords (JSON too)', async () => {
    const r = await addon('pgadmin', { 'no-forward': true, 'show-passwords': true, json: true });
    const doc = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(doc).toMatchObject({
      ok: true,
      addon: 'pgadmin',
      action: 'enabled',
      revision: 2,
      forward: { mode: 'none' },
      login: {
        email: 'admin@example.com',
        password: ADMIN,
        servers: [
          { name: 'SSO database', user: 'sso_user', password: SSO_DB },
          { name: 'API database', user: 'taskflow_user', password: 'api-db-password-9876543210' },
        ],
      },
    });
    const hidden = await addon('pgadmin', { 'no-forward': true, json: true }, fakeCluster({ pgadmin: true }));
    expect(hidden.stdout).not.toContain(SSO_DB);
    expect(JSON.parse(hidden.stdout)).toMatchObject({ action: 'already-on', revision: null });
  });

  it('--remove without a terminal and without --yes changes nothing (exit 2)', async () => {
    const r = await addon('pgadmin', { remove: true }, fakeCluster({ pgadmin: true }));
    expect([r.code, r.err?.message, r.err?.hint]).toEqual([
      ExitCode.Usage,
      'turning pgAdmin off: add --yes to confirm without a terminal',
      'npm run addon -- pgadmin --remove --yes -n tf',
    ]);
    expect(upgrades(r.cluster)).toEqual([]);
  });

  it('--remove --yes turns it off; a second --remove has nothing to do', async () => {
    const c = fakeCluster({ pgadmin: true });
    const r = await addon('pgadmin', { remove: true, yes: true }, c);
    expect(r.code).toBe(0);
    expect(upgrades(c).map((u) => u.stdin)).toEqual(['pgadmin:\n  enabled: false\n']);
    expect(r.logged).toContain('✓ pgAdmin is off in release "taskflow" (revision 2)');
    const again = await addon('pgadmin', { remove: true, yes: true }, c);
    expect(again.logged).toContain('pgAdmin is not on in release "taskflow": nothing to do');
    expect(upgrades(c)).toHaveLength(1);
  });

  it('mailpit: on, the SSO is rolled and mails go to Mailpit; --remove restores the env file SMTP', async () => {
    const env = 'SMTP_HOST=smtp.example.com\nSMTP_USER=mailer\nSMTP_PASS=smtp-pass-abcdef123456\n';
    const c = fakeCluster();
    const on = await addon('mailpit', { 'no-forward': true }, c, env);
    expect(on.code).toBe(0);
    // The one SMTP rule: the env file's SMTP stays in the release (Mailpit wins in the chart), not cleared.
    const onStdin = upgrades(c)[0]?.stdin ?? '';
    expect(onStdin).toMatch(/^mailpit:\n {2}enabled: true\nsso:\n {2}smtp:\n {4}host: smtp.example.com\n/);
    expect(upgrades(c)[0]?.argv.join(' ')).not.toContain('smtp-pass');
    expect(c.runner.children.map((ch) => ch.argv.slice(-4, -1).join(' '))).toEqual([
      'rollout status deployment/mailpit',
      'rollout status deployment/sso-platform',
    ]);
    expect(on.logged).toContain('the SSO sends its mail to mailpit:1025');
    expect(on.logged).toMatch(
      /SMTP_HOST in \S*\.env \(smtp\.example\.com:587\) is ignored while the Mailpit add-on is on: the SSO sends its mail to Mailpit \(mailpit:1025\); it applies again after npm run addon -- mailpit --remove/,
    );
    const off = await addon('mailpit', { remove: true, yes: true }, c, env);
    expect(off.code).toBe(0);
    const stdin = upgrades(c)[1]?.stdin ?? '';
    expect(stdin).toContain('mailpit:\n  enabled: false');
    expect(stdin).toMatch(/sso:\n {2}smtp:\n {4}host: smtp.example.com\n {4}port: 587\n/);
    expect(stdin).toContain('password: smtp-pass-abcdef123456');
    expect(upgrades(c)[1]?.argv.join(' ')).not.toContain('smtp-pass');
    expect(off.logged).toMatch(
      /the SSO sends its mail to smtp\.example\.com:587 again \(SMTP_HOST in \S*\.env\)/,
    );
    expect(off.logged).not.toContain('e-mail verification is off');
  });

  it('a missing release is exit 1 with "deploy first"', async () => {
    const r = await addon('pgadmin', {}, fakeCluster({ installed: false }));
    expect([r.code, r.err?.message, r.err?.hint]).toEqual([
      ExitCode.Failed,
      'release "taskflow" is not installed in namespace "tf"',
      'run npm run deploy first (or pass -n NAMESPACE / --release NAME for another one)',
    ]);
  });
});

describe('add-on options', () => {
  it.each([
    [
      'nope',
      {},
      'unknown add-on "nope"',
      'valid add-ons: pgadmin, mailpit; see them all: npm run addon -- list',
    ],
    [
      'pgadmn',
      {},
      'unknown add-on "pgadmn" (did you mean pgadmin?)',
      'valid add-ons: pgadmin, mailpit; see them all: npm run addon -- list',
    ],
    [undefined, {}, 'which add-on? name one', 'npm run addon -- <pgadmin|mailpit>'],
    [
      'pgadmin',
      { remove: true, detach: true },
      '--detach does not go with --remove',
      'npm run addon -- pgadmin --remove',
    ],
    [
      'pgadmin',
      { 'no-forward': true, detach: true },
      '--no-forward and --detach exclude each other',
      'pick one',
    ],
    ['pgadmin', { port: '99999' }, '--port: "99999" is not a port (1-65535)', 'e.g. --port 5051'],
    ['mailpit', { timeout: 'soon' }, '--timeout: "soon" is not a duration', 'use e.g. 90s or 5m'],
  ])('%s %o: exit 2', (name, values, message, hint) => {
    let err: unknown;
    try {
      parseAddonOptions(values as ParsedValues, name);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TaskflowError);
    const e = err as TaskflowError;
    expect([e.message, e.hint, e.exitCode]).toEqual([message, hint, ExitCode.Usage]);
  });

  it('a new add-on is one registry entry: every entry names its chart section, Service and ports', () => {
    expect(
      ADDONS.map((a) => [
        a.name,
        a.valuesKey,
        a.service,
        a.deployment,
        a.ports.map((p) => `${p.local}->${p.remote}`),
      ]),
    ).toEqual([
      ['pgadmin', 'pgadmin', 'pgadmin', 'pgadmin', ['5050->80']],
      ['mailpit', 'mailpit', 'mailpit', 'mailpit', ['8025->8025']],
    ]);
  });
});

describe('waiting for the add-on', () => {
  /** Waits for pgAdmin while its one pod is `pod`; returns the error and the runner. */
  const waitOn = async (pod: object) => {
    const runner = new FakeRunner((args) =>
      args[1] === 'deployment'
        ? { stdout: JSON.stringify({ spec: { selector: { matchLabels: { app: 'pgadmin' } } } }) }
        : { stdout: JSON.stringify({ items: [pod] }) },
    );
    const s = testSession(runner);
    cleanups.push(s.cleanup);
    const started = Date.now();
    const err = (await waitForRollouts(s.session.kubectl, ['pgadmin'], {
      timeoutMs: 60_000,
      signal: new AbortController().signal,
      namespace: 'tf',
      pollMs: 10,
    }).catch((e: unknown) => e)) as TaskflowError;
    return { err, runner, ms: Date.now() - started };
  };

  it('stops at once when its pod crash-loops, naming the reason (not after the timeout)', async () => {
    const crashing = {
      kind: 'Pod',
      metadata: { name: 'pgadmin-5d-x1' },
      status: {
        containerStatuses: [
          {
            name: 'pgadmin',
            restartCount: 3,
            state: {
              waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container' },
            },
          },
        ],
      },
    };
    const { err, runner, ms } = await waitOn(crashing);
    // At the first crash, not at the 60 s timeout.
    expect(ms).toBeLessThan(60_000);
    expect([err.message, err.hint]).toEqual([
      'pgadmin does not start: CrashLoopBackOff in pod/pgadmin-5d-x1 (container pgadmin): container keeps crashing; restarted 3 time(s)',
      'details and logs: npm run doctor -- -n tf',
    ]);
    expect(runner.children[0]?.stopped).toBe(true);
    expect(runner.verbs.find((v) => v[0] === 'get' && v[1] === 'pods')).toEqual([
      'get',
      'pods',
      '-l',
      'app=pgadmin',
      '-o',
      'json',
    ]);
  });

  it("stops at once on an unschedulable pod, as deploy's release watch does", async () => {
    const { err } = await waitOn(UNSCHEDULABLE_DB);
    expect(err.message).toBe(
      'pgadmin does not start: Unschedulable in pod/sso-postgres-0: 0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims.',
    );
  });

  it('stops at once on a failing init container too, as migrate and deploy do (one rollout rule)', async () => {
    const { err, runner } = await waitOn(FAILED_MIGRATE);
    expect(err.message).toMatch(
      /^pgadmin does not start: .* in pod\/sso-platform-6f7g8-uvwxy \(container migrate\)/,
    );
    expect(runner.children[0]?.stopped).toBe(true);
  });
});
