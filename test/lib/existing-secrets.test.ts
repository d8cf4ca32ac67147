import { describe, expect, it } from 'vitest';
import {
  describeChars,
  existingSecretProblem,
  existingSecretRefs,
  ssoPasswordInUrl,
  unsafeUrlChars,
} from '../../lib/existing-secrets.ts';

describe('existingSecretRefs', () => {
  it('names each Secret with its key (the chart defaults when unset) and what it replaces', () => {
    const refs = existingSecretRefs({
      sso: { existingSecret: 'auth', database: { existingSecret: 'sso-db' } },
      api: { database: { existingSecret: 'api-db', existingSecretKey: 'pw' } },
    });
    expect(refs).toEqual([
      {
        envKey: 'POSTGRES_SSO_PASSWORD',
        valuePath: 'sso.database.existingSecret',
        replaces: 'sso.database.password',
        secret: 'sso-db',
        key: 'password',
        inUrl: false,
      },
      {
        envKey: 'POSTGRES_API_PASSWORD',
        valuePath: 'api.database.existingSecret',
        replaces: 'api.database.password',
        secret: 'api-db',
        key: 'pw',
        inUrl: false,
      },
      {
        envKey: 'BETTER_AUTH_SECRET',
        valuePath: 'sso.existingSecret',
        replaces: 'sso.auth.secret',
        secret: 'auth',
        key: 'BETTER_AUTH_SECRET',
        inUrl: false,
      },
    ]);
  });

  it('skips empty names and disabled parts', () => {
    expect(existingSecretRefs({ sso: { existingSecret: ' ', database: { existingSecret: '' } } })).toEqual(
      [],
    );
    expect(existingSecretRefs({ api: { enabled: false, database: { existingSecret: 'x' } } })).toEqual([]);
  });
});

describe('ssoPasswordInUrl: the SSO URL carries the password only for Neon’s driver', () => {
  it.each([
    [{}, false],
    [{ host: 'ep-x.eu-central-1.aws.neon.tech' }, true],
    [{ host: 'ep-x.eu-central-1.aws.neon.tech', sslmode: 'disable' }, false],
    [{ host: 'db.internal', sslmode: 'disable' }, false],
    [{ host: '127.0.0.1' }, false],
    [{ host: 'localhost', sslmode: 'require' }, false],
  ])('%j -> %s', (database, inUrl) => {
    expect(ssoPasswordInUrl({ sso: { database } })).toBe(inUrl);
  });
});

describe('unsafeUrlChars and describeChars', () => {
  it('lists each character outside A-Za-z0-9._~- once, in order, by name where it has one', () => {
    const chars = unsafeUrlChars('xK+3/zA9=mQ2pL1w @:%?#&+/ok-._~');
    expect(chars).toEqual(['+', '/', '=', ' ', '@', ':', '%', '?', '#', '&']);
    expect(describeChars(chars)).toBe('"+", "/", "=", a space, "@", ":", "%", "?", "#", "&"');
    expect(unsafeUrlChars('0123456789abcdef-._~XYZ')).toEqual([]);
  });
});

describe('existingSecretProblem', () => {
  const [sso] = existingSecretRefs({
    sso: { database: { existingSecret: 'sso-db', host: 'ep-a.neon.tech' } },
  });
  const [api] = existingSecretRefs({ api: { database: { existingSecret: 'api-db' } } });

  it('a missing Secret, a missing key, an empty value', () => {
    expect(existingSecretProblem(api!, {}, 'ns')?.message).toBe(
      'Secret api-db (named by api.database.existingSecret) does not exist in namespace ns: every pod that reads it would fail to start (CreateContainerConfigError)',
    );
    expect(existingSecretProblem(api!, { keys: ['pw'] }, 'ns')?.message).toBe(
      'Secret api-db (named by api.database.existingSecret) has no key password (its keys: pw)',
    );
    expect(existingSecretProblem(api!, { keys: ['password'], value: '' }, 'ns')?.message).toContain(
      'is empty',
    );
  });

  it('any printable password where PGPASSWORD carries it; only URL-safe ones where the URL does', () => {
    const odd = 'xK+3/zA9=mQ2pL1w @:%?#&';
    expect(existingSecretProblem(api!, { keys: ['password'], value: odd }, 'ns')).toBeUndefined();
    const p = existingSecretProblem(sso!, { keys: ['password'], value: odd }, 'ns');
    expect(p?.message).toContain('key password holds "+", "/", "=", a space, "@", ":", "%", "?", "#", "&"');
    expect(p?.message).not.toContain(odd);
    expect(p?.hint).toContain('kubectl create secret generic sso-db -n ns --from-file=password=');
    expect(
      existingSecretProblem(sso!, { keys: ['password'], value: 'npg_AbC123-x.y_z~' }, 'ns'),
    ).toBeUndefined();
  });
});
