import { createHash, createHmac } from 'node:crypto';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hexToBytes, managedNonce } from '@noble/ciphers/utils.js';
import { DATABASES } from './components.ts';
import { psqlCommand } from './db.ts';
import { OperationError } from './errors.ts';
import type { Kubectl } from './kubectl.ts';
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

/**
 * psql script printing the signing key the SSO signs with, one `count|private_key|expired` line (the
 * newest by created_at, as better-auth 1.4.4's getLatestKey takes it), or nothing when the SSO database
 * has none or no table jwks yet (the SSO's column names, auth-schema.ts:104). The table is looked up
 * first: a query naming a table that does not exist fails even in a branch it does not take.
 */
export function signingKeySql(): string {
  return [
    "select to_regclass('public.jwks') is not null as has_jwks \\gset",
    '\\if :has_jwks',
    'select count(*) over (), private_key, coalesce(expires_at < now(), false) from jwks order by created_at desc limit 1;',
    '\\endif',
    '',
  ].join('\n');
}

/**
 * The signing keys of the SSO database: how many, and the one the SSO signs with (`current`, its private
 * half as stored). No current key: none, or the newest has expired, and then the SSO makes a new one
 * under the secret it runs with (better-auth 1.4.4 plugins/jwt sign.ts).
 */
export type SigningKeys = { count: number; current?: string } | { unknown: string };

/** Reads psql's output of signingKeySql. */
export function parseSigningKeys(stdout: string): SigningKeys | undefined {
  const line = stdout.trim();
  if (line === '') return { count: 0 };
  const m = /^(\d+)\|(.*)\|([tf])$/s.exec(line);
  if (!m) return undefined;
  return { count: Number(m[1]), ...(m[3] === 'f' && { current: m[2]! }) };
}

/**
 * Whether `secret` decrypts a private key as the SSO stores it: better-auth 1.4.4's symmetricEncrypt
 * (crypto/index.ts) is XChaCha20-Poly1305 under the SHA-256 of the secret, its nonce first, as hex, and
 * the jwt plugin stores that hex as a JSON string. A wrong secret fails the Poly1305 tag, exactly where
 * the SSO fails with "Failed to decrypt private key".
 */
export function secretOpensKey(stored: string, secret: Secret): boolean {
  let hex: unknown;
  try {
    hex = JSON.parse(stored);
  } catch {
    return false;
  }
  if (typeof hex !== 'string' || hex.length % 2 !== 0 || !/^[0-9a-f]+$/i.test(hex)) return false;
  const key = createHash('sha256').update(secret.reveal(), 'utf8').digest();
  try {
    managedNonce(xchacha20poly1305)(new Uint8Array(key)).decrypt(hexToBytes(hex));
    return true;
  } catch {
    return false;
  }
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

/** Reads the SSO database's signing keys, inside its pod over the local socket (one exec). */
export async function readSigningKeys(kubectl: Kubectl): Promise<SigningKeys> {
  const db = DATABASES.sso;
  const res = await kubectl.exec(db.pod, db.container, psqlCommand(['-tA']), {
    stdin: signingKeySql(),
    timeoutMs: 30_000,
  });
  const keys = res.exitCode === 0 ? parseSigningKeys(res.stdout) : undefined;
  if (keys) return keys;
  const why = res.stderr.trim().split('\n')[0] || `exit ${res.exitCode}`;
  return { unknown: `could not read them in ${db.pod}: ${why}` };
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

/** What deploy is about to give the SSO, and where it comes from (for the messages). */
export interface AuthSecretPlan {
  /** the BETTER_AUTH_SECRET the deploy sends */
  wanted: Secret;
  /** the release's (Secret sso-platform), undefined when it has none */
  released: Secret | undefined;
  envFile: string;
  namespace: string;
  release: string;
}

/**
 * Why deploying `wanted` would break the SSO, or undefined when it would not: no signing key the SSO signs
 * with (it makes one under the secret it runs with), or `wanted` decrypts it (the release's secret, or the
 * one a restored backup's keys were made under). Keys that could not be read refuse only a change.
 */
export function authSecretProblem(plan: AuthSecretPlan, keys: SigningKeys): AuthSecretRefusal | undefined {
  const { wanted, released } = plan;
  const changes = released !== undefined && !released.equals(wanted);
  if ('unknown' in keys)
    return changes
      ? releaseKeysRefusal(
          plan,
          `the SSO database may hold signing keys encrypted with the release's (${keys.unknown})`,
        )
      : undefined;
  const current = keys.current;
  if (current === undefined || secretOpensKey(current, wanted)) return undefined;
  if (changes && secretOpensKey(current, released))
    return releaseKeysRefusal(
      plan,
      `the SSO database holds ${keys.count} signing key${keys.count === 1 ? '' : 's'} encrypted with the release's`,
    );
  return foreignKeyRefusal(plan, keys.count, changes);
}

export interface AuthSecretRefusal {
  message: string;
  hint: string;
}

const BREAKS =
  'under another secret the SSO stays Ready while every sign-in and token request answers 500 (Failed to decrypt private key)';

function nsArgs(plan: AuthSecretPlan): string[] {
  return plan.namespace === 'taskflow' ? [] : ['-n', plan.namespace];
}

function rotateWay(plan: AuthSecretPlan): string {
  return `${npmRun('reset-auth-secret', '--rotate', ...nsArgs(plan))} (backs up the SSO database, removes the old keys and sessions; everyone signs in again)`;
}

/** A new secret over keys the release's secret made: keep the release's, or rotate. */
function releaseKeysRefusal(plan: AuthSecretPlan, held: string): AuthSecretRefusal {
  return {
    message:
      `BETTER_AUTH_SECRET (${plan.envFile}) is not the one release ${plan.release} runs with (Secret ${AUTH_SECRET_LOCATION.secret}), and ${held}: ` +
      `${BREAKS}, and every session and token issued before stops working`,
    hint: `keep the release's: ${npmRun('reset-auth-secret', '--keep', ...nsArgs(plan))} (writes it to ${plan.envFile}); or change it on purpose: ${rotateWay(plan)}`,
  };
}

/** Keys neither secret made (a restored backup of another environment): deploy theirs, or rotate. */
function foreignKeyRefusal(plan: AuthSecretPlan, count: number, changes: boolean): AuthSecretRefusal {
  const secret = AUTH_SECRET_LOCATION.secret;
  const notWith = changes
    ? `was encrypted with neither the BETTER_AUTH_SECRET of ${plan.envFile} nor the one release ${plan.release} runs with (Secret ${secret})`
    : plan.released === undefined
      ? `was not encrypted with the BETTER_AUTH_SECRET this deploy would give release ${plan.release}`
      : `was not encrypted with the BETTER_AUTH_SECRET release ${plan.release} runs with (Secret ${secret})`;
  return {
    message:
      `the signing key the SSO signs with (the newest of ${count} in the SSO database) ${notWith}: ` +
      `a restored backup of another environment, or a secret changed by hand; ${BREAKS}`,
    hint: `deploy the secret the keys were made under: set BETTER_AUTH_SECRET in ${plan.envFile} to that environment's, then ${npmRun('deploy', ...nsArgs(plan))}; or make new keys: ${rotateWay(plan)}`,
  };
}
