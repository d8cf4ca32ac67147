import { describe, expect, test } from 'vitest';
import { findObject, hasObject, renderChart, secretData, type K8sObject } from '../support/chart.ts';
import { render } from './profiles.ts';
import { container, envOf, resolveEnv } from './workloads.ts';

function secret(objects: K8sObject[], name: string): Record<string, string> {
  return secretData(findObject(objects, 'Secret', name));
}
function urlPassword(url: string | undefined): string {
  return decodeURIComponent(new URL(url ?? '').password);
}

describe('generated secrets (no value given, nothing in the cluster)', () => {
  test('hex of the documented length, one per purpose', async () => {
    const objects = await render('pgadmin');
    const sso = secret(objects, 'sso-postgres').password!;
    const api = secret(objects, 'api-postgres').password!;
    expect(sso).toMatch(/^[0-9a-f]{32}$/);
    expect(api).toMatch(/^[0-9a-f]{32}$/);
    expect(api).not.toBe(sso);
    expect(secret(objects, 'sso-platform').BETTER_AUTH_SECRET).toMatch(/^[0-9a-f]{64}$/);
    expect(secret(objects, 'pgadmin').password).toMatch(/^[0-9a-f]{32}$/);
  });

  test('each password has one value across the release: Secret, URLs and the database agree', async () => {
    const objects = await render('pgadmin');
    const sso = secret(objects, 'sso-postgres').password;
    const api = secret(objects, 'api-postgres').password;
    expect(urlPassword(secret(objects, 'sso-platform').DATABASE_URL)).toBe(sso);
    expect(urlPassword(secret(objects, 'taskflow-api').DATABASE_URL)).toBe(api);
    expect(urlPassword(secret(objects, 'taskflow-api').TASKFLOW_CHATKIT_DATABASE_URL)).toBe(api);
    for (const db of ['sso', 'api']) {
      expect(
        envOf(objects, 'StatefulSet', `${db}-postgres`, 'postgres').get('POSTGRES_PASSWORD'),
      ).toMatchObject({
        from: 'secret',
        object: `${db}-postgres`,
        key: 'password',
      });
    }
    const pgpass = resolveEnv(objects, container(findObject(objects, 'Deployment', 'pgadmin'), 'pgpass'));
    expect(pgpass.get('SSO_DB_PASSWORD')).toMatchObject({
      object: 'sso-postgres',
      key: 'password',
      value: sso,
    });
    expect(pgpass.get('API_DB_PASSWORD')).toMatchObject({
      object: 'api-postgres',
      key: 'password',
      value: api,
    });
  });

  test('a new render without a cluster generates new values (nothing is baked into the chart)', async () => {
    const again = await renderChart({});
    const first = await render('default');
    expect(secret(again, 'sso-postgres').password).not.toBe(secret(first, 'sso-postgres').password);
  });

  test('generated Secrets carry helm.sh/resource-policy: keep; the others do not', async () => {
    const objects = await render('pgadmin');
    const keep = objects
      .filter((o) => o.kind === 'Secret' && o.metadata.annotations?.['helm.sh/resource-policy'] === 'keep')
      .map((o) => o.metadata.name)
      .sort();
    expect(keep).toEqual(['api-postgres', 'pgadmin', 'sso-platform', 'sso-postgres']);
    for (const s of objects.filter((o) => o.kind === 'Secret')) expect(s.type).toBe('Opaque');
  });
});

describe('given values are the one source', () => {
  test('the password, auth secret and pgAdmin password given are used everywhere', async () => {
    const objects = await render('given');
    expect(secret(objects, 'sso-postgres').password).toBe('given-sso-password-0123');
    expect(secret(objects, 'api-postgres').password).toBe('given-api-password-0123');
    expect(urlPassword(secret(objects, 'sso-platform').DATABASE_URL)).toBe('given-sso-password-0123');
    expect(urlPassword(secret(objects, 'taskflow-api').DATABASE_URL)).toBe('given-api-password-0123');
    expect(secret(objects, 'sso-platform').BETTER_AUTH_SECRET).toBe('a'.repeat(48));
    expect(secret(objects, 'pgadmin').password).toBe('given-pgadmin-password');
  });

  test('pgAdmin logs in with its generated password, never admin/admin', async () => {
    const objects = await render('pgadmin');
    const env = envOf(objects, 'Deployment', 'pgadmin');
    expect(env.get('PGADMIN_DEFAULT_PASSWORD')).toMatchObject({
      from: 'secret',
      object: 'pgadmin',
      key: 'password',
    });
    expect(env.get('PGADMIN_DEFAULT_PASSWORD')?.value).not.toBe('admin');
    expect(env.get('PGADMIN_DEFAULT_EMAIL')?.value).toBe('admin@example.com');
  });
});

describe('existingSecret', () => {
  test('the chart renders no password Secret of its own and reads the named ones', async () => {
    const objects = await render('existingSecret');
    expect(hasObject(objects, 'Secret', 'sso-postgres')).toBe(false);
    expect(hasObject(objects, 'Secret', 'api-postgres')).toBe(false);
    expect(secret(objects, 'sso-platform')).toEqual({});
    const pgpass = resolveEnv(objects, container(findObject(objects, 'Deployment', 'pgadmin'), 'pgpass'));
    expect(pgpass.get('SSO_DB_PASSWORD')).toEqual({ from: 'secret', object: 'my-sso-db', key: 'pw' });
    expect(pgpass.get('API_DB_PASSWORD')).toEqual({ from: 'secret', object: 'my-api-db', key: 'password' });
  });

  test('external database with its password given: the Secret holds it, the URL points outside', async () => {
    const objects = await render('externalDb');
    expect(secret(objects, 'sso-postgres').password).toBe('external-sso-pass');
    expect(hasObject(objects, 'Secret', 'api-postgres')).toBe(false);
  });
});
