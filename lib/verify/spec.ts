import { CLUSTER_OPTIONS, type CommandSpec, type ParsedValues, flag, str } from '../cli.ts';
import { UsageError } from '../errors.ts';
import { MAIL_TIMEOUT_MS } from '../journey-walk.ts';
import { parseDuration } from '../time.ts';

/** `npm run verify`: options, help text and examples. */
export const VERIFY_SPEC: CommandSpec = {
  name: 'verify',
  summary:
    "Walk a person's journey against the release, as the dashboard's browser would: the SSO answers, sign-up of a throwaway account, its verification mail, sign-in, the apps; each failure with the setting behind it.",
  usage: '[options]',
  maxPositionals: 0,
  options: {
    'mail-timeout': {
      type: 'string',
      arg: 'DURATION',
      description: 'how long to wait for the verification mail in Mailpit (default: 10s)',
    },
    ...CLUSTER_OPTIONS,
  },
  examples: ['npm run verify', 'npm run verify -- -n staging', 'npm run -s verify -- --json > journey.json'],
  notes: [
    'Reaches the SSO, Mailpit, the MCP server and the dashboard through port-forwards on free local ports, opened for the run and stopped by pid. Sends the Origin and the cookies a browser on the dashboard (NEXT_PUBLIC_APP_URL) would.',
    'Creates one account (taskflow-verify-<random>@verify.invalid, a domain that never receives mail) and removes it when done, also after a failed step or Ctrl+C: its sessions, accounts and user row by their ids in one transaction in the SSO database, and its mail in Mailpit.',
    'The mail step reads Mailpit when the add-on is on; with a real SMTP server it is skipped (its inbox cannot be read), and with email verification off too.',
  ],
};

export interface VerifyOptions {
  json: boolean;
  mailTimeoutMs: number;
}

/** Reads the options; a bad duration is a usage error (exit 2). */
export function parseVerifyOptions(v: ParsedValues): VerifyOptions {
  const text = str(v, 'mail-timeout');
  if (text === undefined) return { json: flag(v, 'json'), mailTimeoutMs: MAIL_TIMEOUT_MS };
  const mailTimeoutMs = parseDuration(text);
  if (mailTimeoutMs === undefined)
    throw new UsageError(`--mail-timeout: "${text}" is not a duration`, { hint: 'use e.g. 20s or 2m' });
  return { json: flag(v, 'json'), mailTimeoutMs };
}
