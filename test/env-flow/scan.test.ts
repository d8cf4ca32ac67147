import { describe, expect, it } from 'vitest';
import { resolveEnv, type Container } from '../../lib/workload-env.ts';
import {
  databaseUrlMismatches,
  deadVariables,
  secretValues,
  secretsInConfigMaps,
  unusedKeys,
} from '../../lib/config-scan.ts';
import { MAILPIT_SMTP } from '../../lib/addon-catalog.ts';
import { FIX, contractRender, setKey } from '../fixtures/render.ts';

describe('secretsInConfigMaps', () => {
  it('finds nothing in the contract render', () => {
    expect(secretsInConfigMaps(contractRender(), Object.values(FIX))).toEqual([]);
  });

  it.each([
    ['a known secret value', 'NOTE', `prefix ${FIX.apiPw}`, 'holds the value of a secret'],
    [
      'a URL with a password',
      'DATABASE_URL',
      'postgresql://u:hunter22@db:5432/x',
      'holds a URL with a password',
    ],
    ['a key named like a secret', 'JWT_SECRET', 'whatever', 'is named like a secret'],
    ['a variable the map marks secret', 'SMTP_PASS', 'x', 'is named like a secret'],
  ])('flags %s', (_n, key, value, why) => {
    const objects = contractRender();
    setKey(objects, 'ConfigMap', 'taskflow-api', key, value);
    expect(secretsInConfigMaps(objects, Object.values(FIX))).toEqual([
      { object: 'ConfigMap taskflow-api', key, why },
    ]);
  });

  it('finds a short secret (already failed by secrets.strength) only as a whole value, not inside URLs', () => {
    const objects = contractRender();
    // "taskflow" as a password: every URL naming taskflow-api contains it, none of them holds it.
    expect(secretsInConfigMaps(objects, ['taskflow', 'example'])).toEqual([]);
    setKey(objects, 'ConfigMap', 'mcp-server', 'NOTE', 'taskflow');
    expect(secretsInConfigMaps(objects, ['taskflow'])).toEqual([
      { object: 'ConfigMap mcp-server', key: 'NOTE', why: 'holds the value of a secret' },
    ]);
  });

  it('ignores an empty secret-named key', () => {
    const objects = contractRender();
    setKey(objects, 'ConfigMap', 'sso-platform', 'SMTP_PASS', '');
    expect(secretsInConfigMaps(objects)).toEqual([]);
  });
});

describe('secretValues', () => {
  it("leaves out the Mailpit add-on's SMTP password: the chart's own word, also its SMTP_HOST", () => {
    // As the chart renders the SSO while Mailpit is on: SMTP_HOST and SMTP_PASS are both "mailpit".
    const objects = contractRender();
    setKey(objects, 'ConfigMap', 'sso-platform', 'SMTP_HOST', MAILPIT_SMTP.host);
    setKey(objects, 'ConfigMap', 'sso-platform', 'SMTP_USER', MAILPIT_SMTP.user);
    setKey(objects, 'Secret', 'sso-platform', 'SMTP_PASS', MAILPIT_SMTP.password);
    const known = secretValues(objects);
    expect(known).not.toContain(MAILPIT_SMTP.password);
    expect(known).toEqual(expect.arrayContaining([FIX.ssoPw, FIX.apiPw, FIX.authSecret]));
    // doctor's secrets.in-configmap: green for the configuration the chart itself makes.
    expect(secretsInConfigMaps(objects, known)).toEqual([]);
  });

  it('keeps a real SMTP password, and a ConfigMap repeating it is still found', () => {
    const objects = contractRender();
    expect(secretValues(objects)).toContain(FIX.smtpPass);
    setKey(objects, 'ConfigMap', 'sso-platform', 'NOTE', FIX.smtpPass);
    expect(secretsInConfigMaps(objects, secretValues(objects))).toEqual([
      { object: 'ConfigMap sso-platform', key: 'NOTE', why: 'holds the value of a secret' },
    ]);
  });
});

describe('databaseUrlMismatches', () => {
  it('finds none in the contract render', () => {
    expect(databaseUrlMismatches(contractRender())).toEqual([]);
  });

  it('names a URL whose user, database or port is not the one its StatefulSet and Service create', () => {
    const objects = contractRender();
    setKey(
      objects,
      'Secret',
      'sso-platform',
      'DATABASE_URL',
      'postgresql://sso:pw@sso-postgres:5433/sso?sslmode=disable',
    );
    expect(
      databaseUrlMismatches(objects).filter((f) => f.object.startsWith('Deployment sso-platform container')),
    ).toEqual([
      {
        object: 'Deployment sso-platform container sso-platform',
        key: 'DATABASE_URL',
        why: 'connects as "sso", but StatefulSet sso-postgres creates user "sso_user"',
      },
      {
        object: 'Deployment sso-platform container sso-platform',
        key: 'DATABASE_URL',
        why: 'opens database "sso", but StatefulSet sso-postgres creates "sso_db"',
      },
      {
        object: 'Deployment sso-platform container sso-platform',
        key: 'DATABASE_URL',
        why: 'uses port 5433, but Service sso-postgres serves 5432',
      },
    ]);
    expect(JSON.stringify(databaseUrlMismatches(objects))).not.toContain('pw@');
  });

  it('leaves an external database alone', () => {
    const objects = contractRender();
    setKey(objects, 'Secret', 'sso-platform', 'DATABASE_URL', 'postgresql://other:pw@db.example.com:6543/x');
    expect(databaseUrlMismatches(objects)).toEqual([]);
  });
});

describe('deadVariables and unusedKeys', () => {
  it('reports variables no application reads, from env and envFrom', () => {
    const objects = contractRender();
    setKey(objects, 'ConfigMap', 'taskflow-api', 'CORS_ORIGINS', 'http://localhost:3000');
    expect(deadVariables(objects)).toEqual([
      {
        object: 'Deployment taskflow-api container taskflow-api',
        key: 'CORS_ORIGINS',
        why: 'no application reads it',
      },
    ]);
  });

  it('reports keys of an object read only by key that nobody reads', () => {
    const objects = contractRender();
    expect(unusedKeys(objects)).toEqual([]);
    setKey(objects, 'Secret', 'sso-postgres', 'JWT_SECRET', 'x');
    expect(unusedKeys(objects)).toEqual([
      { object: 'Secret sso-postgres', key: 'JWT_SECRET', why: 'no container reads it' },
    ]);
  });
});

describe('resolveEnv', () => {
  const objects = contractRender();
  const c = (env: Container['env'], envFrom: Container['envFrom'] = []): Container => ({
    name: 'c',
    env,
    envFrom,
  });

  it('lets env override envFrom and the last entry of a name win', () => {
    const r = resolveEnv(
      c(
        [
          { name: 'NODE_ENV', value: 'a' },
          { name: 'NODE_ENV', value: 'b' },
        ],
        [{ configMapRef: { name: 'sso-platform' } }],
      ),
      'NODE_ENV',
      objects,
    );
    expect(r).toMatchObject({ found: true, value: 'b', via: 'pod spec value', literal: true });
  });

  it('applies envFrom prefixes and later sources', () => {
    const r = resolveEnv(
      c(
        [],
        [
          { configMapRef: { name: 'sso-platform' }, prefix: 'X_' },
          { secretRef: { name: 'sso-postgres' }, prefix: 'X_' },
        ],
      ),
      'X_password',
      objects,
    );
    expect(r).toMatchObject({
      found: true,
      value: FIX.ssoPw,
      via: 'Secret sso-postgres key password (envFrom)',
    });
  });

  it('treats a missing optional key as unset and a missing required key as broken', () => {
    const opt = resolveEnv(
      c([{ name: 'A', valueFrom: { secretKeyRef: { name: 'sso-postgres', key: 'nope', optional: true } } }]),
      'A',
      objects,
    );
    expect(opt.found).toBe(false);
    const req = resolveEnv(
      c([{ name: 'A', valueFrom: { configMapKeyRef: { name: 'sso-platform', key: 'nope' } } }]),
      'A',
      objects,
    );
    expect(req.broken).toBe(
      'ConfigMap sso-platform has no key nope (the pod would fail with CreateContainerConfigError)',
    );
  });

  it('expands $(VAR) from earlier variables only, and $$ to $', () => {
    const r = resolveEnv(
      c([
        { name: 'LATER_REF', value: '$(PW)-$$(PW)' },
        { name: 'PW', valueFrom: { secretKeyRef: { name: 'api-postgres', key: 'password' } } },
        { name: 'URL', value: 'x:$(PW)' },
      ]),
      'LATER_REF',
      objects,
    );
    expect(r.value).toBe('$(PW)-$(PW)');
    expect(
      resolveEnv(
        c([
          { name: 'PW', valueFrom: { secretKeyRef: { name: 'api-postgres', key: 'password' } } },
          { name: 'URL', value: 'x:$(PW)' },
        ]),
        'URL',
        objects,
      ).value,
    ).toBe(`x:${FIX.apiPw}`);
  });
});
