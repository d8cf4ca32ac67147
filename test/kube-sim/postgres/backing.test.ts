import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresBacking, PostgresInitError, type PostgresEndpoint } from './index.ts';
import { scramVerifier } from './scram.ts';

async function login(ep: PostgresEndpoint, user: string, password: string | undefined, database: string) {
  const host = password === undefined ? ep.socketDir : ep.host;
  const client = new pg.Client({ host, port: ep.port, user, password, database });
  await client.connect();
  try {
    const r = await client.query<{ user: string; db: string; oid: number; owner: string }>(
      `select current_user as user, current_database() as db,
              (select oid::int from pg_roles where rolname = current_user) as oid,
              (select pg_get_userbyid(datdba) from pg_database where datname = current_database()) as owner`,
    );
    return r.rows[0];
  } finally {
    await client.end();
  }
}

describe('PostgresBacking', () => {
  let root: string;
  let backing: PostgresBacking;
  beforeAll(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'ksim-pgb-test-'));
    backing = new PostgresBacking({ rootDir: root });
  });
  afterAll(async () => {
    await backing?.stopAll();
    rmSync(root, { recursive: true, force: true });
  });

  it('initialises like the official image: user is the bootstrap superuser, db owned by it', async () => {
    const ep = await backing.start('team-a/data-api-postgres-0', {
      POSTGRES_USER: 'taskflow_user',
      POSTGRES_PASSWORD: 'p@ss:w/rd?#%+',
      POSTGRES_DB: 'taskflow_db',
    });
    expect(await login(ep, 'taskflow_user', 'p@ss:w/rd?#%+', 'taskflow_db')).toEqual({
      user: 'taskflow_user',
      db: 'taskflow_db',
      oid: 10,
      owner: 'taskflow_user',
    });
    // The socket is trusted, as inside the image.
    expect((await login(ep, 'taskflow_user', undefined, 'taskflow_db'))?.user).toBe('taskflow_user');
    // TCP from loopback goes through scram-sha-256.
    await expect(login(ep, 'taskflow_user', 'wrong', 'taskflow_db')).rejects.toThrow(
      'password authentication failed for user "taskflow_user"',
    );
    await expect(login(ep, 'postgres', undefined, 'postgres')).rejects.toThrow(
      'role "postgres" does not exist',
    );
  });

  it('keeps data and the first password across restarts with a changed env (drift), until dropped', async () => {
    const key = 'team-b/data-sso-postgres-0';
    const first = { POSTGRES_USER: 'sso_user', POSTGRES_PASSWORD: 'first-secret', POSTGRES_DB: 'sso_db' };
    let ep = await backing.start(key, first);
    const c = new pg.Client({ host: ep.socketDir, port: ep.port, user: 'sso_user', database: 'sso_db' });
    await c.connect();
    await c.query("create table kept(v text); insert into kept values ('still here')");
    await c.end();
    await backing.stop(key);
    expect(backing.endpoint(key)).toBeUndefined();

    ep = await backing.start(key, { ...first, POSTGRES_PASSWORD: 'second-secret' });
    expect((await login(ep, 'sso_user', 'first-secret', 'sso_db'))?.user).toBe('sso_user');
    await expect(login(ep, 'sso_user', 'second-secret', 'sso_db')).rejects.toThrow(
      'password authentication failed',
    );
    const c2 = new pg.Client({ host: ep.socketDir, port: ep.port, user: 'sso_user', database: 'sso_db' });
    await c2.connect();
    expect((await c2.query('select v from kept')).rows).toEqual([{ v: 'still here' }]);
    await c2.end();
    // start() on a running volume returns the same server.
    expect(await backing.start(key, first)).toEqual(ep);

    await backing.drop(key);
    expect(existsSync(backing.dataDir(key))).toBe(false);
    ep = await backing.start(key, { ...first, POSTGRES_PASSWORD: 'second-secret' });
    expect((await login(ep, 'sso_user', 'second-secret', 'sso_db'))?.user).toBe('sso_user');
  });

  it('starts several volumes concurrently, each on its own port', async () => {
    const env = { POSTGRES_PASSWORD: 'pw' };
    const eps = await Promise.all(['x/a', 'x/b', 'x/c'].map((k) => backing.start(k, env)));
    expect(new Set(eps.map((e) => e.port)).size).toBe(3);
    // Defaults of the image: user and database "postgres".
    for (const ep of eps) expect((await login(ep, 'postgres', 'pw', 'postgres'))?.oid).toBe(10);
  });

  it('computes the same SCRAM verifier as the server, SASLprep included', async () => {
    const ep = await backing.start('x/a', { POSTGRES_PASSWORD: 'pw' });
    const c = new pg.Client({ host: ep.socketDir, port: ep.port, user: 'postgres', database: 'postgres' });
    await c.connect();
    try {
      for (const plain of ['simple', 'p@ss:w/rd', 'caf\u00e9\u00a0cr\u00e8me\u00ad']) {
        await c.query(`create role probe; alter role probe password '${plain}'`);
        const r = await c.query<{ v: string }>(
          "select rolpassword as v from pg_authid where rolname = 'probe'",
        );
        await c.query('drop role probe');
        const stored = r.rows[0]?.v ?? '';
        const salt = Buffer.from(/:([^$]+)\$/.exec(stored)?.[1] ?? '', 'base64');
        expect(scramVerifier(plain, 4096, salt)).toBe(stored);
      }
    } finally {
      await c.end();
    }
  });

  it('refuses a first start without a password, as the image does', async () => {
    await expect(backing.start('x/nopw', { POSTGRES_USER: 'u' })).rejects.toThrow(PostgresInitError);
    await expect(backing.start('x/nopw', { POSTGRES_USER: 'u' })).rejects.toThrow(
      'superuser password is not specified',
    );
  });

  it('can trust loopback TCP logins like the real image (and reaches a root inside a 0700 temp dir)', async () => {
    const closed = mkdtempSync(path.join(root, 'closed-'));
    const faithful = new PostgresBacking({ rootDir: path.join(closed, 'faithful'), trustLoopback: true });
    try {
      const ep = await faithful.start('x/trust', { POSTGRES_USER: 'u', POSTGRES_PASSWORD: 'right' });
      expect((await login(ep, 'u', 'wrong', 'u'))?.user).toBe('u');
    } finally {
      await faithful.stopAll();
    }
  });
});
