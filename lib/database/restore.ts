import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DATABASES, type DbName } from '../components.ts';
import { type ConfirmIo, confirm } from '../confirm.ts';
import {
  type BackupMeta,
  type DbBackup,
  assertDbPodRunning,
  assertReadable,
  backupDatabase,
  checkBackupFile,
  countMismatches,
  dbBackupFile,
  releaseAuthFingerprint,
  restoreCommand,
  rowCounts,
  totalRows,
} from '../db-backup.ts';
import { namespaceArgs, npmRun } from '../suggest.ts';
import { ExitCode, InterruptedError, OperationError, UsageError } from '../errors.ts';
import type { Kubectl } from '../kubectl.ts';
import { type Logger, printJson } from '../log.ts';
import { redact } from '../redact.ts';
import { backupLine, shown } from './backup.ts';
import { type Scaled, scaleDown, scaleUp, scaleUpError } from './consumers.ts';
import type { DbOptions } from './spec.ts';

const count = (n: number | null, what: string): string => `${n ?? '?'} ${what}${n === 1 ? '' : 's'}`;

/** `a`, `a and b`, `a, b and c`. */
const andList = (items: readonly string[]): string =>
  items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1) ?? ''}`;

/** The question, the refusal without a terminal, and the command to retry with. */
export function restoreQuestion(
  db: DbName,
  file: string,
  meta: Pick<BackupMeta, 'time' | 'tables' | 'rows'>,
  backupFirst: boolean,
  consumers: readonly string[] = DATABASES[db].consumers,
): [question: string, what: string, retry: string] {
  const stopped =
    consumers.length === 0
      ? ''
      : ` ${andList(consumers)} ${consumers.length === 1 ? 'is' : 'are'} stopped meanwhile.`;
  return [
    `Replace the content of the ${db} database with ${shown(file)} (${meta.time}, ${count(meta.tables, 'table')}, ${count(totalRows(meta.rows), 'row')})? ${backupFirst ? 'It is backed up first.' : 'It is NOT backed up first (--no-backup).'}${stopped}`,
    `restore replaces the content of the ${db} database`,
    npmRun('db', 'restore', db, shown(file), '--yes'),
  ];
}

/**
 * Checks a backup on this machine, before any cluster call: FILE exists (else exit 2), its metadata is
 * there and readable, its size and sha256 match (else exit 1), and it is a backup of `db` (else exit 2).
 */
export async function checkRestoreFile(file: string, db: DbName): Promise<BackupMeta> {
  const list = npmRun('db', 'list', db);
  if (!existsSync(file)) {
    throw new UsageError(`${shown(file)} does not exist`, { hint: `see the backups there are: ${list}` });
  }
  const check = await checkBackupFile(file);
  if (!check.ok) {
    throw new OperationError(`refusing to restore ${shown(file)}: ${check.detail}`, {
      hint: `nothing was changed; pick another backup: ${list}`,
      report: { database: db, file, refused: check.problem },
    });
  }
  if (check.meta.database !== db) {
    throw new UsageError(
      `${shown(file)} is a backup of the ${check.meta.database} database, not of the ${db} database`,
      { hint: npmRun('db', 'restore', check.meta.database, shown(file)) },
    );
  }
  return check.meta;
}

export interface RestoreDeps {
  kubectl: Kubectl;
  release: string;
  log: Logger;
  stdout: NodeJS.WritableStream;
  signal: AbortSignal;
  confirmIo: ConfirmIo;
  /** The guard before the first write (assertSessionMayWrite with this destructive description). */
  mayWrite: (what: string) => Promise<void>;
  pollMs?: number;
}

/** What a restore did, for --json and for the failure report. */
// A type, not an interface: it goes into an error's `report` (a plain record).
export type RestoreReport = {
  release: string;
  namespace: string;
  database: DbName;
  file: string;
  /** the backup of the database as it was before the restore */
  backup: DbBackup | null;
  /** the applications stopped, and the replicas they went back to */
  consumers: Scaled[];
  restored: boolean;
  tables: number | null;
  rows: number | null;
  mismatches: { table: string; expected: number; actual: number | null }[];
  /** tables in the database that the backup does not hold (left as they were) */
  extraTables: string[];
  notBack: { name: string; reason: string }[];
  /** scaled back up, but not waited for (Ctrl+C) */
  notWaited: string[];
};

/**
 * `db restore <sso|api> FILE` once the file passed checkRestoreFile: pg_restore --list in the pod, the
 * confirmation, a backup of the current content, then the consumers stopped, the restore and the count,
 * and the consumers back, whatever happened. Returns the exit code; a failure is an OperationError
 * carrying the report.
 */
export async function runRestore(
  deps: RestoreDeps,
  opts: DbOptions & { file: string },
  meta: BackupMeta,
): Promise<number> {
  const { kubectl, log } = deps;
  const db = opts.dbs[0] as DbName;
  const info = DATABASES[db];
  const file = path.resolve(opts.file);
  const report: RestoreReport = {
    release: deps.release,
    namespace: kubectl.target.namespace,
    database: db,
    file,
    backup: null,
    consumers: [],
    restored: false,
    tables: null,
    rows: null,
    mismatches: [],
    extraTables: [],
    notBack: [],
    notWaited: [],
  };
  await kubectl.assertReachable();
  await assertDbPodRunning(kubectl, info, `cannot restore the ${db} database`);
  log.step(`reading ${shown(file)} back with pg_restore --list in ${info.pod}`);
  await assertReadable(
    kubectl,
    info,
    file,
    `refusing to restore ${shown(file)}: pg_restore cannot read it`,
  ).catch((err: unknown) => {
    throw new OperationError((err as Error).message, {
      hint: `nothing was changed; pick another backup: ${npmRun('db', 'list', db)}`,
      report: { ...report, refused: 'unreadable' },
    });
  });
  if (meta.release !== deps.release || meta.namespace !== kubectl.target.namespace) {
    log.warn(
      `${shown(file)} was taken from release ${meta.release} in namespace ${meta.namespace}; restoring into release ${deps.release} in namespace ${kubectl.target.namespace}`,
    );
  }
  if (db === 'sso' && meta.authSecret) {
    const current = await releaseAuthFingerprint(kubectl);
    if (current !== undefined && current !== meta.authSecret) {
      log.warn(
        `${shown(file)} was made under another BETTER_AUTH_SECRET than release ${deps.release} runs with: the SSO cannot decrypt its signing keys with this one, so after the restore every sign-in and token request answers 500 (Failed to decrypt private key)`,
      );
      log.hint(
        `after restoring it, either deploy the secret it was made under (BETTER_AUTH_SECRET of the environment it comes from, in the env file, then ${npmRun('deploy', ...namespaceArgs(kubectl.target.namespace))}: sign-in and its tokens keep working), or make new keys: ${npmRun('reset-auth-secret', '--rotate', ...namespaceArgs(kubectl.target.namespace))} (users stay, everyone signs in again); or restore a backup of this release instead: ${npmRun('db', 'list', 'sso')}`,
      );
    }
  }
  const [question, what, retry] = restoreQuestion(db, file, meta, opts.backupFirst);
  await deps.mayWrite(what);
  await confirm(deps.confirmIo, question, what, retry);

  if (opts.backupFirst) {
    log.step(`backing up the current content of the ${db} database first`);
    report.backup =
      (await backupDatabase(kubectl, info, dbBackupFile(opts.dir, deps.release, db, new Date()), {
        release: deps.release,
        hint: `nothing was changed; fix it (${npmRun('doctor')}) or restore without this backup: ${npmRun('db', 'restore', db, shown(file), '--no-backup')}`,
      })) ?? null;
    if (report.backup) log.success(`backed up first: ${backupLine(report.backup)}`);
  }

  const limits = (start: number) => ({
    deadline: start + opts.timeoutMs,
    timeoutText: opts.timeoutText,
    signal: deps.signal,
    log,
    ...(deps.pollMs !== undefined && { pollMs: deps.pollMs }),
  });
  let failure: unknown;
  try {
    await scaleDown(kubectl, info.consumers, report.consumers, limits(Date.now()));
    log.step(
      `restoring ${shown(file)} into the ${db} database (pg_restore --clean --if-exists, one transaction)`,
    );
    const res = await kubectl.exec(info.pod, info.container, restoreCommand(), { stdin: readFileSync(file) });
    if (deps.signal.aborted) throw new InterruptedError('interrupted during pg_restore');
    if (res.exitCode !== 0) {
      const why = res.stderr
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '' && !/^pg_restore: (while|from TOC|detail)/i.test(l))
        .slice(0, 3)
        .join(' ');
      throw new OperationError(
        `pg_restore failed, the ${db} database is unchanged (the restore runs in one transaction): ${redact(why || `exit ${res.exitCode}`)}`,
      );
    }
    report.restored = true;
    const counts = await rowCounts(kubectl, info);
    report.tables = Object.keys(counts).length;
    report.rows = totalRows(counts);
    report.mismatches = countMismatches(meta.rows, counts);
    report.extraTables = Object.keys(counts).filter((t) => !(t in meta.rows));
  } catch (err) {
    failure = err;
  } finally {
    if (report.consumers.length > 0) {
      const up = await scaleUp(kubectl, report.consumers, limits(Date.now()));
      report.notBack = up.failed;
      report.notWaited = up.unwaited;
    }
  }
  const backupNote = report.backup
    ? `the content before the restore is in ${shown(report.backup.file)}`
    : 'no backup was made first (--no-backup)';
  if (failure !== undefined) {
    const back = report.consumers.map((c) => c.name).filter((n) => !report.notBack.some((f) => f.name === n));
    const appsNote =
      (back.length > 0
        ? `; ${back.join(', ')} scaled back up${report.notWaited.length > 0 ? ' (not waited for)' : ''}`
        : '') +
      (report.notBack.length > 0
        ? `; applications NOT back: ${scaleUpError(kubectl.target.namespace, report.notBack)}`
        : '');
    const message = `${(failure as Error).message}${appsNote}`;
    if (failure instanceof InterruptedError) throw new InterruptedError(message, { report });
    throw new OperationError(message, {
      hint: report.restored
        ? `${backupNote}; see why: ${npmRun('doctor')}`
        : `${backupNote}; see why: ${npmRun('doctor')}, then retry: ${npmRun('db', 'restore', db, shown(file))}`,
      report,
    });
  }
  if (report.notBack.length > 0) {
    throw new OperationError(
      `the ${db} database was restored, but applications did not come back: ${scaleUpError(kubectl.target.namespace, report.notBack)}`,
      { hint: `${backupNote}`, report },
    );
  }
  if (report.mismatches.length > 0) {
    const list = report.mismatches
      .map(
        (m) =>
          `${m.table}: ${m.expected} recorded, ${m.actual === null ? 'table missing' : `${m.actual} found`}`,
      )
      .join('; ');
    throw new OperationError(`the restored ${db} database differs from the backup's row counts: ${list}`, {
      hint: `${backupNote}${meta.countsStable ? '' : ' (the database was written to while that backup was taken, so its counts may be off)'}`,
      report,
    });
  }
  for (const t of report.extraTables) {
    log.warn(`table ${t} is not in the backup: it was left as it was`);
  }
  log.success(
    `the ${db} database was restored from ${shown(file)}: ${count(report.tables, 'table')}, ${count(report.rows, 'row')}, every count as recorded at backup time`,
  );
  if (opts.json) printJson({ ok: true, ...report }, deps.stdout);
  return ExitCode.Ok;
}
