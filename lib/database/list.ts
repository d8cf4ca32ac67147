import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { DbName } from '../components.ts';
import { DUMP_EXT, parseMetadata, totalRows } from '../db-backup.ts';
import { npmRun } from '../suggest.ts';
import { ExitCode } from '../errors.ts';
import { type Logger, printJson } from '../log.ts';
import { formatBytes, shown } from './backup.ts';
import type { DbOptions } from './spec.ts';

/** ok: dump and metadata agree in size; the others cannot be restored as they are. */
export type ListedStatus = 'ok' | 'no-metadata' | 'dump-missing' | 'size-mismatch';

/** One backup found in the folder. */
export interface ListedBackup {
  file: string;
  status: ListedStatus;
  database: DbName | null;
  release: string | null;
  namespace: string | null;
  /** the backup's time (its metadata's; the file's mtime without one) */
  time: string;
  bytes: number;
  tables: number | null;
  rows: number | null;
  sha256: string | null;
}

/** The dumps of `dir` (and metadata whose dump is gone), newest first; database filter when given. */
export function findBackups(dir: string, dbs?: readonly DbName[]): ListedBackup[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: ListedBackup[] = [];
  const dumps = new Set(names.filter((n) => n.endsWith(DUMP_EXT) && !n.startsWith('.')));
  const metas = names.filter((n) => n.endsWith(`${DUMP_EXT}.json`) && !n.startsWith('.'));
  for (const m of metas) {
    const dumpName = m.slice(0, -'.json'.length);
    const meta = (() => {
      try {
        return parseMetadata(readFileSync(path.join(dir, m), 'utf8'));
      } catch {
        return undefined;
      }
    })();
    if (!meta) continue; // not one of ours: the dump is then listed without metadata
    const file = path.join(dir, dumpName);
    const size = dumps.has(dumpName) ? statSync(file).size : undefined;
    dumps.delete(dumpName);
    out.push({
      file,
      status: size === undefined ? 'dump-missing' : size === meta.bytes ? 'ok' : 'size-mismatch',
      database: meta.database,
      release: meta.release,
      namespace: meta.namespace,
      time: meta.time,
      bytes: size ?? meta.bytes,
      tables: meta.tables,
      rows: totalRows(meta.rows),
      sha256: meta.sha256,
    });
  }
  for (const d of dumps) {
    const st = statSync(path.join(dir, d));
    out.push({
      file: path.join(dir, d),
      status: 'no-metadata',
      database: guessDb(d),
      release: null,
      namespace: null,
      time: st.mtime.toISOString(),
      bytes: st.size,
      tables: null,
      rows: null,
      sha256: null,
    });
  }
  return out
    .filter((b) => !dbs || b.database === null || dbs.includes(b.database))
    .sort((a, b) => b.time.localeCompare(a.time) || b.file.localeCompare(a.file));
}

/** `<release>-<db>-<time>.dump` names the database before its timestamp. */
function guessDb(name: string): DbName | null {
  const m = /-(sso|api)-\d{4}-\d\d-\d\dT[\d-]+Z\.dump$/.exec(name);
  return (m?.[1] as DbName | undefined) ?? null;
}

/** `db list`: a table of the backups (or --json). Never touches a cluster. */
export function runList(deps: { log: Logger; stdout: NodeJS.WritableStream }, opts: DbOptions): number {
  const backups = findBackups(opts.dir, opts.dbs);
  if (opts.json) {
    printJson({ ok: true, dir: opts.dir, backups }, deps.stdout);
    return ExitCode.Ok;
  }
  const { log } = deps;
  if (backups.length === 0) {
    log.info(`no backups in ${shown(opts.dir)}`);
    log.hint(`make one: ${npmRun('db', 'backup')}`);
    return ExitCode.Ok;
  }
  const rows = backups.map((b) => [
    b.time.replace(/\.\d+Z$/, 'Z'),
    b.database ?? '?',
    b.release ?? '?',
    formatBytes(b.bytes),
    b.tables === null ? '-' : String(b.tables),
    b.rows === null ? '-' : String(b.rows),
    shown(b.file) + (b.status === 'ok' ? '' : `  (${b.status})`),
  ]);
  const head = ['TIME', 'DB', 'RELEASE', 'SIZE', 'TABLES', 'ROWS', 'FILE'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  log.raw([line(head), ...rows.map(line)].join('\n'));
  return ExitCode.Ok;
}
