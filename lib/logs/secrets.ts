import { APP, DATABASES } from '../components.ts';
import { type Kubectl, decodeSecretData, secretDataByName } from '../kubectl.ts';
import type { Redactor } from '../redact.ts';
import type { Secret } from '../secrets.ts';

/** The Secret keys of a release that hold passwords and keys: what a log line must never show. */
export const LOG_SECRET_KEYS: readonly { secret: string; key: string }[] = [
  ...Object.values(DATABASES).map((d) => ({ secret: d.secret, key: d.secretKey })),
  { secret: APP.sso.name, key: 'BETTER_AUTH_SECRET' },
  { secret: APP.sso.name, key: 'SMTP_PASS' },
  { secret: APP.api.name, key: 'OPENAI_API_KEY' },
  { secret: 'pgadmin', key: 'password' },
];

/**
 * Values that are in the chart for anyone to read, not secrets: the password of the Mailpit add-on's SMTP
 * (SMTP_PASS when mailpit.enabled). Masking it would mask the add-on's own name in every line.
 */
const PUBLIC_VALUES: ReadonlySet<string> = new Set(['mailpit']);

/** kubectl arguments that read those Secrets in one call (absent ones skipped). */
export function secretArgs(): string[] {
  const names = [...new Set(LOG_SECRET_KEYS.map((k) => k.secret))];
  return ['get', 'secret', ...names, '--ignore-not-found', '-o', 'json'];
}

/** The secret values held in kubectl's answer to `secretArgs()` (pure). */
export function secretsOf(output: string): Secret[] {
  const byName = secretDataByName(output);
  return LOG_SECRET_KEYS.flatMap(
    ({ secret, key }) => decodeSecretData(byName.get(secret)?.[key]) ?? [],
  ).filter((s) => !PUBLIC_VALUES.has(s.reveal()));
}

/**
 * Reads the release's password and key Secrets and registers their values with the run's redactor (which
 * masks their URL-encoded forms too), so every line printed masks them.
 */
export async function registerReleaseSecrets(kubectl: Kubectl, redactor: Redactor): Promise<number> {
  const values = secretsOf(await kubectl.ok(secretArgs(), 'read the Secrets of the release'));
  redactor.add(...values);
  return values.length;
}
