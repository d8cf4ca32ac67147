import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { DATABASES } from '../../lib/components.ts';
import {
  LOGIN_CHECK_SCRIPT,
  checkDbLogin,
  loginCheckCommand,
  loginCommand,
  sqlIdent,
  sqlLiteral,
  TCP_LOGIN_SCRIPT,
  verifierSql,
} from '../../lib/db.ts';
import type { Kubectl } from '../../lib/kubectl.ts';
import { Secret } from '../../lib/secrets.ts';
import { asSuperuser, startPg, type PgServer } from '../support/embedded-pg.ts';

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
    // A password with every quoting hazard, set through the same literal builder reset-db-password uses.
    await asSuperuser(server, [
      `CREATE ROLE sso_user LOGIN PASSWORD ${sqlLiteral(`p'a"s$s\`w(o)r;d`)}`,
      'CREATE DATABASE sso_db OWNER sso_user',
    ]);
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
    const [, r] = await asSuperuser(server, [
      `CREATE ROLE sso_user LOGIN PASSWORD ${sqlLiteral('the-right-password-123')}`,
      verifierSql('sso_user'),
    ]);
    verifier = String((r?.rows[0] as { coalesce: unknown }).coalesce);
  });
  afterAll(async () => server?.stop());

  // Like the official postgres image: the in-pod TCP login succeeds whatever the password.
  const trustingPod = (): Kubectl =>
    ({
      exec: async (_pod: string, _c: string | undefined, command: string[]) => ({
        argv: command,
        exitCode: 0,
        stdout: `verifier:${verifier}\n1\n`,
        stderr: '',
        durationMs: 1,
      }),
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

describe('the one-exec login check script (verifier over the socket, then the TCP login)', () => {
  let server: PgServer;
  const password = `p'a"s$s\`w(o)r;d`;
  beforeAll(async () => {
    server = await startPg();
    await asSuperuser(server, [
      `CREATE ROLE "o'brien" LOGIN PASSWORD ${sqlLiteral(password)}`,
      `CREATE DATABASE sso_db OWNER "o'brien"`,
    ]);
  });
  afterAll(async () => server?.stop());

  // The very script the pod runs: the superuser's psql reaches the server as the pod's socket would
  // (PGHOST/PGPASSWORD stand in for the trusted socket), the TCP login goes to 127.0.0.1.
  const run = (pw: string) => {
    const argv = loginCheckCommand({ ...DATABASES.sso, user: "o'brien", database: 'sso_db' });
    return spawnSync(argv[0]!, argv.slice(1), {
      input: pw,
      env: {
        ...process.env,
        PGHOST: server.host,
        PGPORT: String(server.port),
        PGPASSWORD: server.superPassword,
        POSTGRES_USER: server.superuser,
        POSTGRES_DB: 'postgres',
      },
      encoding: 'utf8',
    });
  };

  it('prints the stored verifier of a role whose name needs quoting, then logs in with the stdin password', () => {
    expect(loginCheckCommand(DATABASES.sso)).toEqual([
      'sh',
      '-c',
      LOGIN_CHECK_SCRIPT,
      'login-check',
      'sso_user',
      'sso_db',
    ]);
    expect(LOGIN_CHECK_SCRIPT).not.toContain(password);
    // one line: deploy --dry-run prints it as part of one command line
    expect(LOGIN_CHECK_SCRIPT).not.toMatch(/\n/);
    const ok = run(password);
    expect(ok.stdout).toMatch(/^verifier:SCRAM-SHA-256\$4096:\S+\n1\n$/);
    expect(ok.status).toBe(0);
    const bad = run('wrong-password');
    expect(bad.stdout).toMatch(/^verifier:SCRAM-SHA-256/);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/password authentication failed for user "o'brien"/);
  });

  it('checkDbLogin reads that output: ok, rejected by the verifier, unreachable', async () => {
    const pod = (): Kubectl =>
      ({
        exec: async (_p: string, _c: string | undefined, command: string[], o: { stdin: Secret }) => {
          const r = run(o.stdin.reveal());
          return {
            argv: command,
            exitCode: r.status ?? 1,
            stdout: r.stdout,
            stderr: r.stderr,
            durationMs: 1,
          };
        },
      }) as unknown as Kubectl;
    const info = { ...DATABASES.sso, user: "o'brien", database: 'sso_db' };
    expect(await checkDbLogin(pod(), info, new Secret(password))).toEqual({ status: 'ok' });
    expect(await checkDbLogin(pod(), info, new Secret('wrong-password'))).toEqual({
      status: 'rejected',
      detail: `password authentication failed for user "o'brien"`,
    });
    const down = {
      exec: async (_p: string, _c: string | undefined, command: string[]) => ({
        argv: command,
        exitCode: 2,
        stdout: 'verifier:\n',
        stderr: 'psql: error: connection to server at "127.0.0.1", port 5432 failed: Connection refused\n',
        durationMs: 1,
      }),
    } as unknown as Kubectl;
    expect(await checkDbLogin(down, info, new Secret(password))).toEqual({
      status: 'unreachable',
      detail: 'psql: error: connection to server at "127.0.0.1", port 5432 failed: Connection refused',
    });
  });
});
