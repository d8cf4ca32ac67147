import path from 'node:path';
import { DATABASES, type DbName } from '../components.ts';
import { type DbBackup, backupDatabase, dbBackupFile } from '../db-backup.ts';
import { npmRun } from '../suggest.ts';
import { ExitCode, OperationError } from '../errors.ts';
import type { Kubectl } from '../kubectl.ts';
import { type Logger, printJson } from '../log.ts';
import type { DbOptions } from './spec.ts';

export interface BackupDeps {
  kubectl: Kubectl;
  release: string;
  log: Logger;
  stdout: NodeJS.WritableStream;
  now?: Date;
}

/** Sizes as people read them: 1.2 MiB. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** A path to show: relative to the working folder when it is inside it. */
export function shown(file: string, cwd = process.cwd()): string {
  const rel = path.relative(cwd, file);
  return rel.startsWith('..') || path.isAbsolute(rel) ? file : rel;
}

/** One line per backup written: file, size, tables, rows, checksum. */
export function backupLine(b: DbBackup): string {
  return `${b.database}: ${shown(b.file)} (${formatBytes(b.bytes)}, ${b.tables} table${b.tables === 1 ? '' : 's'}, ${b.rows} rows, sha256 ${b.sha256})`;
}

/** `db backup [sso|api|all]`: each database into the folder, one after the other. Returns the exit code. */
export async function runBackup(deps: BackupDeps, opts: DbOptions): Promise<number> {
  const { kubectl, log } = deps;
  await kubectl.assertReachable();
  const now = deps.now ?? new Date();
  const backups: DbBackup[] = [];
  const skipped: { database: DbName; reason: string }[] = [];
  for (const name of opts.dbs) {
    const db = DATABASES[name];
    log.step(`backing up the ${name} database (pg_dump in ${db.pod})`);
    const done = await backupDatabase(kubectl, db, dbBackupFile(opts.dir, deps.release, name, now), {
      release: deps.release,
      now,
      hint: `see what is wrong: ${npmRun('doctor')}, then retry: ${npmRun('db', 'backup', name)}`,
    });
    if (!done) {
      const reason = `no volume ${db.pvc} in namespace ${kubectl.target.namespace}: the release does not run this database (not deployed, or an external one)`;
      skipped.push({ database: name, reason });
      log.warn(`${name}: skipped: ${reason}`);
      continue;
    }
    backups.push(done);
    log.success(backupLine(done));
    if (!done.countsStable) {
      log.warn(
        `${name}: the database was written to during the backup: its recorded row counts are those read after the dump, and a restore may find others`,
      );
    }
  }
  const report = {
    release: deps.release,
    namespace: kubectl.target.namespace,
    dir: opts.dir,
    backups,
    skipped,
  };
  if (backups.length === 0) {
    throw new OperationError(`nothing was backed up: ${skipped.map((s) => s.reason).join('; ')}`, {
      hint: `check the release and namespace: ${npmRun('doctor')}`,
      report,
    });
  }
  if (opts.json) printJson({ ok: true, ...report }, deps.stdout);
  else
    log.hint(`restore one with: ${npmRun('db', 'restore', backups[0]!.database, shown(backups[0]!.file))}`);
  return ExitCode.Ok;
}
