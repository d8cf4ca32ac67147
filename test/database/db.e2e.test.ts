import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackupMeta } from '../../lib/db-backup.ts';
import { runScript } from '../support/e2e.ts';
import { type SimRelease, simRelease } from '../migrate/sim-release.ts';

interface BackupDoc {
  ok: boolean;
  backups: {
    database: string;
    file: string;
    metadata: string;
    bytes: number;
    tables: number;
    rows: number;
    sha256: string;
  }[];
  skipped: unknown[];
}
interface ErrorDoc {
  ok: false;
  refused?: string;
  error: { message: string; hint?: string; exitCode: number };
}

const TABLES = ['t_users', 't_tasks', 't_events'] as const;
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('npm run db on the simulated cluster (real PostgreSQL behind the pod)', () => {
  let r: SimRelease;
  beforeAll(async () => {
    r = await simRelease({ ns: 'tf-db', scenario: { readyAfterMs: 150 } });
  }, 180_000);
  afterAll(async () => r?.stop());

  const psql = async (sql: string): Promise<string> => {
    const res = await r.kubectl(
      ['exec', '-i', 'api-postgres-0', '-c', 'postgres', '--', 'psql', '-X', '-tA', '-v', 'ON_ERROR_STOP=1'] //
        .concat(['-U', 'taskflow_user', '-d', 'taskflow_db']),
      sql,
    );
    expect(res.code, res.stderr).toBe(0);
    return res.stdout.trim();
  };
  /** Per table: its row count and an md5 of every row in key order (missing tables: "missing"). */
  const contents = async (): Promise<Record<string, string>> => {
    const out: Record<string, string> = {};
    for (const t of TABLES) {
      const exists = await psql(`select to_regclass('public.${t}') is not null`);
      out[t] =
        exists === 't'
          ? await psql(`select count(*) || ':' || md5(string_agg(x::text, ',' order by x.id)) from ${t} x`)
          : 'missing';
    }
    return out;
  };
  /** The API Deployment as the cluster holds it: replicas asked, generation (a scale bumps it), ready. */
  const api = async () => {
    const res = await r.kubectl(['get', 'deployment', 'taskflow-api', '-o', 'json']);
    const d = JSON.parse(res.stdout) as {
      metadata: { generation: number };
      spec: { replicas: number };
      status: { readyReplicas?: number };
    };
    return {
      generation: d.metadata.generation,
      replicas: d.spec.replicas,
      ready: d.status.readyReplicas ?? 0,
    };
  };

  let file = '';
  let before: Record<string, string> = {};

  it('backup api: 100,000 rows in three tables dumped through the pod, with checksum and row counts beside it', async () => {
    await psql(`
      create table t_users (id int primary key, name text not null);
      insert into t_users select g, 'user ' || g from generate_series(1, 20000) g;
      create table t_tasks (id int primary key, user_id int not null references t_users(id), title text, done bool);
      insert into t_tasks select g, 1 + g % 20000, 'task ' || g, g % 3 = 0 from generate_series(1, 50000) g;
      create table t_events (id bigint primary key, task_id int references t_tasks(id), at timestamptz, payload jsonb);
      insert into t_events select g, 1 + g % 50000, '2026-01-01'::timestamptz + g * interval '1 second',
        jsonb_build_object('n', g, 'kind', 'e' || (g % 7)) from generate_series(1, 30000) g;
    `);
    before = await contents();
    expect(Object.values(before).map((c) => c.split(':')[0])).toEqual(['20000', '50000', '30000']);

    const res = await r.run('db', ['backup', 'api', '--json']);
    expect(res.code, res.stderr).toBe(0);
    const doc = JSON.parse(res.stdout) as BackupDoc;
    expect(doc).toMatchObject({ ok: true, skipped: [] });
    expect(doc.backups).toHaveLength(1);
    const b = doc.backups[0]!;
    file = b.file;
    expect(path.dirname(file)).toBe(path.join(r.se.cwd, 'backups'));
    expect(path.basename(file)).toMatch(/^taskflow-api-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ\.dump$/);
    expect(b).toMatchObject({ database: 'api', tables: 3, rows: 100_000, bytes: statSync(file).size });
    expect(b.sha256).toBe(sha256(file));
    expect(readFileSync(file).subarray(0, 5).toString()).toBe('PGDMP'); // custom format
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(b.metadata).mode & 0o777).toBe(0o600);
    const meta = JSON.parse(readFileSync(b.metadata, 'utf8')) as BackupMeta;
    expect(meta).toMatchObject({
      version: 1,
      release: 'taskflow',
      namespace: 'tf-db',
      database: 'api',
      file: path.basename(file),
      format: 'custom',
      bytes: b.bytes,
      sha256: b.sha256,
      tables: 3,
      rows: { 'public.t_events': 30000, 'public.t_tasks': 50000, 'public.t_users': 20000 },
      countsStable: true,
    });
    expect(res.stderr).toContain('backing up the api database');
  });

  it('backup with no database backs up both; --help and an unknown option', async () => {
    const res = await r.run('db', ['backup', '--out', 'both']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(
      /✓ sso: both\/taskflow-sso-\S+\.dump \([\d.]+ (B|KiB), 0 tables, 0 rows, sha256 [0-9a-f]{64}\)/,
    );
    expect(res.stdout).toMatch(
      /✓ api: both\/taskflow-api-\S+\.dump \([\d.]+ KiB, 3 tables, 100000 rows, sha256 [0-9a-f]{64}\)/,
    );
    expect(res.stdout).toMatch(
      /hint: restore one with: npm run db -- restore sso both\/taskflow-sso-\S+\.dump/,
    );
    const help = await r.run('db', ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('npm run db -- restore api backups/taskflow-api-2026-01-02T03-04-05Z.dump');
    const bad = await r.run('db', ['backup', '--outt', 'x']);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toContain('did you mean --out?');
  });

  it('list shows it, newest first, with its size, tables and rows', async () => {
    const res = await r.run('db', ['list', '--json']);
    expect(res.code, res.stderr).toBe(0);
    const doc = JSON.parse(res.stdout) as { backups: { file: string; status: string; rows: number }[] };
    expect(doc.backups[0]).toMatchObject({ file, status: 'ok', rows: 100_000, tables: 3, database: 'api' });
    const table = await r.run('db', ['list']);
    expect(table.stdout).toMatch(/TIME +DB +RELEASE +SIZE +TABLES +ROWS +FILE/);
    expect(table.stdout).toContain(`api  taskflow`);
  });

  it('a truncated, a corrupted, an unreadable copy and one without metadata are refused before anything is stopped', async () => {
    const app = await api();
    expect(app.replicas).toBeGreaterThan(0);
    const dir = path.dirname(file);
    const data = readFileSync(file);
    const copy = (name: string, bytes: Buffer, meta: 'same' | 'resummed' | 'none') => {
      const f = path.join(dir, name);
      writeFileSync(f, bytes, { mode: 0o600 });
      if (meta === 'same') copyFileSync(`${file}.json`, `${f}.json`);
      if (meta === 'resummed') {
        const m = JSON.parse(readFileSync(`${file}.json`, 'utf8')) as BackupMeta;
        m.bytes = bytes.length;
        m.sha256 = createHash('sha256').update(bytes).digest('hex');
        writeFileSync(`${f}.json`, JSON.stringify(m), { mode: 0o600 });
      }
      return f;
    };
    const flipped = Buffer.from(data);
    flipped[Math.floor(flipped.length / 2)]! ^= 0xff;
    const garbage = Buffer.from(data.subarray(0, 64));
    garbage.write('not a dump at all', 0);
    const cases = [
      {
        f: copy('truncated.dump', data.subarray(0, Math.floor(data.length / 2)), 'same'),
        why: /has \d+ bytes, the backup had \d+: the file is truncated or damaged/,
      },
      {
        f: copy('corrupted.dump', flipped, 'same'),
        why: /does not match the sha256 recorded at backup time: the file is damaged/,
      },
      {
        f: copy('unreadable.dump', garbage, 'resummed'),
        why: /pg_restore cannot read it: pg_restore: error: input file does not appear to be a valid archive/,
      },
      { f: copy('no-meta.dump', data, 'none'), why: /no-meta\.dump\.json is missing/ },
    ];
    for (const c of cases) {
      const res = await r.run('db', ['restore', 'api', c.f, '--yes', '--json']);
      expect(res.code, res.stderr).toBe(1);
      const doc = JSON.parse(res.stdout) as ErrorDoc;
      expect(doc.error.message).toMatch(
        new RegExp(`^refusing to restore ${path.basename(c.f)}|refusing to restore .*${path.basename(c.f)}`),
      );
      expect(doc.error.message).toMatch(c.why);
      expect(doc.error.hint).toContain('nothing was changed; pick another backup: npm run db -- list api');
      expect(res.stderr).not.toMatch(/stopping deployment/);
    }
    // the wrong database, a missing file, no --yes without a terminal: usage errors
    const wrong = await r.run('db', ['restore', 'sso', file, '--yes']);
    expect(wrong.code).toBe(2);
    expect(wrong.stdout).toContain('is a backup of the api database, not of the sso database');
    expect(wrong.stdout).toContain(`hint: npm run db -- restore api ${path.relative(r.se.cwd, file)}`);
    expect((await r.run('db', ['restore', 'api', path.join(dir, 'nope.dump'), '--yes'])).code).toBe(2);
    const noYes = await r.run('db', ['restore', 'api', file]);
    expect(noYes.code).toBe(2);
    expect(noYes.stdout).toContain(
      'restore replaces the content of the api database: add --yes to confirm without a terminal',
    );
    expect(await api()).toEqual(app); // never scaled: same replicas, same generation
  });

  it('drop a table, restore: apps stopped and back, every row back, contents equal, the old content backed up first', async () => {
    const app = await api();
    await psql(
      'drop table t_events; update t_tasks set title = null where id <= 100; delete from t_tasks where id > 49000;',
    );
    expect((await contents()).t_events).toBe('missing');

    const res = await r.run('db', ['restore', 'api', file, '--yes', '--json'], { timeoutMs: 150_000 });
    expect(res.code, res.stderr).toBe(0);
    const doc = JSON.parse(res.stdout) as {
      ok: boolean;
      restored: boolean;
      tables: number;
      rows: number;
      mismatches: unknown[];
      consumers: { name: string; replicas: number }[];
      backup: { file: string; rows: number; tables: number } | null;
      notBack: unknown[];
    };
    expect(doc).toMatchObject({
      ok: true,
      restored: true,
      tables: 3,
      rows: 100_000,
      mismatches: [],
      notBack: [],
      consumers: [{ name: 'taskflow-api', replicas: app.replicas }],
    });
    // the content it replaced: 2 tables, 20,000 + 49,000 rows
    expect(doc.backup).toMatchObject({ tables: 2, rows: 69_000 });
    expect(statSync(doc.backup!.file).mode & 0o777).toBe(0o600);
    expect(res.stderr).toMatch(
      /stopping deployment\/taskflow-api[\s\S]*restoring[\s\S]*starting deployment\/taskflow-api again/,
    );
    expect(await contents()).toEqual(before);
    const after = await api();
    expect(after.replicas).toBe(app.replicas);
    await expect.poll(async () => (await api()).ready, { timeout: 60_000 }).toBe(app.replicas);
    // the backup file itself is untouched
    expect(sha256(file)).toBe((JSON.parse(readFileSync(`${file}.json`, 'utf8')) as BackupMeta).sha256);
  }, 180_000);

  it('Ctrl+C during pg_restore: exit 130, the database as it was (one transaction), the API scaled back up', async () => {
    const app = await api();
    await psql('drop table t_events;');
    const modified = await contents();
    expect(modified.t_events).toBe('missing');
    // A session holding a lock on t_users keeps pg_restore waiting inside its transaction.
    const holder = r.kubectl(
      [
        'exec',
        '-i',
        'api-postgres-0',
        '-c',
        'postgres',
        '--',
        'psql',
        '-X',
        '-U',
        'taskflow_user',
        '-d',
        'taskflow_db',
      ],
      'begin; lock table t_users in access exclusive mode; select pg_sleep(120); commit;',
    );
    await expect
      .poll(
        () =>
          psql(
            "select count(*) from pg_locks l join pg_class c on c.oid = l.relation where c.relname = 't_users' and l.mode = 'AccessExclusiveLock' and l.granted",
          ),
        { timeout: 30_000 },
      )
      .toBe('1');
    let pid = 0;
    const run = runScript('db', ['restore', 'api', file, '--yes', '--no-backup', '--json'], r.se, {
      timeoutMs: 120_000,
      onStarted: (p) => (pid = p),
    });
    await expect
      .poll(
        () =>
          psql(
            "select count(*) from pg_stat_activity where application_name = 'pg_restore' and wait_event_type = 'Lock'",
          ),
        { timeout: 60_000 },
      )
      .toBe('1');
    expect((await api()).replicas).toBe(0);
    process.kill(pid, 'SIGINT');
    const res = await run;
    await psql(
      "select pg_terminate_backend(pid) from pg_stat_activity where query like '%pg_sleep(120)%' and pid <> pg_backend_pid()",
    );
    await holder;
    expect(res.code, res.stderr).toBe(130);
    const doc = JSON.parse(res.stdout) as ErrorDoc & { restored: boolean; consumers: unknown[] };
    expect(doc).toMatchObject({
      ok: false,
      restored: false,
      consumers: [{ name: 'taskflow-api', replicas: app.replicas }],
    });
    expect(doc.error.message).toBe(
      'interrupted during pg_restore; taskflow-api scaled back up (not waited for)',
    );
    // pg_restore is gone from the database, its transaction rolled back: t_events is still missing
    await expect
      .poll(() => psql("select count(*) from pg_stat_activity where application_name = 'pg_restore'"), {
        timeout: 30_000,
      })
      .toBe('0');
    expect(await contents()).toEqual(modified);
    expect((await api()).replicas).toBe(app.replicas);
    await expect.poll(async () => (await api()).ready, { timeout: 60_000 }).toBe(app.replicas);
  }, 180_000);
});
