import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from '../../lib/components.ts';
import { loginCommand } from '../../lib/db.ts';
import { type SimRelease, simRelease } from '../migrate/sim-release.ts';

describe('npm run reset-db-password on the simulated cluster (real PostgreSQL behind the pod)', () => {
  let r: SimRelease;
  beforeAll(async () => {
    r = await simRelease({ ns: 'tf-reset', scenario: { readyAfterMs: 150 } });
  }, 180_000);
  afterAll(async () => r?.stop());

  const psql = (sql: string) =>
    r.kubectl(
      [
        'exec',
        '-i',
        'sso-postgres-0',
        '-c',
        'postgres',
        '--',
        'psql',
        '-X',
        '-tA',
        '-v',
        'ON_ERROR_STOP=1',
        '-U',
        'sso_user',
        '-d',
        'sso_db',
      ],
      sql,
    );
  /** A TCP login inside the pod (scram-sha-256, like the applications), the password on stdin. */
  const login = async (password: string): Promise<string> => {
    const res = await r.kubectl(
      ['exec', '-i', 'sso-postgres-0', '-c', 'postgres', '--', ...loginCommand(DATABASES.sso)],
      password,
    );
    return res.code === 0 && res.stdout.trim() === '1' ? 'ok' : res.stderr;
  };
  const rows = async (): Promise<string> =>
    (
      await psql("select count(*) || ':' || md5(string_agg(id || title, ',' order by id)) from notes")
    ).stdout.trim();

  it('check agrees after a deploy', async () => {
    const res = await r.run('reset-db-password', ['sso', '--check', '--json']);
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ ok: true, db: 'sso', status: 'in-sync' });
  });

  it('drift made by changing the Secret is detected by --check and repaired by the default sync; rows survive', async () => {
    const create = await psql(
      "create table notes (id int primary key, title text); insert into notes select g, 'note ' || g from generate_series(1, 500) g",
    );
    expect(create.code, create.stderr).toBe(0);
    const before = await rows();
    expect(before).toMatch(/^500:/);
    const old = await r.secret('sso-postgres', 'password');
    const drifted = 'drifted0123456789abcdef0123456789';
    // The patch goes through a file: no password in argv, even in a test.
    const patchFile = path.join(r.se.cwd, 'drift-patch.json');
    writeFileSync(patchFile, JSON.stringify({ stringData: { password: drifted } }), { mode: 0o600 });
    const patch = await r.kubectl([
      'patch',
      'secret',
      'sso-postgres',
      '--type',
      'merge',
      '--patch-file',
      patchFile,
    ]);
    expect(patch.code, patch.stderr).toBe(0);

    const check = await r.run('reset-db-password', ['sso', '--check', '--json']);
    expect(check.code, check.stderr).toBe(1);
    expect(JSON.parse(check.stdout)).toMatchObject({ ok: false, db: 'sso', status: 'out-of-sync' });
    expect(check.stderr).toContain(
      "hint: make the database take the Secret's password: npm run reset-db-password -- sso",
    );

    const sync = await r.run('reset-db-password', ['sso']);
    expect(sync.code, sync.stdout + sync.stderr).toBe(0);
    expect(sync.stdout).toContain(
      '✓ the sso database now takes the password of Secret sso-postgres; a login with it works',
    );
    expect(sync.stdout + sync.stderr).not.toContain(drifted);

    expect(await rows()).toBe(before);
    expect(await login(drifted)).toBe('ok');
    expect(await login(old)).toMatch(/password authentication failed/);
    expect((await r.run('reset-db-password', ['sso', '--check'])).code).toBe(0);
  });

  it('--rotate: a new hex password in the database, the release and the env file; the old one stops working', async () => {
    const before = await rows();
    const old = await r.secret('sso-postgres', 'password');
    const res = await r.run('reset-db-password', ['sso', '--rotate', '--yes', '--json']);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({
      ok: true,
      db: 'sso',
      mode: 'rotate',
      status: 'in-sync',
      restarted: ['sso-platform'],
      envFile: 'updated',
    });
    const fresh = await r.secret('sso-postgres', 'password');
    expect(fresh).toMatch(/^[0-9a-f]{32}$/);
    expect(fresh).not.toBe(old);
    expect(await login(fresh)).toBe('ok');
    expect(await login(old)).toMatch(/password authentication failed/);
    expect(await rows()).toBe(before);
    // The release holds it (the next deploy keeps it), the env file too, and the URL the SSO reads.
    const values = JSON.parse((await r.helm(['get', 'values', 'taskflow', '-o', 'json'])).stdout) as {
      sso?: { database?: { password?: string } };
    };
    expect(values.sso?.database?.password).toBe(fresh);
    expect(r.envFile()).toMatch(new RegExp(`^POSTGRES_SSO_PASSWORD=.?${fresh}`, 'm'));
    expect(await r.secret('sso-platform', 'DATABASE_URL')).toContain(`:${fresh}@`);
    expect(res.stdout + res.stderr).not.toContain(fresh);
  });

  it('a release that is not deployed, and a database pod that is gone: exit 1 with the next step', async () => {
    const missing = await r.run('reset-db-password', ['api', '--check', '-n', 'nowhere']);
    expect(missing.code).toBe(1);
    expect(missing.stdout.split('\n')[1]).toBe(
      '✗ release "taskflow" is not installed in namespace "nowhere"',
    );

    expect((await r.kubectl(['scale', 'statefulset', 'api-postgres', '--replicas=0'])).code).toBe(0);
    for (let i = 0; i < 50; i++) {
      const get = await r.kubectl(['get', 'pod', 'api-postgres-0', '--ignore-not-found', '-o', 'name']);
      if (get.stdout.trim() === '') break;
      await new Promise((res) => setTimeout(res, 200));
    }
    const res = await r.run('reset-db-password', ['api']);
    expect(res.code).toBe(1);
    expect(res.stdout.split('\n')[1]).toBe('✗ pod api-postgres-0 not found in namespace tf-reset');
  });
});
