import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db';
import { jwt } from 'better-auth/plugins';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createLocalJWKSet, jwtVerify } from 'jose';
import type pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import {
  AUTH_KEY_TABLES,
  authSecretRotationSql,
  parseSigningKeys,
  secretOpensKey,
  signingKeySql,
  type SigningKeys,
} from '../../lib/auth-secret.ts';
import { Secret } from '../../lib/secrets.ts';
import { asSuperuser, openPool, startPg, type OwnedPool, type PgServer } from '../support/embedded-pg.ts';
import { SSO_JWKS } from '../standins/sso-jwks.ts';

// Better Auth at the SSO's lockfile version (1.4.4) with its JWT plugin configured as the SSO's
// src/lib/auth.ts:548 does it (RS256, 90-day rotation, 30-day grace, private keys encrypted with the
// secret) and the SSO's column names (auth-schema.ts:104), against a real PostgreSQL. What the suite
// reads of the keys runs through the machine's psql, as it runs in the database pod.
const BASE_URL = 'http://localhost:3001';
const OLD = 'a'.repeat(32) + 'old-secret-of-the-first-machine';
const NEW = 'b'.repeat(32) + 'new-secret-of-an-edited-env-file';

let server: PgServer;
let owned: OwnedPool;
let pool: pg.Pool;

function auth(secret: string) {
  return betterAuth({
    secret,
    baseURL: BASE_URL,
    database: pool,
    logger: { disabled: true },
    telemetry: { enabled: false },
    plugins: [
      jwt({
        jwks: SSO_JWKS,
        schema: {
          jwks: {
            fields: {
              publicKey: 'public_key',
              privateKey: 'private_key',
              createdAt: 'created_at',
              expiresAt: 'expires_at',
            },
          },
        },
      }),
    ],
  });
}

async function sign(secret: string): Promise<string> {
  const { token } = await auth(secret).api.signJWT({ body: { payload: { sub: 'user-1' } } });
  return token;
}

async function verify(secret: string, token: string): Promise<string | undefined> {
  const jwks = await auth(secret).api.getJwks();
  const { payload } = await jwtVerify(
    token,
    createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]),
    {
      issuer: BASE_URL,
      audience: BASE_URL,
    },
  );
  return payload.sub;
}

const run = promisify(execFile);

/** signingKeySql through psql with the flags the suite gives it in the pod, parsed. */
async function readKeys(database = 'sso_db'): Promise<SigningKeys | undefined> {
  const child = run(
    'psql',
    [
      '-X',
      '-q',
      '-v',
      'ON_ERROR_STOP=1',
      '-tA',
      '-h',
      server.host,
      '-p',
      String(server.port),
      '-U',
      'sso_user',
      '-d',
      database,
    ],
    { env: { ...process.env, PGPASSWORD: 'sso0123456789abcdef' } },
  );
  child.child.stdin!.end(signingKeySql());
  return parseSigningKeys((await child).stdout);
}

beforeAll(async () => {
  server = await startPg();
  await asSuperuser(server, [
    `CREATE ROLE sso_user LOGIN PASSWORD 'sso0123456789abcdef'`,
    'CREATE DATABASE sso_db OWNER sso_user',
  ]);
  owned = openPool(server, { user: 'sso_user', password: 'sso0123456789abcdef', database: 'sso_db' });
  pool = owned.pool;
  // Before the SSO's first start its database has no table jwks: the read must say none, not fail.
  expect(await readKeys()).toEqual({ count: 0 });
  const { runMigrations } = await getMigrations(auth(OLD).options);
  await runMigrations();
});

beforeEach(async () => {
  await pool.query('delete from jwks; delete from session; delete from "user"');
});

afterAll(async () => {
  await owned?.close();
  await server?.stop();
});

describe('BETTER_AUTH_SECRET and the signing keys in the SSO database (better-auth 1.4.4, jwt plugin)', () => {
  test('keys made under one secret cannot sign under another: the error the SSO answers 500 with', async () => {
    expect(await readKeys()).toEqual({ count: 0 });
    const token = await sign(OLD);
    expect(await verify(OLD, token)).toBe('user-1');
    const keys = await readKeys();
    expect(keys).toMatchObject({ count: 1 });
    await expect(sign(NEW)).rejects.toThrow(
      'Failed to decrypt private key. Make sure the secret currently in use is the same as the one used to encrypt the private key.',
    );
    // The suite's check agrees with Better Auth on the key it stored: it opens with the secret it was made
    // under, not with another.
    const current = (keys as { current?: string }).current!;
    expect(secretOpensKey(current, new Secret(OLD))).toBe(true);
    expect(secretOpensKey(current, new Secret(NEW))).toBe(false);
  });

  test('an expired newest key is not in use: the SSO makes a new one under the secret it runs with', async () => {
    await sign(OLD);
    await pool.query(`update jwks set expires_at = now() - interval '1 day'`);
    expect(await readKeys()).toEqual({ count: 1 });
    // So a new secret signs (Better Auth adds a key under it), and the suite sees that key in use.
    expect(await verify(NEW, await sign(NEW))).toBe('user-1');
    const keys = (await readKeys()) as { count: number; current?: string };
    expect(keys.count).toBe(2);
    expect(secretOpensKey(keys.current!, new Secret(NEW))).toBe(true);
  });

  test('the rotation’s statements leave a database on which the new secret signs and verifies', async () => {
    const before = await sign(OLD);
    await pool.query(
      `insert into "user" (id, name, email, "emailVerified", "createdAt", "updatedAt") values ('u1', 'Ann', 'a@x', true, now(), now())`,
    );
    await pool.query(
      `insert into session (id, token, "userId", "expiresAt", "createdAt", "updatedAt") values ('s1', 't1', 'u1', now() + interval '1 day', now(), now())`,
    );
    // What the rotation runs in the database, in one transaction (psql on stdin in the pod).
    await pool.query(authSecretRotationSql());
    for (const table of AUTH_KEY_TABLES) {
      const { rows } = await pool.query<{ n: number }>(`select count(*)::int as n from ${table}`);
      expect([table, rows[0]?.n]).toEqual([table, 0]);
    }
    // The user stays; the SSO makes a new key under the new secret on its first token.
    expect((await pool.query('select id from "user"')).rows).toEqual([{ id: 'u1' }]);
    expect(await readKeys()).toEqual({ count: 0 });
    const after = await sign(NEW);
    expect(await verify(NEW, after)).toBe('user-1');
    // And a token of before the rotation no longer verifies: its key is gone from the JWKS.
    await expect(verify(NEW, before)).rejects.toThrow();
  });
});
