import { createHmac } from 'node:crypto';
import { DATABASES } from './components.ts';
import { psqlCommand } from './db.ts';
import { isDbPodRunning } from './drift.ts';
import { OperationError } from './errors.ts';
import type { Kubectl } from './kubectl.ts';
import type { Pod } from './pod-status.ts';
import type { Secret } from './secrets.ts';
import { npmRun } from './suggest.ts';
import { registerSecrets } from './redact.ts';
import { SECRET_LOCATIONS } from './secret-resolution.ts';

/**
 * BETTER_AUTH_SECRET and the SSO database. Better Auth's JWT plugin keeps the SSO's signing keys in
 * table `jwks`, their private halves encrypted with BETTER_AUTH_SECRET (better-auth 1.4.4
 * plugins/jwt sign.ts; the SSO enables the encryption, src/lib/auth.ts:548). Under another secret a key
 * cannot be decrypted: the SSO stays Ready while get-session and the token endpoint answer 500
 * ("Failed to decrypt private key"). Session cookies are signed with the secret too.
 */

/** The tables whose rows a new secret cannot use: the signing keys, and the sessions signed before. */
export const AUTH_KEY_TABLES = ['jwks', 'session'] as const;

/** SQL (psql, ON_ERROR_STOP) printing how many signing keys the SSO database holds (0 without the table). */
export function jwksCountSql(): string {
  return "select case when to_regclass('public.jwks') is null then 0 else (select count(*) from jwks) end;\n";
}

/**
 * SQL that removes what the new secret cannot use, in one transaction: every signing key (the SSO makes
 * a new one under the new secret on its next token) and every session. Users and their data stay.
 */
export function authSecretRotationSql(): string {
  const deletes = AUTH_KEY_TABLES.map(
    (t) => `  IF to_regclass('public.${t}') IS NOT NULL THEN DELETE FROM ${t}; END IF;`,
  ).join('\n');
  return `BEGIN;\nDO $$\nBEGIN\n${deletes}\nEND\n$$;\nCOMMIT;\n`;
}

const FINGERPRINT_MESSAGE = 'taskflow BETTER_AUTH_SECRET fingerprint v1';

/**
 * A fingerprint of the secret: HMAC-SHA256 keyed with the secret over a fixed text. It tells two secrets
 * apart without holding either; recorded with a database backup.
 */
export function authSecretFingerprint(secret: Secret): string {
  return `hmac-sha256:${createHmac('sha256', secret.reveal()).update(FINGERPRINT_MESSAGE).digest('hex').slice(0, 32)}`;
}

/** Where the release keeps BETTER_AUTH_SECRET: the one record of it, lib/secret-resolution.ts. */
export const AUTH_SECRET_LOCATION = SECRET_LOCATIONS.BETTER_AUTH_SECRET;

/** The release's BETTER_AUTH_SECRET (undefined without the Secret), masked from now on. */
export async function readReleaseAuthSecret(kubectl: Kubectl): Promise<Secret | undefined> {
  const value = await kubectl.secretValue(AUTH_SECRET_LOCATION.secret, AUTH_SECRET_LOCATION.key);
  registerSecrets(value);
  return value;
}

/** How many signing keys the SSO database holds: a number, or why it could not be read. */
export type KeyCount = { count: number } | { unknown: string };

/** Counts the signing keys in the SSO database, inside its pod over the local socket. */
export async function countSigningKeys(kubectl: Kubectl): Promise<KeyCount> {
  const db = DATABASES.sso;
  const pod = await kubectl.getOptional<Pod>('pod', db.pod);
  if (!pod) return { unknown: `pod ${db.pod} does not exist` };
  if (!isDbPodRunning(pod, db.container)) return { unknown: `pod ${db.pod} is not running` };
  const res = await kubectl.exec(db.pod, db.container, psqlCommand(['-tA']), {
    stdin: jwksCountSql(),
    timeoutMs: 30_000,
  });
  const n = Number(res.stdout.trim());
  if (res.exitCode !== 0 || !Number.isInteger(n)) {
    return {
      unknown: `could not count them in ${db.pod}: ${res.stderr.trim().split('\n')[0] ?? `exit ${res.exitCode}`}`,
    };
  }
  return { count: n };
}

/** Removes every signing key and session from the SSO database (one transaction, in its pod). */
export async function removeSigningKeys(kubectl: Kubectl): Promise<void> {
  const db = DATABASES.sso;
  const res = await kubectl.exec(db.pod, db.container, psqlCommand(), {
    stdin: authSecretRotationSql(),
    timeoutMs: 60_000,
  });
  if (res.exitCode !== 0) {
    throw new OperationError(
      `could not remove the signing keys and sessions in ${db.pod}: ${res.stderr.trim().split('\n')[0] ?? `exit ${res.exitCode}`}`,
      { hint: `see: ${npmRun('doctor')}` },
    );
  }
}

/**
 * Why deploying `wanted` over the release's BETTER_AUTH_SECRET would break the SSO, or undefined when it
 * would not: the same secret, no release secret yet, or no signing key in the database.
 */
export function authSecretChangeProblem(
  wanted: Secret,
  released: Secret | undefined,
  keys: KeyCount,
  where: { envFile: string; namespace: string; release: string },
): { message: string; hint: string } | undefined {
  if (released === undefined || released.reveal() === wanted.reveal()) return undefined;
  if ('count' in keys && keys.count === 0) return undefined;
  const held =
    'count' in keys
      ? `the SSO database holds ${keys.count} signing key${keys.count === 1 ? '' : 's'} encrypted with the release's`
      : `the SSO database may hold signing keys encrypted with the release's (${keys.unknown})`;
  const ns = where.namespace === 'taskflow' ? [] : ['-n', where.namespace];
  return {
    message:
      `BETTER_AUTH_SECRET (${where.envFile}) is not the one release ${where.release} runs with (Secret ${AUTH_SECRET_LOCATION.secret}), and ${held}: ` +
      'under another secret the SSO stays Ready while every sign-in and token request answers 500 (Failed to decrypt private key), and every session and token issued before stops working',
    hint: `keep the release's: ${npmRun('reset-auth-secret', '--keep', ...ns)} (writes it to ${where.envFile}); or change it on purpose: ${npmRun('reset-auth-secret', '--rotate', ...ns)} (backs up the SSO database, removes the old keys and sessions; everyone signs in again)`,
  };
}
