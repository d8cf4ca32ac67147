import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db';
import { jwt } from 'better-auth/plugins';
import { createLocalJWKSet, jwtVerify } from 'jose';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AUTH_KEY_TABLES, authSecretRotationSql } from '../../lib/auth-secret.ts';
import { asSuperuser, openPool, startPg, type OwnedPool, type PgServer } from '../support/embedded-pg.ts';

// Better Auth at the SSO's lockfile version (1.4.4) with its JWT plugin configured as the SSO's
// src/lib/auth.ts:548 does it (RS256, 90-day rotation, 30-day grace, private keys encrypted with the
// secret), against a real PostgreSQL.
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
        jwks: {
          keyPairConfig: { alg: 'RS256' },
          rotationInterval: 60 * 60 * 24 * 90,
          gracePeriod: 60 * 60 * 24 * 30,
          disablePrivateKeyEncryption: false,
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

beforeAll(async () => {
  server = await startPg();
  await asSuperuser(server, [
    `CREATE ROLE sso_user LOGIN PASSWORD 'sso0123456789abcdef'`,
    'CREATE DATABASE sso_db OWNER sso_user',
  ]);
  owned = openPool(server, { user: 'sso_user', password: 'sso0123456789abcdef', database: 'sso_db' });
  pool = owned.pool;
  const { runMigrations } = await getMigrations(auth(OLD).options);
  await runMigrations();
});

afterAll(async () => {
  await owned?.close();
  await server?.stop();
});

describe('BETTER_AUTH_SECRET and the signing keys in the SSO database (better-auth 1.4.4, jwt plugin)', () => {
  test('keys made under one secret cannot sign under another: the error the SSO answers 500 with', async () => {
    const token = await sign(OLD);
    expect(await verify(OLD, token)).toBe('user-1');
    const { rows } = await pool.query<{ n: number }>('select count(*)::int as n from jwks');
    expect(rows[0]?.n).toBe(1);
    await expect(sign(NEW)).rejects.toThrow(
      'Failed to decrypt private key. Make sure the secret currently in use is the same as the one used to encrypt the private key.',
    );
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
    const after = await sign(NEW);
    expect(await verify(NEW, after)).toBe('user-1');
    // And a token of before the rotation no longer verifies: its key is gone from the JWKS.
    await expect(verify(NEW, before)).rejects.toThrow();
  });
});
