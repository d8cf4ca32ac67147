import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import pg from 'pg';
import { DATABASES } from '../../lib/components.ts';
import {
  checkDbLogin,
  loginCommand,
  sqlIdent,
  sqlLiteral,
  TCP_LOGIN_SCRIPT,
  verifierSql,
} from '../../lib/db.ts';
import type { Kubectl } from '../../lib/kubectl.ts';
import { Secret } from '../../lib/secrets.ts';
import { startPg, type PgServer } from '../support/embedded-pg.ts';

describe('SQL quoting', () => {
  it.each([
    ['plain', "'plain'"],
    ["it's", "'it''s'"],
    ["''", "''''''"],
    ['back\\slash', "'back\\slash'"],
  ])('sqlLiteral(%s) = %s', (v, out) => expect(sqlLiteral(v)).toBe(out));
  it('sqlIdent doubles quotes', () => expect(sqlIdent('we"ird')).toBe('"we""ird"'));
});

describe('the in-pod TCP login check', () => {
  let server: PgServer;
  beforeAll(async () => {
    server = await startPg();
    const c = new pg.Client({
      host: server.host,
      port: server.port,
      user: server.superuser,
      password: server.superPassword,
      database: 'postgres',
    });
    await c.connect();
    // A password with every quoting hazard, set through the same literal builder reset-db-password uses.
    await c.query(`CREATE ROLE sso_user LOGIN PASSWORD ${sqlLiteral(`p'a"s$s\`w(o)r;d`)}`);
    await c.query('CREATE DATABASE sso_db OWNER sso_user');
    await c.end();
  });
  afterAll(async () => server?.stop());

  it('keeps the password out of argv and reports ok / rejected', () => {
    const argv = loginCommand(DATABASES.sso);
    expect(argv).toEqual(['sh', '-c', TCP_LOGIN_SCRIPT, 'login-check', 'sso_user', 'sso_db']);
    // Run the very script the pod runs, against a real server (127.0.0.1 rewritten to its port).
    const run = (password: string) =>
      spawnSync(argv[0]!, argv.slice(1), {
        input: password,
        env: { ...process.env, PGPORT: String(server.port) },
        encoding: 'utf8',
      });
    const ok = run(`p'a"s$s\`w(o)r;d`);
    expect(ok.stdout.trim()).toBe('1');
    expect(ok.status).toBe(0);
    const bad = run('wrong-password');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/password authentication failed for user "sso_user"/);
  });
});

describe('checkDbLogin on an image that trusts loopback TCP', () => {
  let server: PgServer;
  let verifier = '';
  beforeAll(async () => {
    server = await startPg();
    const c = new pg.Client({
      host: server.host,
      port: server.port,
      user: server.superuser,
      password: server.superPassword,
      database: 'postgres',
    });
    await c.connect();
    await c.query(`CREATE ROLE sso_user LOGIN PASSWORD ${sqlLiteral('the-right-password-123')}`);
    const r = await c.query(verifierSql('sso_user'));
    verifier = String(r.rows[0].coalesce);
    await c.end();
  });
  afterAll(async () => server?.stop());

  // Like the official postgres image: the in-pod TCP login succeeds whatever the password.
  const trustingPod = (): Kubectl =>
    ({
      exec: async (_pod: string, _c: string | undefined, command: string[]) =>
        command.includes('login-check')
          ? { argv: command, exitCode: 0, stdout: '1\n', stderr: '', durationMs: 1 }
          : { argv: command, exitCode: 0, stdout: `${verifier}\n`, stderr: '', durationMs: 1 },
    }) as unknown as Kubectl;

  it('rejects a wrong password by the stored verifier even when the TCP login is trusted', async () => {
    expect(verifier).toMatch(/^SCRAM-SHA-256\$/);
    expect(await checkDbLogin(trustingPod(), DATABASES.sso, new Secret('a-wrong-password-456'))).toEqual({
      status: 'rejected',
      detail: 'password authentication failed for user "sso_user"',
    });
    expect(await checkDbLogin(trustingPod(), DATABASES.sso, new Secret('the-right-password-123'))).toEqual({
      status: 'ok',
    });
  });
});
