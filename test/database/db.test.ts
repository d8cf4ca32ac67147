import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../lib/cli.ts';
import {
  type BackupMeta,
  checkBackupFile,
  countMismatches,
  parseMetadata,
  parseRowCounts,
  restoreCommand,
  sameCounts,
} from '../../lib/db-backup.ts';
import { formatBytes } from '../../lib/database/backup.ts';
import { findBackups } from '../../lib/database/list.ts';
import { restoreQuestion, runRestore } from '../../lib/database/restore.ts';
import { DB_SPEC, parseDbOptions } from '../../lib/database/spec.ts';
import { OperationError } from '../../lib/errors.ts';
import { Logger } from '../../lib/log.ts';
import { Capture, testSession } from '../support/command-context.ts';
import type { FakeChild } from '../support/fake-runner.ts';
import { FakeRunner, type Reply, json, list } from '../support/fake-runner.ts';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));
function tmpDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tf-db-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
const sha = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');

function meta(over: Partial<BackupMeta> = {}): BackupMeta {
  return {
    version: 1,
    release: 'taskflow',
    namespace: 'tf',
    database: 'api',
    file: 'taskflow-api-2026-01-02T03-04-05Z.dump',
    format: 'custom',
    time: '2026-01-02T03:04:05.000Z',
    bytes: 5,
    sha256: sha('PGDMP'),
    tables: 2,
    rows: { 'public.a': 3, 'public.b': 4 },
    countsStable: true,
    ...over,
  };
}

/** Writes a dump and (unless `m` is null) its metadata; returns the dump's path. */
function writeBackup(dir: string, name: string, content: string, m: BackupMeta | null | string): string {
  const file = path.join(dir, name);
  writeFileSync(file, content, { mode: 0o600 });
  if (m !== null)
    writeFileSync(`${file}.json`, typeof m === 'string' ? m : JSON.stringify(m), { mode: 0o600 });
  return file;
}

describe('db options', () => {
  const parse = (argv: string[]) => {
    const p = parseCommandLine(DB_SPEC, argv);
    return parseDbOptions(p.positionals, p.values, '/work');
  };
  it.each([
    [['backup'], { action: 'backup', dbs: ['sso', 'api'], dir: '/work/backups' }],
    [['backup', 'all'], { action: 'backup', dbs: ['sso', 'api'] }],
    [['backup', 'api', '--out', 'elsewhere'], { action: 'backup', dbs: ['api'], dir: '/work/elsewhere' }],
    [['list', 'sso'], { action: 'list', dbs: ['sso'] }],
    [
      ['restore', 'api', 'b/x.dump', '--yes', '--no-backup', '--timeout', '90s'],
      { action: 'restore', dbs: ['api'], file: 'b/x.dump', yes: true, backupFirst: false, timeoutMs: 90_000 },
    ],
  ])('%j', (argv, expected) => {
    expect(parse(argv)).toMatchObject(expected);
  });
  it.each([
    [[], 'what to do? give one of: backup, list, restore'],
    [['dump'], 'unknown action "dump" (valid: backup, list, restore)'],
    [['backup', 'web'], 'unknown database "web" (valid: sso, api, all)'],
    [['backup', 'api', 'extra'], 'unexpected argument: extra'],
    [['restore', 'all', 'x.dump'], 'cannot restore "all": give one database, sso or api'],
    [['restore', 'api'], 'restore api which file?'],
    [['backup', '--no-backup'], '--no-backup only makes sense with restore'],
    [['restore', 'api', 'x', '--timeout', 'soon'], '--timeout: "soon" is not a duration'],
    [['restore', 'api', 'x', 'y'], 'unexpected argument: y'],
  ])('%j is a usage error: %s', (argv, message) => {
    expect(() => parse(argv)).toThrow(expect.objectContaining({ exitCode: 2, message }));
  });
});

describe('row counts and metadata', () => {
  it('reads the JSON line of the count query', () => {
    expect(parseRowCounts('[["public.a", 3], ["public.\\"B\\"", "12"]]\n')).toEqual({
      'public.a': 3,
      'public."B"': 12,
    });
    expect(parseRowCounts('[]')).toEqual({});
  });
  it('compares counts table by table', () => {
    expect(sameCounts({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(true);
    expect(sameCounts({ a: 1 }, { a: 1, b: 0 })).toBe(false);
    expect(countMismatches({ a: 1, b: 2, c: 3 }, { a: 1, b: 5, d: 9 })).toEqual([
      { table: 'b', expected: 2, actual: 5 },
      { table: 'c', expected: 3, actual: null },
    ]);
  });
  it('accepts only complete metadata of ours', () => {
    expect(parseMetadata(JSON.stringify(meta()))).toEqual(meta());
    expect(parseMetadata('not json')).toBeUndefined();
    expect(parseMetadata(JSON.stringify({ ...meta(), database: 'web' }))).toBeUndefined();
    expect(parseMetadata(JSON.stringify({ ...meta(), sha256: 'abc' }))).toBeUndefined();
    expect(parseMetadata(JSON.stringify({ ...meta(), rows: { a: '3' } }))).toBeUndefined();
  });
  it('the restore runs in one transaction, dropping what the dump holds first, owners left out', () => {
    expect(restoreCommand()).toEqual([
      'sh',
      '-c',
      'exec pg_restore --clean --if-exists --no-owner --single-transaction --exit-on-error -U "$POSTGRES_USER" -d "$POSTGRES_DB"',
    ]);
  });
  it('sizes people read', () => {
    expect([0, 833, 1024, 716_000, 5 * 1024 ** 3].map(formatBytes)).toEqual([
      '0 B',
      '833 B',
      '1.0 KiB',
      '699.2 KiB',
      '5.0 GiB',
    ]);
  });
});

describe('a backup file checked on this machine', () => {
  it.each([
    ['ok', 'PGDMP', meta(), { ok: true }],
    ['no metadata', 'PGDMP', null, { ok: false, problem: 'no-metadata' }],
    ['metadata not ours', 'PGDMP', '{"x":1}', { ok: false, problem: 'bad-metadata' }],
    [
      'truncated',
      'PGD',
      meta(),
      { ok: false, problem: 'size', detail: expect.stringMatching(/has 3 bytes, the backup had 5/) },
    ],
    ['corrupted', 'PGDMQ', meta(), { ok: false, problem: 'checksum' }],
  ] as const)('%s', async (_name, content, m, expected) => {
    const dir = tmpDir();
    const file = writeBackup(dir, 'x.dump', content, m as BackupMeta | null | string);
    expect(await checkBackupFile(file)).toMatchObject(expected);
  });
  it('a missing file', async () => {
    expect(await checkBackupFile(path.join(tmpDir(), 'none.dump'))).toMatchObject({
      ok: false,
      problem: 'missing',
    });
  });
});

describe('db list', () => {
  it('newest first, each with its state; a database filter keeps the unknown ones', () => {
    const dir = tmpDir();
    writeBackup(dir, 'taskflow-api-2026-01-02T03-04-05Z.dump', 'PGDMP', meta());
    writeBackup(
      dir,
      'taskflow-sso-2026-02-02T03-04-05Z.dump',
      'PGDMP!',
      meta({ database: 'sso', time: '2026-02-02T03:04:05.000Z' }),
    );
    const bare = writeBackup(dir, 'taskflow-api-2025-12-01T00-00-00Z.dump', 'PGDMP', null);
    utimesSync(bare, new Date('2025-12-01T00:00:00Z'), new Date('2025-12-01T00:00:00Z'));
    writeFileSync(
      path.join(dir, 'taskflow-api-2026-03-01T00-00-00Z.dump.json'),
      JSON.stringify(meta({ time: '2026-03-01T00:00:00.000Z' })),
    );
    writeFileSync(path.join(dir, '.taskflow-api-2026-04-01T00-00-00Z.dump.123.partial'), 'PGD');
    writeFileSync(path.join(dir, 'taskflow-addon-x-data-2026-01-01T00-00-00Z.tar'), 'tar');
    const found = findBackups(dir);
    expect(found.map((b) => [path.basename(b.file), b.status, b.database, b.rows])).toEqual([
      ['taskflow-api-2026-03-01T00-00-00Z.dump', 'dump-missing', 'api', 7],
      ['taskflow-sso-2026-02-02T03-04-05Z.dump', 'size-mismatch', 'sso', 7],
      ['taskflow-api-2026-01-02T03-04-05Z.dump', 'ok', 'api', 7],
      ['taskflow-api-2025-12-01T00-00-00Z.dump', 'no-metadata', 'api', null],
    ]);
    expect(findBackups(dir, ['sso']).map((b) => b.database)).toEqual(['sso']);
    expect(findBackups(path.join(dir, 'nothing-here'))).toEqual([]);
  });
});

describe('the restore question', () => {
  const meta = (tables: number, rows: Record<string, number>) => ({
    time: '2026-01-02T03:04:05Z',
    tables,
    rows,
  });
  it.each([
    [
      meta(1, { user: 1 }),
      true,
      ['sso-platform'],
      'Replace the content of the sso database with b.dump (2026-01-02T03:04:05Z, 1 table, 1 row)? It is backed up first. sso-platform is stopped meanwhile.',
    ],
    [
      meta(2, { user: 3, session: 4 }),
      false,
      ['taskflow-api'],
      'Replace the content of the sso database with b.dump (2026-01-02T03:04:05Z, 2 tables, 7 rows)? It is NOT backed up first (--no-backup). taskflow-api is stopped meanwhile.',
    ],
    [
      meta(0, {}),
      true,
      ['taskflow-api', 'sso-platform'],
      'Replace the content of the sso database with b.dump (2026-01-02T03:04:05Z, 0 tables, 0 rows)? It is backed up first. taskflow-api and sso-platform are stopped meanwhile.',
    ],
    [
      meta(3, { a: 1 }),
      true,
      ['a', 'b', 'c'],
      'Replace the content of the sso database with b.dump (2026-01-02T03:04:05Z, 3 tables, 1 row)? It is backed up first. a, b and c are stopped meanwhile.',
    ],
  ])('%j, backup first %s, consumers %j', (m, backupFirst, consumers, question) => {
    expect(restoreQuestion('sso', 'b.dump', m, backupFirst, consumers)[0]).toBe(question);
  });

  it('names the database’s own consumers by default', () => {
    expect(restoreQuestion('api', 'b.dump', meta(1, { task: 2 }), true)[0]).toMatch(
      / taskflow-api is stopped meanwhile\.$/,
    );
  });
});

describe('restore, on a scripted cluster', () => {
  /** A cluster where taskflow-api runs 2 replicas and pg_restore answers `restore`. */
  function cluster(restore: Reply, counts = '[["public.a", 3], ["public.b", 4]]') {
    const runner = new FakeRunner(
      (args) => {
        const v = args.join(' ');
        if (v.startsWith('get --raw /version')) return { stdout: '{}' };
        if (v.startsWith('get pod api-postgres-0'))
          return json({
            kind: 'Pod',
            metadata: { name: 'api-postgres-0' },
            status: { phase: 'Running', containerStatuses: [{ name: 'postgres', state: { running: {} } }] },
          });
        if (v.startsWith('get deployment taskflow-api'))
          return json({
            kind: 'Deployment',
            metadata: { name: 'taskflow-api' },
            spec: { replicas: 2, selector: { matchLabels: { app: 'api' } } },
          });
        if (v.startsWith('get pods')) return list([]);
        if (v.startsWith('scale ')) return { stdout: 'scaled' };
        if (v.includes('pg_restore --list')) return { stdout: 'TOC' };
        if (v.includes('pg_restore --clean')) return restore;
        if (v.includes('psql')) return { stdout: counts };
        return { exitCode: 1, stderr: `unexpected: ${v}` };
      },
      (child: FakeChild) => ({
        exitCode: 0,
        stdout: `deployment "${child.args[2]}" successfully rolled out\n`,
      }),
    );
    const s = testSession(runner);
    cleanups.push(s.cleanup);
    const dir = tmpDir();
    const file = writeBackup(dir, 'taskflow-api-2026-01-02T03-04-05Z.dump', 'PGDMP', meta());
    const out = new Capture();
    const deps = {
      kubectl: s.session.kubectl,
      release: 'taskflow',
      log: new Logger({ out, interactive: false, color: false }),
      stdout: new Capture(),
      signal: new AbortController().signal,
      confirmIo: { yes: true, stdin: process.stdin, prompt: new Capture() },
      mayWrite: (_what: string): Promise<void> => Promise.resolve(),
      pollMs: 1,
    };
    const opts = {
      ...parseDbOptions(['restore', 'api', file], { 'no-backup': true }, dir),
      file,
    };
    return { runner, deps, opts, out };
  }
  const scales = (runner: FakeRunner) => runner.find('scale').map((r) => r.argv.slice(-2).join(' '));

  it('stops the consumers, restores with the file on stdin, counts, and brings them back to their replicas', async () => {
    const { runner, deps, opts } = cluster({ exitCode: 0 });
    await expect(runRestore(deps, opts, meta())).resolves.toBe(0);
    expect(scales(runner)).toEqual([
      'deployment/taskflow-api --replicas=0',
      'deployment/taskflow-api --replicas=2',
    ]);
    const restore = runner.recorded.find((r) => r.argv.join(' ').includes('pg_restore --clean'));
    expect(restore?.stdin).toBe('PGDMP');
    expect(restore?.argv.slice(3, 9)).toEqual(['exec', '-i', 'api-postgres-0', '-c', 'postgres', '--']);
  });

  it('the remote-context guard gets the destructive description before anything is backed up or scaled', async () => {
    const { runner, deps, opts } = cluster({ exitCode: 0 });
    const guard: { what: string; callsBefore: string[] }[] = [];
    deps.mayWrite = (what: string) => {
      guard.push({
        what,
        callsBefore: runner.lines().filter((l) => /scale|pg_dump|pg_restore --clean/.test(l)),
      });
      return Promise.resolve();
    };
    await runRestore(deps, opts, meta());
    expect(guard).toEqual([{ what: 'restore replaces the content of the api database', callsBefore: [] }]);
  });

  it('a failing pg_restore still brings the consumers back, and says so with the next command', async () => {
    const { runner, deps, opts } = cluster({
      exitCode: 1,
      stderr: 'pg_restore: error: could not execute query: ERROR:  out of disk space\n',
    });
    const err = (await runRestore(deps, opts, meta()).catch((e: unknown) => e)) as OperationError;
    expect(err).toBeInstanceOf(OperationError);
    expect(err.message).toBe(
      'pg_restore failed, the api database is unchanged (the restore runs in one transaction): pg_restore: error: could not execute query: ERROR:  out of disk space; taskflow-api scaled back up',
    );
    expect(err.hint).toMatch(
      /no backup was made first \(--no-backup\); see why: npm run doctor, then retry: npm run db -- restore api /,
    );
    expect(err.report).toMatchObject({
      restored: false,
      consumers: [{ name: 'taskflow-api', replicas: 2 }],
      notBack: [],
    });
    expect(scales(runner)).toEqual([
      'deployment/taskflow-api --replicas=0',
      'deployment/taskflow-api --replicas=2',
    ]);
  });

  it('counts that differ from the recorded ones fail the restore, after the consumers are back', async () => {
    const { runner, deps, opts } = cluster({ exitCode: 0 }, '[["public.a", 3]]');
    await expect(runRestore(deps, opts, meta())).rejects.toThrow(
      "the restored api database differs from the backup's row counts: public.b: 4 recorded, table missing",
    );
    expect(scales(runner)).toEqual([
      'deployment/taskflow-api --replicas=0',
      'deployment/taskflow-api --replicas=2',
    ]);
  });

  it('a file pg_restore cannot read is refused before anything is scaled', async () => {
    const { runner, deps, opts } = cluster({ exitCode: 0 });
    const reply = runner.reply;
    Object.defineProperty(runner, 'reply', {
      value: (args: string[], stdin: string | undefined) =>
        args.join(' ').includes('pg_restore --list')
          ? { exitCode: 1, stderr: 'pg_restore: error: input file does not appear to be a valid archive\n' }
          : reply(args, stdin),
    });
    await expect(runRestore(deps, opts, meta())).rejects.toThrow(
      /refusing to restore .*: pg_restore cannot read it: pg_restore: error: input file does not appear to be a valid archive/,
    );
    expect(scales(runner)).toEqual([]);
  });
});
