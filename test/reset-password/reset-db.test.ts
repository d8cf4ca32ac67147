import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OperationError } from '../../lib/errors.ts';
import { sqlLiteral } from '../../lib/db.ts';
import { type ResetOptions } from '../../lib/reset-password/spec.ts';
import { resetPassword } from '../../lib/reset-password/reset.ts';
import { verifierMatches } from '../../lib/pg-verifier.ts';
import { type PgServer, asSuperuser, startPg } from '../support/embedded-pg.ts';
import { type LocalCluster, localCluster } from './local-cluster.ts';

const INITIAL = 'initial-password-0123456789';
const ROWS = 250;

let server: PgServer;
let c: LocalCluster;
let dir: string;

async function superQuery(sql: string, db = 'postgres'): Promise<pg.QueryResult> {
  const [result] = await asSuperuser(server, [sql], db);
  if (!result) throw new Error('no result');
  return result;
}

/** A TCP login as the application user: 'ok' or the server's error message. */
async function login(password: string): Promise<string> {
  const client = new pg.Client({
    host: server.host,
    port: server.port,
    user: 'sso_user',
    password,
    database: 'sso_db',
  });
  try {
    await client.connect();
    await client.query('select 1');
    return 'ok';
  } catch (err) {
    return (err as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function tableDigest(): Promise<{ count: number; digest: string }> {
  const r = await superQuery(
    "select count(*)::int as count, md5(string_agg(id || ':' || title, ',' order by id)) as digest from tasks",
    'sso_db',
  );
  return r.rows[0] as { count: number; digest: string };
}

const opts = (mode: ResetOptions['mode'], extra: Partial<ResetOptions> = {}): ResetOptions => ({
  db: 'sso',
  mode,
  timeoutMs: 30_000,
  timeoutText: '30s',
  yes: true,
  json: false,
  ...extra,
});

beforeAll(async () => {
  server = await startPg();
  // As the official image leaves it: the application user is the bootstrap superuser.
  await superQuery(`CREATE ROLE sso_user SUPERUSER LOGIN PASSWORD ${sqlLiteral(INITIAL)}`);
  await superQuery('CREATE DATABASE sso_db OWNER sso_user');
  await superQuery('CREATE TABLE tasks (id int primary key, title text not null)', 'sso_db');
  await superQuery(
    `INSERT INTO tasks SELECT g, 'task ' || g || ' ''quoted''' FROM generate_series(1, ${ROWS}) g`,
    'sso_db',
  );
  dir = mkdtempSync(path.join(os.tmpdir(), 'tf-reset-'));
});
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  await superQuery(`ALTER ROLE sso_user PASSWORD ${sqlLiteral(INITIAL)}`);
  c = localCluster(server, { user: 'sso_user', db: 'sso_db' });
  c.secrets.set('sso-postgres', { password: INITIAL });
  c.secrets.set('sso-platform', {
    DATABASE_URL: `postgresql://sso_user:${INITIAL}@sso-postgres:5432/sso_db?sslmode=disable`,
  });
});

describe('reset-db-password against a real PostgreSQL', () => {
  it('drift made by changing the Secret: --check sees it, sync repairs it, every row is still there', async () => {
    const before = await tableDigest();
    expect(before.count).toBe(ROWS);

    const first = c.deps();
    expect(await resetPassword(first.deps, opts('check', { json: true }))).toBe(0);
    expect(JSON.parse(first.json())).toMatchObject({ ok: true, db: 'sso', status: 'in-sync' });

    const changed = 'changed-in-the-secret-9876543210';
    c.secrets.set('sso-postgres', { password: changed });
    const check = c.deps();
    expect(await resetPassword(check.deps, opts('check', { json: true }))).toBe(1);
    expect(check.out()).toContain(
      '✗ the sso database and Secret sso-postgres disagree: role "sso_user" in sso-postgres-0 has another password than Secret sso-postgres',
    );
    expect(check.out()).toContain(
      "hint: make the database take the Secret's password: npm run reset-db-password -- sso",
    );
    expect(JSON.parse(check.json())).toMatchObject({ ok: false, db: 'sso', status: 'out-of-sync' });

    const sync = c.deps();
    expect(await resetPassword(sync.deps, opts('sync'))).toBe(0);
    expect(sync.out()).toContain(
      '✓ the sso database now takes the password of Secret sso-postgres; a login with it works',
    );
    expect(sync.out()).toContain('[sso-platform] deployment "sso-platform" successfully rolled out');
    // The hand-edited Secret left the URL behind: the user is told, with the fix.
    expect(sync.out()).toContain(
      '! sso-platform/DATABASE_URL carries another password than Secret sso-postgres',
    );

    expect(await tableDigest()).toEqual(before);
    expect(await login(changed)).toBe('ok');
    expect(await login(INITIAL)).toMatch(/password authentication failed for user "sso_user"/);

    const again = c.deps();
    expect(await resetPassword(again.deps, opts('check'))).toBe(0);
    // Passwords went to stdin only: no argv of any process held one.
    expect(c.runner.argvText()).not.toContain(changed);
    expect(c.runner.argvText()).not.toContain(INITIAL);
    expect(sync.out() + check.out()).not.toContain(changed);
  });

  it('sets a password full of quoting hazards exactly (SQL quoting, stdin, no shell)', async () => {
    const nasty = `it's "a" \\ $HOME; -- pass'word\`x\``;
    c.secrets.set('sso-postgres', { password: nasty });
    const run = c.deps();
    expect(await resetPassword(run.deps, opts('sync'))).toBe(0);
    expect(await login(nasty)).toBe('ok');
    const exec = c.runner.recorded.find((r) => r.stdin?.startsWith('ALTER ROLE'));
    expect(exec?.stdin).toBe(
      `ALTER ROLE "sso_user" WITH PASSWORD 'it''s "a" \\ $HOME; -- pass''word\`x\`';\n`,
    );
    expect(exec?.argv.slice(-6)).toEqual([
      'postgres',
      '--',
      'sh',
      '-c',
      expect.stringContaining('psql'),
      'psql',
    ]);
  });

  it('sync when both already agree changes nothing and restarts nothing', async () => {
    const run = c.deps();
    expect(await resetPassword(run.deps, opts('sync', { json: true }))).toBe(0);
    expect(run.out()).toContain('already has the password of Secret sso-postgres: nothing to change');
    expect(c.runner.find('rollout')).toHaveLength(0);
    expect(c.runner.recorded.some((r) => r.stdin?.startsWith('ALTER'))).toBe(false);
    expect(JSON.parse(run.json())).toEqual({
      ok: true,
      context: null,
      namespace: 'tf',
      db: 'sso',
      mode: 'sync',
      status: 'in-sync',
      changed: false,
      restarted: [],
    });
  });

  it('--rotate: database, release (helm, values on stdin) and env file get the new password; old stops working', async () => {
    const envPath = path.join(dir, 'rotate.env');
    writeFileSync(envPath, `# settings\nPOSTGRES_SSO_PASSWORD=${INITIAL} # kept\nNODE_ENV=development\n`);
    const before = await tableDigest();
    const fresh = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
    const run = c.deps({ password: fresh, envFile: { path: envPath, holder: 'file' } });
    expect(await resetPassword(run.deps, opts('rotate', { json: true }))).toBe(0);

    expect(await login(fresh)).toBe('ok');
    expect(await login(INITIAL)).toMatch(/password authentication failed/);
    expect(await tableDigest()).toEqual(before);

    const upgrade = c.runner.find('upgrade')[0];
    expect(upgrade?.argv).toEqual(
      expect.arrayContaining(['upgrade', 'rel', '/chart', '-f', '-', '--reset-then-reuse-values']),
    );
    expect(upgrade?.stdin).toBe(`sso:\n  database:\n    password: ${fresh}\n`);
    expect(c.secrets.get('sso-postgres')).toEqual({ password: fresh });
    expect(readFileSync(envPath, 'utf8')).toBe(
      `# settings\nPOSTGRES_SSO_PASSWORD=${fresh} # kept\nNODE_ENV=development\n`,
    );
    expect(JSON.parse(run.json())).toEqual({
      ok: true,
      context: null,
      namespace: 'tf',
      db: 'sso',
      mode: 'rotate',
      status: 'in-sync',
      changed: true,
      restarted: ['sso-platform'],
      envFile: 'updated',
    });
    expect(c.runner.argvText()).not.toContain(fresh);
    expect(run.out()).not.toContain(fresh);
    expect(run.out()).toContain('✓ the sso password was rotated');
  });

  it('--rotate stopping at the release says which side holds which password, and the hint finishes the job', async () => {
    c.failUpgrade = true;
    const envPath = path.join(dir, 'partial.env');
    writeFileSync(envPath, `POSTGRES_SSO_PASSWORD=${INITIAL}\n`);
    const fresh = 'ffffeeeeddddccccbbbbaaaa99998888';
    const run = c.deps({ password: fresh, envFile: { path: envPath, holder: 'file' } });
    const err = await resetPassword(run.deps, opts('rotate')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperationError);
    const e = err as OperationError;
    expect(e.message).toBe(
      [
        'rotation of the sso password stopped at the release step: helm failed to upgrade the release: UPGRADE FAILED: timed out waiting for the condition',
        '  database (role "sso_user" in sso-postgres-0): the new password',
        '  release (Secret sso-postgres, value sso.database.password): still the old password',
        `  env file ${envPath} (POSTGRES_SSO_PASSWORD): still the old password`,
      ].join('\n'),
    );
    expect(e.hint).toBe(
      "to finish: npm run reset-db-password -- sso --rotate --yes (a fresh password everywhere); or go back: npm run reset-db-password -- sso (the database takes the Secret's password again)",
    );
    expect(e.message + e.hint).not.toContain(fresh);
    expect(await login(fresh)).toBe('ok');

    // The way back the hint names works.
    c.failUpgrade = false;
    const back = c.deps();
    expect(await resetPassword(back.deps, opts('sync'))).toBe(0);
    expect(await login(INITIAL)).toBe('ok');
    expect(await login(fresh)).toMatch(/password authentication failed/);
  });

  it("sync reads the user's own Secret when the release names an existingSecret", async () => {
    c.values = {
      sso: {
        database: { user: 'sso_user', name: 'sso_db', existingSecret: 'my-db', existingSecretKey: 'pw' },
      },
    };
    c.secrets.set('my-db', { pw: 'from-my-own-secret-1234567890' });
    const run = c.deps();
    expect(await resetPassword(run.deps, opts('sync'))).toBe(0);
    expect(await login('from-my-own-secret-1234567890')).toBe('ok');
  });
});

describe('stored verifiers, checked like the server does', () => {
  async function verifierFor(password: string, encryption: 'scram-sha-256' | 'md5'): Promise<string> {
    await superQuery(
      `SET password_encryption = '${encryption}'; ALTER ROLE sso_user PASSWORD ${sqlLiteral(password)}`,
    );
    const r = await superQuery("select rolpassword from pg_authid where rolname = 'sso_user'");
    return (r.rows[0] as { rolpassword: string }).rolpassword;
  }

  it.each([
    ['scram-sha-256', 'a1b2c3d4e5f60718293a4b5c6d7e8f90'],
    ['scram-sha-256', `q'u"o\\te; $x`],
    ['scram-sha-256', 'pässwörd with ｆｕｌｌwidth'],
    ['md5', 'md5-era-password'],
  ] as const)('%s verifier of %j: match for it, mismatch for another', async (enc, password) => {
    const v = await verifierFor(password, enc);
    expect(v.startsWith(enc === 'md5' ? 'md5' : 'SCRAM-SHA-256$')).toBe(true);
    expect(verifierMatches(v, 'sso_user', password)).toBe('match');
    expect(verifierMatches(v, 'sso_user', `${password}x`)).toBe('mismatch');
    // The server agrees (an md5 verifier cannot answer a scram-sha-256 login at all).
    if (enc === 'scram-sha-256') expect(await login(password)).toBe('ok');
  });

  it('an unknown format is unknown, not a match', () => {
    expect(verifierMatches('plaintext?', 'sso_user', 'plaintext?')).toBe('unknown');
  });
});
