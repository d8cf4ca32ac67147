import {
  CLUSTER_OPTIONS,
  NO_WAIT_OPTION,
  YES_OPTION,
  type CommandSpec,
  type ParsedValues,
  str,
} from '../cli.ts';
import { UsageError } from '../errors.ts';
import { parseDuration } from '../time.ts';

/** `npm run migrate`: options, help text and examples. */
export const MIGRATE_SPEC: CommandSpec = {
  name: 'migrate',
  summary:
    'Run database migrations on demand with the very spec the chart runs at deploy time, streaming their logs.',
  usage: '<sso|api|all> [options]',
  maxPositionals: 1,
  options: {
    timeout: {
      type: 'string',
      arg: 'DURATION',
      description: 'how long the migrations may take, e.g. 90s, 10m (default: 10m)',
    },
    'accept-data-loss': {
      type: 'boolean',
      description:
        'sso: apply a schema change even where drizzle-kit would drop or truncate data (its --force); asks first, backs up the SSO database before',
    },
    ...CLUSTER_OPTIONS,
    ...YES_OPTION,
    ...NO_WAIT_OPTION,
  },
  examples: [
    'npm run migrate -- sso',
    'npm run migrate -- all --timeout 5m',
    'npm run migrate -- api -n staging --json',
    'npm run migrate -- sso --accept-data-loss',
  ],
  notes: [
    'Targets: sso runs a Job from the suspended CronJob sso-migrate (drizzle push, then the seed); api runs a Job from cronjob/api-migrate when the release sets api.migrations.command, else restarts deployment/taskflow-api (the API creates its tables at start-up) and waits until it is ready; all runs both at once.',
    'Finished manual Jobs are deleted afterwards, except the newest failed one of each target, kept for inspection.',
    'The SSO push fails (exit 1) unless drizzle-kit applied the schema: drizzle-kit exits 0 on errors, and without a terminal it cannot answer its data-loss question, so such a change stops with the statements named. --accept-data-loss answers it yes after a backup (backups/).',
  ],
};

export interface MigrateOptions {
  timeoutMs: number;
  timeoutText: string;
  json: boolean;
  /** sso: drizzle-kit's --force, after a confirmation and a backup */
  acceptDataLoss: boolean;
  yes: boolean;
  /** Poll interval (tests shorten it). */
  pollMs?: number;
}

/** Reads migrate's own options; a bad duration is a usage error (exit 2). */
export function parseMigrateOptions(v: ParsedValues): MigrateOptions {
  const timeoutText = str(v, 'timeout') ?? '10m';
  const timeoutMs = parseDuration(timeoutText);
  if (timeoutMs === undefined) {
    throw new UsageError(`--timeout: "${timeoutText}" is not a duration`, {
      hint: 'use e.g. 90s, 10m or 1h',
    });
  }
  return {
    timeoutMs,
    timeoutText,
    json: v.json === true,
    acceptDataLoss: v['accept-data-loss'] === true,
    yes: v.yes === true,
  };
}
