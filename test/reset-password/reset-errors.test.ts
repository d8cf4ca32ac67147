import { describe, expect, it } from 'vitest';
import { ExitCode, OperationError, TaskflowError, UsageError } from '../../lib/errors.ts';
import { urlPassword } from '../../lib/db.ts';
import { resetPassword } from '../../lib/reset-password/reset.ts';
import { type ResetOptions, parseResetOptions } from '../../lib/reset-password/spec.ts';
import { PSQL_SOCKET_SCRIPT, alterRoleSql, psqlCommand, verifierSql } from '../../lib/reset-password/sql.ts';
import { Secret } from '../../lib/secrets.ts';
import type { PgServer } from '../support/embedded-pg.ts';
import { localCluster } from './local-cluster.ts';
import { assertCanConfirm } from '../../lib/confirm.ts';

// These cases stop before any SQL runs: no server behind the pod.
const noServer = { dataDir: '/nonexistent/data', port: 1 } as PgServer;

function cluster() {
  const c = localCluster(noServer, { user: 'sso_user', db: 'sso_db' });
  c.secrets.set('sso-postgres', { password: 'secret-in-the-cluster-123456' });
  return c;
}

const opts = (mode: ResetOptions['mode'], extra: Partial<ResetOptions> = {}): ResetOptions => ({
  db: 'sso',
  mode,
  timeoutMs: 5000,
  timeoutText: '5s',
  yes: true,
  json: false,
  ...extra,
});

async function failure(p: Promise<unknown>): Promise<TaskflowError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof TaskflowError)) throw new Error(`expected a TaskflowError, got ${String(err)}`);
  return err;
}

describe('reset-db-password: arguments', () => {
  it.each([
    [[], 'which database? give one of: sso, api'],
    [['ssoo'], 'unknown database "ssoo" (valid: sso, api)'],
    [['postgres'], 'unknown database "postgres" (valid: sso, api)'],
  ])('%j is a usage error: %s', (args, message) => {
    expect(() => parseResetOptions(args, {})).toThrow(message);
    expect(() => parseResetOptions(args, {})).toThrow(UsageError);
  });

  it('--check and --rotate exclude each other; a bad --timeout is a usage error', () => {
    expect(() => parseResetOptions(['sso'], { check: true, rotate: true })).toThrow(
      '--check and --rotate exclude each other',
    );
    expect(() => parseResetOptions(['sso'], { timeout: 'soon' })).toThrow(
      '--timeout: "soon" is not a duration',
    );
  });

  it('reads the mode and defaults', () => {
    expect(parseResetOptions(['api'], { rotate: true, yes: true })).toEqual({
      db: 'api',
      mode: 'rotate',
      timeoutMs: 300_000,
      timeoutText: '5m',
      yes: true,
      json: false,
    });
    expect(parseResetOptions(['sso'], {}).mode).toBe('sync');
    expect(parseResetOptions(['sso'], { check: true }).mode).toBe('check');
  });

  it('a rotation without a terminal needs --yes (exit 2, with the command to run)', () => {
    const io = { yes: false, stdin: { isTTY: false } as NodeJS.ReadStream, prompt: process.stderr };
    let err: unknown;
    try {
      assertCanConfirm(
        io,
        '--rotate changes the sso database password',
        'npm run reset-db-password -- sso --rotate --yes',
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toBe(
      '--rotate changes the sso database password: add --yes to confirm without a terminal',
    );
    expect((err as UsageError).hint).toBe('npm run reset-db-password -- sso --rotate --yes');
    expect(() => assertCanConfirm({ ...io, yes: true }, 'x', 'y')).not.toThrow();
  });
});

describe('reset-db-password: SQL and commands', () => {
  it('quotes the role and the password; the statement is a Secret (stdin only)', () => {
    const sql = alterRoleSql('sso"user', new Secret("it's"));
    expect(String(sql)).not.toContain("it's");
    expect(sql.reveal()).toBe(`ALTER ROLE "sso""user" WITH PASSWORD 'it''s';\n`);
    expect(verifierSql("o'brien")).toBe(
      "SELECT coalesce(rolpassword, '') FROM pg_authid WHERE rolname = 'o''brien';\n",
    );
  });

  it('psql runs over the local socket as the pod superuser, SQL on stdin, nothing secret in argv', () => {
    expect(psqlCommand(['-tA'])).toEqual(['sh', '-c', PSQL_SOCKET_SCRIPT, 'psql', '-tA']);
    expect(PSQL_SOCKET_SCRIPT).toBe(
      'exec psql -X -q -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" "$@"',
    );
    expect(PSQL_SOCKET_SCRIPT).not.toMatch(/-h|PGPASSWORD/);
  });

  it('reads the password of a connection URL, percent-decoded', () => {
    expect(urlPassword('postgresql://u:a%40b%2Fc@h:5432/d?sslmode=disable')).toBe('a@b/c');
    expect(urlPassword('postgresql://u@h/d')).toBeUndefined();
    expect(urlPassword('not a url')).toBeUndefined();
  });
});

describe('reset-db-password: refusals', () => {
  it('a release that is not deployed: exit 1, one line with the next step', async () => {
    const c = cluster();
    c.deployed = false;
    const err = await failure(resetPassword(c.deps().deps, opts('sync')));
    expect(err).toBeInstanceOf(OperationError);
    expect(err.exitCode).toBe(ExitCode.Failed);
    expect(err.message).toBe('release "rel" is not installed in namespace "tf"');
  });

  it('the database pod is missing: exit 1 naming the pod and the namespace', async () => {
    const c = cluster();
    c.podRunning = false;
    const err = await failure(resetPassword(c.deps().deps, opts('check')));
    expect(err.message).toBe('pod sso-postgres-0 not found in namespace tf');
    expect(err.hint).toMatch(/npm run deploy -- -n tf/);
  });

  it('the Secret is missing: exit 1 with npm run deploy', async () => {
    const c = cluster();
    c.secrets.clear();
    // The Secret is read before any SQL runs.
    const err = await failure(resetPassword(c.deps().deps, opts('sync')));
    expect(err.message).toBe('Secret sso-postgres (key password) not found in namespace tf');
    expect(err.hint).toBe('deploy the release first: npm run deploy');
    expect(c.runner.find('exec')).toHaveLength(0);
  });

  it('an external database is refused: there is no pod to go through', async () => {
    const c = cluster();
    c.values = { sso: { database: { host: 'db.example.com' } } };
    const err = await failure(resetPassword(c.deps().deps, opts('sync')));
    expect(err.message).toBe(
      'the sso database is external (sso.database.host=db.example.com): there is no postgres pod to repair it through',
    );
  });

  it('--rotate will not write a Secret the user owns (existingSecret): exit 2', async () => {
    const c = cluster();
    c.values = { sso: { database: { existingSecret: 'mine' } } };
    const err = await failure(resetPassword(c.deps().deps, opts('rotate')));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toMatch(/^--rotate cannot change Secret mine/);
    // The way out it names leaves only URL-safe characters (any works with PGPASSWORD; Neon needs these).
    expect(err.hint).toContain('openssl rand -hex 16 > FILE');
    expect(err.hint).toContain('--from-file=password=FILE');
  });

  it('--rotate answered "n" on a terminal changes nothing', async () => {
    const c = cluster();
    const run = c.deps({ yes: false, tty: true, answer: 'n' });
    const err = await failure(resetPassword(run.deps, opts('rotate', { yes: false })));
    expect(err.message).toBe('not confirmed: nothing was changed');
    expect(run.out()).toContain(
      'Rotate the password of the sso database (role sso_user)? sso-platform will restart. [y/N]',
    );
    expect(c.runner.find('exec')).toHaveLength(0);
    expect(c.runner.find('upgrade')).toHaveLength(0);
  });

  it('--rotate without a terminal and without --yes: exit 2 before anything changes', async () => {
    const c = cluster();
    const run = c.deps({ yes: false, tty: false });
    const err = await failure(resetPassword(run.deps, opts('rotate', { yes: false })));
    expect(err.exitCode).toBe(ExitCode.Usage);
    expect(err.message).toBe(
      '--rotate changes the sso database password and restarts sso-platform: add --yes to confirm without a terminal',
    );
    expect(c.runner.find('exec')).toHaveLength(0);
  });
});
