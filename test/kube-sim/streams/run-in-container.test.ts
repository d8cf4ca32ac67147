import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresBacking, type PostgresEndpoint } from '../postgres/index.ts';
import { killCommandWriting, runInContainer } from './run-in-container.ts';
import type { PodProcessInfo } from './runtime-types.ts';

async function run(info: PodProcessInfo, command: string[], stdin?: string) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const code = await runInContainer(info, command, {
    stdin: stdin === undefined ? null : Readable.from([Buffer.from(stdin)]),
    stdout,
    stderr,
  });
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

// The login check of lib/db.ts: password on stdin, TCP so that the password is really checked.
const LOGIN = 'PGPASSWORD="$(cat)" PGCONNECT_TIMEOUT=5 psql -h 127.0.0.1 -U "$1" -d "$2" -tAc "select 1"';

describe('runInContainer', () => {
  const app: PodProcessInfo = {
    pod: { namespace: 'ns', name: 'api-7d9-x2' },
    container: 'api',
    image: 'taskflow/api:1.0',
    env: { LOG_LEVEL: 'info', DATABASE_URL: 'postgresql://u:p@db:5432/d' },
  };
  let root: string;
  let backing: PostgresBacking;
  let ep: PostgresEndpoint;
  let db: PodProcessInfo;
  beforeAll(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'ksim-ric-'));
    backing = new PostgresBacking({ rootDir: root });
    const env = {
      POSTGRES_USER: 'taskflow_user',
      POSTGRES_PASSWORD: 's3cret:/@',
      POSTGRES_DB: 'taskflow_db',
    };
    ep = await backing.start('ns/data-api-postgres-0', env);
    db = {
      pod: { namespace: 'ns', name: 'api-postgres-0' },
      container: 'postgres',
      image: 'postgres:16-alpine',
      env: { ...env, PGDATA: '/var/lib/postgresql/data/pgdata' },
      postgres: ep,
    };
  });
  afterAll(async () => {
    await backing?.stopAll();
    rmSync(root, { recursive: true, force: true });
  });

  it('shows the pod env to env/printenv and sh -c', async () => {
    const env = await run(app, ['env']);
    expect(env.code).toBe(0);
    expect(env.stdout).toContain('LOG_LEVEL=info\n');
    expect(env.stdout).toContain('HOSTNAME=api-7d9-x2\n');
    expect((await run(app, ['printenv', 'DATABASE_URL'])).stdout).toBe('postgresql://u:p@db:5432/d\n');
    expect((await run(app, ['/bin/sh', '-c', 'echo "$LOG_LEVEL" && exit 4'])).code).toBe(4);
    expect((await run(app, ['cat'], 'piped')).stdout).toBe('piped');
  });

  it('fails like a shell for programs the image does not have', async () => {
    expect(await run(app, ['psql', '-c', 'select 1'])).toEqual({
      code: 127,
      stdout: '',
      stderr: 'sh: psql: not found\n',
    });
    const viaSh = await run(app, ['sh', '-c', 'rm -rf /tmp/nothing']);
    expect(viaSh.code).toBe(127);
    expect(viaSh.stderr).toMatch(/rm: not found/);
    expect((await run(app, ['/opt/app/bin/tool'])).code).toBe(127);
  });

  it.runIf(process.getuid?.() === 0)(
    'runs commands unprivileged, so scripts cannot write over this machine',
    async () => {
      const r = await run(app, ['sh', '-c', 'echo x > /etc/kube-sim-probe']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/Permission denied/);
      expect(existsSync('/etc/kube-sim-probe')).toBe(false);
    },
  );

  it('kills a command on request (exit 137, as when its container dies)', async () => {
    const stdout = new PassThrough().resume();
    const started = Date.now();
    const done = runInContainer(app, ['sh', '-c', 'sleep 30; echo never'], {
      stdin: null,
      stdout,
      stderr: new PassThrough(),
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(killCommandWriting(stdout)).toBe(true);
    expect(await done).toBe(137);
    // Killed, not finished: before the 30 s the command would take.
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(killCommandWriting(stdout)).toBe(false);
  });

  it('answers HTTP on localhost with the wget/curl stand-ins', async () => {
    expect(await run(app, ['wget', '-qO-', 'http://localhost:8000/health'])).toMatchObject({
      code: 0,
      stdout: 'ok\n',
    });
    expect(
      await run(app, ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', 'http://127.0.0.1:8000/']),
    ).toMatchObject({
      code: 0,
      stdout: '200',
    });
    expect(await run(app, ['wget', '-qO-', 'http://sso-platform:3001/'])).toMatchObject({
      code: 1,
      stderr: "wget: bad address 'sso-platform'\n",
    });
  });

  it('runs the real psql over the trusted socket in postgres pods', async () => {
    const r = await run(db, [
      'psql',
      '-U',
      'taskflow_user',
      '-d',
      'taskflow_db',
      '-tAc',
      'select current_user',
    ]);
    expect(r).toEqual({ code: 0, stdout: 'taskflow_user\n', stderr: '' });
    const sql = await run(
      db,
      ['psql', '-v', 'ON_ERROR_STOP=1', '-U', 'taskflow_user', '-d', 'taskflow_db', '-tA'],
      'select 40 + 2;\n',
    );
    expect(sql.stdout).toBe('42\n');
    expect((await run(db, ['pg_isready', '-U', 'taskflow_user'])).code).toBe(0);
    const dump = await run(db, ['pg_dump', '-U', 'taskflow_user', '-d', 'taskflow_db', '--schema-only']);
    expect(dump.stdout).toContain('PostgreSQL database dump');
  });

  it('checks the password on TCP logins (sh -c with the password on stdin)', async () => {
    const ok = await run(db, ['sh', '-c', LOGIN, 'login-check', 'taskflow_user', 'taskflow_db'], 's3cret:/@');
    expect(ok).toEqual({ code: 0, stdout: '1\n', stderr: '' });
    const bad = await run(db, ['sh', '-c', LOGIN, 'login-check', 'taskflow_user', 'taskflow_db'], 'wrong');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('password authentication failed for user "taskflow_user"');
    const env = await run(db, [
      'sh',
      '-c',
      'PGPASSWORD="$POSTGRES_PASSWORD" psql -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" -tAc "select 2"',
    ]);
    expect(env.stdout).toBe('2\n');
  });
});
