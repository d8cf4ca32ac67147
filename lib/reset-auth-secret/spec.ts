import {
  CLUSTER_OPTIONS,
  NO_WAIT_OPTION,
  YES_OPTION,
  type CommandSpec,
  type ParsedValues,
  flag,
  str,
} from '../cli.ts';
import { UsageError } from '../errors.ts';
import { npmRun } from '../suggest.ts';
import { parseDuration } from '../time.ts';

/** `npm run reset-auth-secret`: options, help text and examples. */
export const RESET_AUTH_SPEC: CommandSpec = {
  name: 'reset-auth-secret',
  summary:
    "Check that the env file's BETTER_AUTH_SECRET is the release's, keep the release's, or rotate it on purpose.",
  usage: '[--keep | --rotate] [options]',
  maxPositionals: 0,
  options: {
    keep: {
      type: 'boolean',
      description:
        "write the release's BETTER_AUTH_SECRET into the env file (nothing in the cluster changes)",
    },
    rotate: {
      type: 'boolean',
      description:
        'set a new BETTER_AUTH_SECRET (the env file’s when it differs, else a generated one), after a backup; every user signs in again',
    },
    timeout: {
      type: 'string',
      arg: 'DURATION',
      description: 'how long the restarted SSO may take to be ready (default: 5m)',
    },
    ...CLUSTER_OPTIONS,
    ...YES_OPTION,
    ...NO_WAIT_OPTION,
  },
  examples: [
    'npm run reset-auth-secret                  # does the env file hold the release’s secret?',
    'npm run reset-auth-secret -- --keep        # after deploy refused a changed BETTER_AUTH_SECRET',
    'npm run reset-auth-secret -- --rotate --yes',
  ],
  notes: [
    'Better Auth encrypts the SSO’s signing keys (table jwks) with BETTER_AUTH_SECRET and signs its session cookies with it: under another secret the SSO stays Ready but sign-in and tokens answer 500 (Failed to decrypt private key).',
    '--rotate backs up the SSO database (backups/), stores the new secret in the release (helm upgrade reusing its values) and the env file, restarts the SSO and waits for it, then removes the signing keys and sessions the new secret cannot use; the SSO makes a new key on its next token. Users and their data stay; every user signs in again and every token issued before stops verifying.',
  ],
};

export type AuthSecretMode = 'check' | 'keep' | 'rotate';

export interface ResetAuthOptions {
  mode: AuthSecretMode;
  timeoutMs: number;
  timeoutText: string;
  yes: boolean;
  json: boolean;
}

/** Reads the mode; --keep with --rotate, or a bad duration, is a usage error (exit 2). */
export function parseResetAuthOptions(v: ParsedValues): ResetAuthOptions {
  if (flag(v, 'keep') && flag(v, 'rotate')) {
    throw new UsageError('--keep and --rotate exclude each other', {
      hint: `see where they stand first: ${npmRun('reset-auth-secret')}`,
    });
  }
  const timeoutText = str(v, 'timeout') ?? '5m';
  const timeoutMs = parseDuration(timeoutText);
  if (timeoutMs === undefined) {
    throw new UsageError(`--timeout: "${timeoutText}" is not a duration`, { hint: 'use e.g. 90s, 5m or 1h' });
  }
  return {
    mode: flag(v, 'keep') ? 'keep' : flag(v, 'rotate') ? 'rotate' : 'check',
    timeoutMs,
    timeoutText,
    yes: flag(v, 'yes'),
    json: flag(v, 'json'),
  };
}
