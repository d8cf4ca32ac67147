import path from 'node:path';
import { BACKUP_DIR } from '../backups.ts';
import {
  CLUSTER_OPTIONS,
  NO_WAIT_OPTION,
  YES_OPTION,
  type CommandSpec,
  type ParsedValues,
  flag,
  str,
} from '../cli.ts';
import { type DbName, isDbName } from '../components.ts';
import { npmRun } from '../suggest.ts';
import { UsageError } from '../errors.ts';
import { parseDuration } from '../time.ts';

/** `npm run db`: options, help text and examples. */
export const DB_SPEC: CommandSpec = {
  name: 'db',
  summary:
    'Back up the databases through their pods (pg_dump, custom format), list the backups, and restore one, checking every table’s row count.',
  usage: [
    'backup [sso|api|all] [--out DIR]',
    'list [sso|api|all] [--out DIR]',
    'restore <sso|api> FILE [--yes]',
  ],
  maxPositionals: 3,
  options: {
    out: {
      type: 'string',
      arg: 'DIR',
      description: `folder of the backups (default: ${BACKUP_DIR}/)`,
    },
    'no-backup': {
      type: 'boolean',
      description: 'restore: do not back up the current database first (its data is then lost)',
    },
    timeout: {
      type: 'string',
      arg: 'DURATION',
      description: 'restore: how long the applications may take to stop and to come back (default: 5m)',
    },
    ...CLUSTER_OPTIONS,
    ...YES_OPTION,
    ...NO_WAIT_OPTION,
  },
  examples: [
    'npm run db -- backup                      # both databases, into backups/',
    'npm run db -- backup api --out /safe/place',
    'npm run db -- list',
    'npm run db -- restore api backups/taskflow-api-2026-01-02T03-04-05Z.dump',
    'npm run db -- restore sso backups/taskflow-sso-2026-01-02T03-04-05Z.dump --yes --json',
  ],
  notes: [
    'backup: pg_dump runs inside the database pod over its local socket (no password, no local PostgreSQL tools), its output streamed into <release>-<db>-<time>.dump (mode 0600, written under a temporary name and renamed once pg_restore --list has read it back). Beside it, <file>.json records the release, time, size, sha256 and the exact row count of every table. deploy --fresh makes its backups the same way.',
    'restore: checks the file first (its metadata, size and sha256, then pg_restore --list in the pod), all before anything changes; asks (--yes without a terminal); backs up the current database (unless --no-backup); scales the applications that use the database to zero; runs pg_restore --clean --if-exists --no-owner in one transaction; compares every table’s row count with the recorded one; and scales the applications back to their replicas, whatever happened.',
  ],
  exitCodes:
    'Exit codes: 0 ok; 1 failed (a restore whose row counts differ, or a backup file refused as damaged: metadata missing, size or sha256 not matching, unreadable by pg_restore); 2 usage error (also: FILE missing, or a backup of the other database); 3 environment not ready; 130 interrupted',
};

export type DbAction = 'backup' | 'list' | 'restore';

export interface DbOptions {
  action: DbAction;
  /** the databases to act on, in order */
  dbs: DbName[];
  /** restore: the backup file, as given */
  file?: string;
  /** the folder of the backups, absolute */
  dir: string;
  backupFirst: boolean;
  timeoutMs: number;
  timeoutText: string;
  yes: boolean;
  json: boolean;
}

const ACTIONS: readonly DbAction[] = ['backup', 'list', 'restore'];

/** Reads the action, databases and options; anything off is a usage error (exit 2). */
export function parseDbOptions(positionals: string[], v: ParsedValues, cwd = process.cwd()): DbOptions {
  const [action, target, file, ...rest] = positionals;
  if (!ACTIONS.includes(action as DbAction)) {
    throw new UsageError(
      action === undefined
        ? 'what to do? give one of: backup, list, restore'
        : `unknown action "${action}" (valid: backup, list, restore)`,
      { hint: `e.g. ${npmRun('db', 'backup')}` },
    );
  }
  const act = action as DbAction;
  let dbs: DbName[];
  if (act === 'restore') {
    if (!isDbName(target)) {
      throw new UsageError(
        target === undefined
          ? 'restore which database? give one of: sso, api'
          : `cannot restore "${target}": give one database, sso or api`,
        { hint: `list the backups: ${npmRun('db', 'list')}` },
      );
    }
    if (file === undefined) {
      throw new UsageError(`restore ${target} which file?`, {
        hint: `list the backups: ${npmRun('db', 'list', target)}`,
      });
    }
    dbs = [target];
  } else {
    if (target !== undefined && target !== 'all' && !isDbName(target)) {
      throw new UsageError(`unknown database "${target}" (valid: sso, api, all)`, {
        hint: `e.g. ${npmRun('db', act, 'all')}`,
      });
    }
    if (file !== undefined || rest.length > 0) {
      throw new UsageError(`unexpected argument: ${file ?? rest[0] ?? ''}`, {
        hint: `${act} takes one database: ${npmRun('db', act, 'all')}`,
      });
    }
    dbs = isDbName(target) ? [target] : ['sso', 'api'];
  }
  if (flag(v, 'no-backup') && act !== 'restore') {
    throw new UsageError('--no-backup only makes sense with restore', {
      hint: `drop it: ${npmRun('db', act)}`,
    });
  }
  const timeoutText = str(v, 'timeout') ?? '5m';
  const timeoutMs = parseDuration(timeoutText);
  if (timeoutMs === undefined) {
    throw new UsageError(`--timeout: "${timeoutText}" is not a duration`, { hint: 'use e.g. 90s, 5m or 1h' });
  }
  return {
    action: act,
    dbs,
    ...(file !== undefined && act === 'restore' && { file }),
    dir: path.resolve(cwd, str(v, 'out') ?? BACKUP_DIR),
    backupFirst: !flag(v, 'no-backup'),
    timeoutMs,
    timeoutText,
    yes: flag(v, 'yes'),
    json: flag(v, 'json'),
  };
}
