/**
 * Database backups through the postgres pod (`npm run db -- backup`, and deploy --fresh before it deletes
 * anything): `pg_dump` in custom format inside the pod over its trusted local socket (no password, no local
 * PostgreSQL tools), streamed into `<dir>/<release>-<db>-<time>.dump` (lib/backups.ts: atomic, mode 0600),
 * read back by `pg_restore --list` in the pod before it takes its name, with a metadata file beside it
 * (`<file>.json`: release, database, time, size, sha256, the exact row count of every table).
 */
import { psqlCommand } from './db.ts';
import { readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { BACKUP_DIR, backupPath, backupWithSum, fileSum, writeNewFileAtomic } from './backups.ts';
import { DATABASES, type DbInfo, type DbName, isDbName } from './components.ts';
import { isDbPodRunning } from './drift.ts';
import { OperationError } from './errors.ts';
import { type Kubectl, execArgs } from './kubectl.ts';
import type { Pod } from './pod-status.ts';
import { redact } from './redact.ts';
import { authSecretFingerprint, readReleaseAuthSecret } from './auth-secret.ts';
import { npmRun } from './suggest.ts';

/** The extension of a database backup (pg_dump's custom format). */
export const DUMP_EXT = '.dump';

/** `<dir>/<release>-<db>-<timestamp>.dump` (the timestamp without colons, safe on every filesystem). */
export function dbBackupFile(dir: string, release: string, db: DbName, now: Date): string {
  return backupPath(dir, `${release}-${db}`, now, DUMP_EXT);
}

/** The metadata file recorded beside a dump. */
export function metadataPath(file: string): string {
  return `${file}.json`;
}

// Every command runs as the image's superuser (POSTGRES_USER) on its database (POSTGRES_DB), over the
// local socket that the image trusts: no password anywhere.
const AS_OWNER = '-U "$POSTGRES_USER" -d "$POSTGRES_DB"';

/** argv (after `kubectl exec POD -c postgres --`) of the dump: custom format, to stdout. */
export function dumpCommand(): string[] {
  return ['sh', '-c', `exec pg_dump --format=custom ${AS_OWNER}`];
}

/** kubectl arguments of the dump: pg_dump in the database's container, its output read here. */
export function dumpArgs(db: DbInfo): string[] {
  return execArgs(db.pod, db.container, dumpCommand(), false);
}

/** argv of `pg_restore --list` reading an archive on stdin: fails on a file it cannot read. */
export function restoreListCommand(): string[] {
  return ['pg_restore', '--list'];
}

/**
 * argv of the restore, the archive on stdin: objects of the dump dropped (if they exist) and recreated,
 * owners left to the restoring user, all in one transaction (a failure changes nothing).
 */
export function restoreCommand(): string[] {
  return [
    'sh',
    '-c',
    `exec pg_restore --clean --if-exists --no-owner --single-transaction --exit-on-error ${AS_OWNER}`,
  ];
}

/** argv of psql over the local socket, SQL on stdin, tuples only (lib/db.ts's psqlCommand). */
export function countCommand(): string[] {
  return psqlCommand(['-tA']);
}

/**
 * One JSON line: `[["schema.table", rows], ...]` for every ordinary table outside the system schemas,
 * each an exact `count(*)` (query_to_xml runs one query per table inside this one statement).
 */
export const ROW_COUNTS_SQL = `SELECT coalesce(json_agg(json_build_array(t.name, t.n) ORDER BY t.name), '[]')
FROM (
  SELECT format('%I.%I', n.nspname, c.relname) AS name,
         (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text::bigint AS n
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
) t;
`;

/** Table → rows from the output of ROW_COUNTS_SQL. */
export function parseRowCounts(out: string): Record<string, number> {
  const rows = JSON.parse(out.trim() || '[]') as [string, number | string][];
  if (!Array.isArray(rows)) throw new Error('not a list');
  return Object.fromEntries(rows.map(([t, n]) => [t, Number(n)]));
}

/** The exact row count of every table of the database, read in its pod. */
export async function rowCounts(kubectl: Kubectl, db: DbInfo): Promise<Record<string, number>> {
  const res = await kubectl.exec(db.pod, db.container, countCommand(), { stdin: ROW_COUNTS_SQL });
  if (res.exitCode !== 0) {
    throw new OperationError(
      `cannot count the rows of the ${db.db} database: ${redact(firstLine(res.stderr) ?? `exit ${res.exitCode}`)}`,
      { hint: `see what is wrong: ${npmRun('doctor')}` },
    );
  }
  try {
    return parseRowCounts(res.stdout);
  } catch {
    throw new OperationError(`cannot count the rows of the ${db.db} database: unexpected psql output`);
  }
}

/** What is recorded beside a dump. */
export interface BackupMeta {
  version: 1;
  release: string;
  namespace: string;
  database: DbName;
  /** the dump's file name (in the same folder) */
  file: string;
  format: 'custom';
  /** ISO time the backup started */
  time: string;
  bytes: number;
  sha256: string;
  tables: number;
  /** table (`schema.name`) → exact row count */
  rows: Record<string, number>;
  /** false when the counts read before and after the dump differ (the database was written meanwhile) */
  countsStable: boolean;
  /**
   * sso: a fingerprint (keyed hash, lib/auth-secret.ts) of the BETTER_AUTH_SECRET the release ran with,
   * which encrypts the signing keys in this dump; absent when the Secret could not be read.
   */
  authSecret?: string;
}

/** Reads and checks a metadata document; undefined when it is not one of ours. */
export function parseMetadata(text: string): BackupMeta | undefined {
  let doc: Partial<BackupMeta>;
  try {
    doc = JSON.parse(text) as Partial<BackupMeta>;
  } catch {
    return undefined;
  }
  const ok =
    doc !== null &&
    typeof doc === 'object' &&
    doc.version === 1 &&
    isDbName(doc.database) &&
    typeof doc.release === 'string' &&
    typeof doc.file === 'string' &&
    typeof doc.time === 'string' &&
    typeof doc.bytes === 'number' &&
    typeof doc.sha256 === 'string' &&
    /^[0-9a-f]{64}$/.test(doc.sha256) &&
    typeof doc.rows === 'object' &&
    doc.rows !== null &&
    Object.values(doc.rows).every((n) => typeof n === 'number');
  return ok ? (doc as BackupMeta) : undefined;
}

/** The fingerprint of the release's BETTER_AUTH_SECRET (Secret sso-platform), registered for masking. */
export async function releaseAuthFingerprint(kubectl: Kubectl): Promise<string | undefined> {
  const value = await readReleaseAuthSecret(kubectl);
  return value === undefined ? undefined : authSecretFingerprint(value);
}

/**
 * The backup a change that may lose data of the SSO database makes first (into backups/), or the error
 * that stops it when the database has no volume in the cluster (`noVolume` says what to do instead).
 * `failedHint` is the hint of a backup that fails.
 */
export async function backupSsoFirst(
  kubectl: Kubectl,
  release: string,
  say: { step: (line: string) => void; success: (line: string) => void },
  why: { failedHint: string; noVolume: { reason: string; hint: string } },
): Promise<DbBackup> {
  const db = DATABASES.sso;
  say.step(`backing up the sso database (pg_dump in ${db.pod})`);
  const done = await backupDatabase(kubectl, db, dbBackupFile(BACKUP_DIR, release, 'sso', new Date()), {
    release,
    hint: why.failedHint,
  });
  if (!done) {
    throw new OperationError(
      `no volume ${db.pvc} in namespace ${kubectl.target.namespace}: the SSO database is not in the cluster, so ${why.noVolume.reason}`,
      { hint: why.noVolume.hint },
    );
  }
  say.success(
    `sso database backed up: ${done.file} (${done.rows} rows; restore: ${npmRun('db', 'restore', done.file)})`,
  );
  return done;
}

/** One database backed up: the dump, its metadata file and what it holds. */
export interface DbBackup {
  database: DbName;
  file: string;
  metadata: string;
  bytes: number;
  sha256: string;
  tables: number;
  rows: number;
  countsStable: boolean;
}

export interface DbBackupOptions {
  release: string;
  now?: Date;
  /** what to do when the backup fails (deploy --fresh: skip it with --no-backup) */
  hint?: string;
  /** what to do when the pod is not running */
  notRunningHint?: string;
}

/**
 * Dumps one database through `kubectl exec` into `file` (see the module comment) and writes its
 * metadata. A database with no volume has nothing to back up (undefined); one whose pod is not running
 * cannot be dumped (OperationError).
 */
export async function backupDatabase(
  kubectl: Kubectl,
  db: DbInfo,
  file: string,
  opts: DbBackupOptions,
): Promise<DbBackup | undefined> {
  if (!(await kubectl.getOptional('pvc', db.pvc))) return undefined;
  await assertDbPodRunning(kubectl, db, `cannot back up the ${db.db} database`, opts.notRunningHint);
  const what = `backup of the ${db.db} database`;
  const hint = opts.hint ?? `see what is wrong: ${npmRun('doctor')}, then retry`;
  const before = await rowCounts(kubectl, db);
  const authSecret = db.db === 'sso' ? await releaseAuthFingerprint(kubectl) : undefined;
  const time = (opts.now ?? new Date()).toISOString();
  const meta = metadataPath(file);
  let metaWritten = false;
  let result: DbBackup | undefined;
  try {
    await backupWithSum(kubectl, dumpArgs(db), file, what, hint, {
      verify: async (tmp, written) => {
        await assertReadable(kubectl, db, tmp, `${what} failed: pg_restore cannot read the dump`);
        const after = await rowCounts(kubectl, db);
        const doc: BackupMeta = {
          version: 1,
          release: opts.release,
          namespace: kubectl.target.namespace,
          database: db.db,
          file: path.basename(file),
          format: 'custom',
          time,
          bytes: written.bytes,
          sha256: written.sha256,
          tables: Object.keys(after).length,
          rows: after,
          countsStable: sameCounts(before, after),
          ...(authSecret && { authSecret }),
        };
        writeNewFileAtomic(meta, `${JSON.stringify(doc, null, 2)}\n`);
        metaWritten = true;
        result = {
          database: db.db,
          file,
          metadata: meta,
          bytes: doc.bytes,
          sha256: doc.sha256,
          tables: doc.tables,
          rows: totalRows(after),
          countsStable: doc.countsStable,
        };
      },
    });
  } catch (err) {
    if (metaWritten) rmSync(meta, { force: true });
    throw err;
  }
  return result;
}

/** Stops (`<what>: pod P is not running`, then `hint`) unless the database's pod runs its postgres container. */
export async function assertDbPodRunning(
  kubectl: Kubectl,
  db: DbInfo,
  what: string,
  hint?: string,
): Promise<void> {
  const pod = await kubectl.getOptional<Pod>('pod', db.pod);
  if (!isDbPodRunning(pod, db.container)) {
    throw new OperationError(`${what}: pod ${db.pod} is not running`, {
      hint: hint ?? `start it (${npmRun('deploy')}) or see why: ${npmRun('doctor')}`,
    });
  }
}

/** `pg_restore --list` in the pod with `file` on stdin: an OperationError `<what>: <why>` when it fails. */
export async function assertReadable(
  kubectl: Kubectl,
  db: DbInfo,
  file: string,
  what: string,
): Promise<void> {
  const res = await kubectl.exec(db.pod, db.container, restoreListCommand(), {
    stdin: readFileSync(file),
  });
  if (res.exitCode !== 0) {
    throw new OperationError(`${what}: ${redact(firstLine(res.stderr) ?? `exit ${res.exitCode}`)}`);
  }
}

/** Whether two row-count records hold the same tables with the same counts. */
export function sameCounts(a: Record<string, number>, b: Record<string, number>): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
}

/** The tables whose count differs from the recorded one (a table missing now counts as absent). */
export function countMismatches(
  expected: Record<string, number>,
  actual: Record<string, number>,
): { table: string; expected: number; actual: number | null }[] {
  return Object.entries(expected)
    .filter(([t, n]) => actual[t] !== n)
    .map(([t, n]) => ({ table: t, expected: n, actual: actual[t] ?? null }));
}

/** The sum of a row-count record. */
export function totalRows(rows: Record<string, number>): number {
  return Object.values(rows).reduce((a, b) => a + b, 0);
}

/** Problems a backup file can have, found without the cluster. */
export type FileProblem = 'missing' | 'no-metadata' | 'bad-metadata' | 'checksum' | 'size';

/** A backup file checked on this machine: its metadata, or what is wrong. */
export type FileCheck =
  { ok: true; meta: BackupMeta } | { ok: false; problem: FileProblem; detail: string; meta?: BackupMeta };

/** Checks a dump against its metadata: present, readable metadata, same size and sha256. */
export async function checkBackupFile(file: string): Promise<FileCheck> {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return { ok: false, problem: 'missing', detail: `${file} does not exist` };
  }
  let text: string;
  try {
    text = readFileSync(metadataPath(file), 'utf8');
  } catch {
    return {
      ok: false,
      problem: 'no-metadata',
      detail: `${metadataPath(file)} is missing: the row counts and checksum recorded at backup time are needed to trust and verify a restore`,
    };
  }
  const meta = parseMetadata(text);
  if (!meta) {
    return { ok: false, problem: 'bad-metadata', detail: `${metadataPath(file)} is not a backup's metadata` };
  }
  if (size !== meta.bytes) {
    return {
      ok: false,
      problem: 'size',
      detail: `${file} has ${size} bytes, the backup had ${meta.bytes}: the file is truncated or damaged`,
      meta,
    };
  }
  const sum = await fileSum(file);
  if (sum.sha256 !== meta.sha256) {
    return {
      ok: false,
      problem: 'checksum',
      detail: `${file} does not match the sha256 recorded at backup time: the file is damaged`,
      meta,
    };
  }
  return { ok: true, meta };
}

function firstLine(text: string): string | undefined {
  return text
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '');
}
