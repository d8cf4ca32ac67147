import { npmRun } from '../suggest.ts';
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
import { UsageError } from '../errors.ts';
import { parseDuration } from '../time.ts';

/** `npm run reset-db-password`: options, help text and examples. */
export const RESET_SPEC: CommandSpec = {
  name: 'reset-db-password',
  summary:
    "Make a database's password and its Secret agree without touching any data (sync), check them, or rotate both.",
  usage: '<sso|api> [--check | --rotate] [options]',
  maxPositionals: 1,
  options: {
    check: {
      type: 'boolean',
      description: 'only report whether the database and its Secret agree (exit 1 if not)',
    },
    rotate: {
      type: 'boolean',
      description: 'generate a new password and set it in the database, the release and the env file',
    },
    timeout: {
      type: 'string',
      arg: 'DURATION',
      description: 'how long the restarted workloads may take to be ready (default: 5m)',
    },
    ...CLUSTER_OPTIONS,
    ...YES_OPTION,
    ...NO_WAIT_OPTION,
  },
  examples: [
    'npm run reset-db-password -- sso                 # after "password authentication failed"',
    'npm run reset-db-password -- api --check',
    'npm run reset-db-password -- sso --rotate --yes',
  ],
  notes: [
    "Default (sync): the database user's password becomes the one in the release's Secret. It is set inside the postgres pod over its local socket, the SQL on stdin; then the workloads using the database restart and a login with the Secret's password is verified.",
    '--rotate changes the database first, then the release (helm upgrade reusing its values, so the next deploy keeps it), then the env file when it holds the password. Passwords are never printed.',
  ],
};

export type ResetMode = 'sync' | 'check' | 'rotate';

export interface ResetOptions {
  db: DbName;
  mode: ResetMode;
  timeoutMs: number;
  timeoutText: string;
  yes: boolean;
  json: boolean;
}

/** Reads the database and mode; an unknown database or contradicting flags are usage errors (exit 2). */
export function parseResetOptions(positionals: string[], v: ParsedValues): ResetOptions {
  const db = positionals[0];
  if (!isDbName(db)) {
    throw new UsageError(
      db === undefined
        ? 'which database? give one of: sso, api'
        : `unknown database "${db}" (valid: sso, api)`,
      { hint: `e.g. ${npmRun('reset-db-password', 'sso')}` },
    );
  }
  if (flag(v, 'check') && flag(v, 'rotate')) {
    throw new UsageError('--check and --rotate exclude each other', {
      hint: `check first: ${npmRun('reset-db-password', db, '--check')}`,
    });
  }
  const timeoutText = str(v, 'timeout') ?? '5m';
  const timeoutMs = parseDuration(timeoutText);
  if (timeoutMs === undefined) {
    throw new UsageError(`--timeout: "${timeoutText}" is not a duration`, { hint: 'use e.g. 90s, 5m or 1h' });
  }
  return {
    db,
    mode: flag(v, 'check') ? 'check' : flag(v, 'rotate') ? 'rotate' : 'sync',
    timeoutMs,
    timeoutText,
    yes: flag(v, 'yes'),
    json: flag(v, 'json'),
  };
}
