import { symmetricEncrypt } from 'better-auth/crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type AuthSecretPlan,
  authSecretProblem,
  parseSigningKeys,
  secretOpensKey,
} from '../../lib/auth-secret.ts';
import { Secret } from '../../lib/secrets.ts';

// Keys as the SSO's jwt plugin stores them: better-auth 1.4.4's own encryption, as a JSON string
// (test/lib/auth-secret-jwks.test.ts reads the same from a database the real plugin wrote).
const RELEASE = new Secret('r'.repeat(32));
const ENV = new Secret('e'.repeat(32));
const OTHER = new Secret('o'.repeat(32));
const keyUnder: Record<string, string> = {};

beforeAll(async () => {
  for (const s of [RELEASE, ENV, OTHER])
    keyUnder[s.reveal()] = JSON.stringify(await symmetricEncrypt({ key: s.reveal(), data: '{"kty":"RSA"}' }));
});

const plan = (wanted: Secret, released: Secret | undefined, namespace = 'taskflow'): AuthSecretPlan => ({
  wanted,
  released,
  envFile: '.env',
  namespace,
  release: 'taskflow',
});
const madeUnder = (s: Secret, count = 1) => ({ count, current: keyUnder[s.reveal()]! });

describe('parseSigningKeys: psql -tA output of signingKeySql', () => {
  it('reads none, the key in use, an expired newest, and refuses anything else', () => {
    expect(parseSigningKeys('')).toEqual({ count: 0 });
    expect(parseSigningKeys('\n')).toEqual({ count: 0 });
    expect(parseSigningKeys('3|"ab01"|f\n')).toEqual({ count: 3, current: '"ab01"' });
    expect(parseSigningKeys('2|"ab01"|t\n')).toEqual({ count: 2 });
    expect(parseSigningKeys('ERROR: relation "jwks" does not exist')).toBeUndefined();
  });
});

describe('secretOpensKey: Better Auth’s encryption of the private key', () => {
  it('opens with the secret it was made under only', () => {
    expect(secretOpensKey(keyUnder[RELEASE.reveal()]!, RELEASE)).toBe(true);
    expect(secretOpensKey(keyUnder[RELEASE.reveal()]!, ENV)).toBe(false);
  });
  it('an unencrypted or damaged value opens with none (the SSO cannot decrypt it either)', () => {
    expect(secretOpensKey('{"kty":"RSA"}', RELEASE)).toBe(false);
    expect(secretOpensKey('not json', RELEASE)).toBe(false);
    expect(secretOpensKey('"abc"', RELEASE)).toBe(false);
    expect(secretOpensKey(JSON.stringify('00'.repeat(40)), RELEASE)).toBe(false);
  });
});

describe('authSecretProblem: the secret a deploy sends against the key the SSO signs with', () => {
  it('lets through: no key in use, the same secret, or a new one the key was made under (a restored backup)', () => {
    expect(authSecretProblem(plan(ENV, RELEASE), { count: 0 })).toBeUndefined();
    expect(authSecretProblem(plan(ENV, RELEASE), { count: 4 })).toBeUndefined();
    expect(authSecretProblem(plan(RELEASE, RELEASE), madeUnder(RELEASE))).toBeUndefined();
    expect(authSecretProblem(plan(ENV, RELEASE), madeUnder(ENV))).toBeUndefined();
    expect(authSecretProblem(plan(ENV, undefined), madeUnder(ENV))).toBeUndefined();
  });

  it('a new secret over the release’s keys: keep the release’s, or rotate', () => {
    const p = authSecretProblem(plan(ENV, RELEASE, 'tf'), madeUnder(RELEASE, 2));
    expect(p?.message).toContain(
      "BETTER_AUTH_SECRET (.env) is not the one release taskflow runs with (Secret sso-platform), and the SSO database holds 2 signing keys encrypted with the release's",
    );
    expect(p?.message).toContain('Failed to decrypt private key');
    expect(p?.hint).toContain('npm run reset-auth-secret -- --keep -n tf');
    expect(p?.hint).toContain('npm run reset-auth-secret -- --rotate -n tf');
  });

  it('keys of another environment under the release’s own secret: deploy theirs, or rotate', () => {
    const same = authSecretProblem(plan(RELEASE, RELEASE), madeUnder(OTHER));
    expect(same?.message).toContain(
      'the signing key the SSO signs with (the newest of 1 in the SSO database) was not encrypted with the BETTER_AUTH_SECRET release taskflow runs with (Secret sso-platform)',
    );
    expect(same?.hint).toContain('set BETTER_AUTH_SECRET in .env to that environment');
    expect(same?.hint).toContain('npm run deploy;');
    expect(same?.hint).toContain('npm run reset-auth-secret -- --rotate');
    expect(authSecretProblem(plan(ENV, RELEASE), madeUnder(OTHER))?.message).toContain(
      'was encrypted with neither the BETTER_AUTH_SECRET of .env nor the one release taskflow runs with',
    );
    // A volume kept from an earlier install, and no release Secret: the secret this deploy makes.
    expect(authSecretProblem(plan(ENV, undefined), madeUnder(OTHER))?.message).toContain(
      'was not encrypted with the BETTER_AUTH_SECRET this deploy would give release taskflow',
    );
  });

  it('keys that could not be read refuse a change only', () => {
    const unknown = { unknown: 'could not read them in sso-postgres-0: container not running' };
    expect(authSecretProblem(plan(RELEASE, RELEASE), unknown)).toBeUndefined();
    expect(authSecretProblem(plan(ENV, undefined), unknown)).toBeUndefined();
    expect(authSecretProblem(plan(ENV, RELEASE), unknown)?.message).toContain(
      "the SSO database may hold signing keys encrypted with the release's (could not read them in sso-postgres-0: container not running)",
    );
  });
});
