import { describe, expect, test } from 'vitest';
import { findObject, secretData, type K8sObject } from '../support/chart.ts';
import { render, type ProfileName } from './profiles.ts';
import { envOf, resolveEnv, container, type EnvSource } from './workloads.ts';
import { loadContract } from '../../lib/app-contract.ts';

/**
 * What each application reads: the app contract (charts/taskflow/app-contract.yaml), keyed by the
 * Deployment of its main container, plus PGPASSWORD, which the drivers read and which is the source of
 * $(PGPASSWORD) in URLs built from an existingSecret.
 */
const contract = loadContract();
const READS: Record<string, string[]> = Object.fromEntries(
  contract.apps
    .filter((a) => a.workload.kind === 'Deployment' && a.container === a.workload.name)
    .map((a) => [a.workload.name, a.runtime.map((v) => v.name)]),
);
const DRIVER_VARS = ['PGPASSWORD'];
/** What the old chart injected although nothing reads it. */
const DEAD = contract.dead;
const SECRET_NAME = /PASS|SECRET|_KEY$|DATABASE_URL/;

function env(objects: K8sObject[], app: string): Map<string, EnvSource> {
  return envOf(objects, 'Deployment', app);
}
function values(m: Map<string, EnvSource>): Record<string, string | undefined> {
  return Object.fromEntries([...m].map(([k, v]) => [k, v.value]));
}

describe('every variable an application reads reaches it, and nothing else', () => {
  const profiles: ProfileName[] = [
    'default',
    'dev',
    'prod',
    'smtp',
    'mailpit',
    'given',
    'existingSecret',
    'externalDb',
    'externalPlain',
    'smtpNoSender',
    'mailpitSender',
  ];
  test.each(profiles)('%s: only variables the apps read, never the dead ones', async (profile) => {
    const objects = await render(profile);
    for (const [app, reads] of Object.entries(READS)) {
      const names = [...env(objects, app).keys()];
      const unknown = names.filter((n) => !reads.includes(n) && !DRIVER_VARS.includes(n));
      expect(unknown, `${profile}: ${app} gets variables no one reads`).toEqual([]);
      expect(names.filter((n) => DEAD.includes(n))).toEqual([]);
    }
  });

  test.each(profiles)('%s: secrets come from Secrets; ConfigMaps hold no secret', async (profile) => {
    const objects = await render(profile);
    for (const app of Object.keys(READS)) {
      for (const [name, src] of env(objects, app)) {
        if (SECRET_NAME.test(name) && src.from === 'literal') {
          // Only a URL to a database whose password is in an existingSecret: without a password (the
          // driver takes PGPASSWORD), or the SSO's on Neon, assembled by $(PGPASSWORD) expansion.
          expect(
            src.value?.includes(':$(PGPASSWORD)@') || new URL(src.value ?? 'x:').password === '',
            `${app} ${name}`,
          ).toBe(true);
        } else if (SECRET_NAME.test(name)) {
          expect(src.from, `${app} ${name}`).toBe('secret');
        }
      }
    }
    const secretValues = objects
      .filter((o) => o.kind === 'Secret')
      .flatMap((s) => Object.values(secretData(s)))
      .filter((v) => v.length >= 8);
    for (const cm of objects.filter((o) => o.kind === 'ConfigMap')) {
      const data = (cm.data ?? {}) as Record<string, string>;
      expect(
        Object.keys(data).filter((k) => SECRET_NAME.test(k)),
        cm.metadata.name,
      ).toEqual([]);
      for (const v of Object.values(data))
        for (const s of secretValues) expect(v.includes(s), cm.metadata.name).toBe(false);
    }
  });

  test('default: the values each app gets', async () => {
    const objects = await render('default');
    const sso = values(env(objects, 'sso-platform'));
    expect(sso).toMatchObject({
      BETTER_AUTH_URL: 'http://localhost:3001',
      ALLOWED_ORIGINS: 'http://localhost:3000,http://localhost:3001',
      NODE_ENV: 'development',
      HOSTNAME: '0.0.0.0',
      DISABLE_EMAIL_VERIFICATION: 'true',
    });
    expect(sso.BETTER_AUTH_SECRET).toMatch(/^[0-9a-f]{64}$/);
    expect(sso.DATABASE_URL).toMatch(
      /^postgresql:\/\/sso_user:[0-9a-f]{32}@sso-postgres:5432\/sso_db\?sslmode=disable$/,
    );
    expect(Object.keys(sso).filter((k) => k.startsWith('SMTP_'))).toEqual([]);

    const api = values(env(objects, 'taskflow-api'));
    expect(api).toMatchObject({
      SSO_URL: 'http://sso-platform:3001',
      ALLOWED_ORIGINS: 'http://localhost:3000,http://localhost:3001',
      MCP_SERVER_URL: 'http://mcp-server:8001/mcp',
      DEBUG: 'false',
      LOG_LEVEL: 'INFO',
      DEV_MODE: 'false',
    });
    expect(api.DATABASE_URL).toMatch(
      /^postgresql:\/\/taskflow_user:[0-9a-f]{32}@api-postgres:5432\/taskflow_db\?sslmode=disable$/,
    );
    expect(api.TASKFLOW_CHATKIT_DATABASE_URL).toBe(api.DATABASE_URL);
    expect(api).not.toHaveProperty('PGSSLROOTCERT');
    expect(api).not.toHaveProperty('OPENAI_API_KEY');

    expect(values(env(objects, 'mcp-server'))).toEqual({
      TASKFLOW_API_URL: 'http://taskflow-api:8000',
      TASKFLOW_SSO_URL: 'http://sso-platform:3001',
      TASKFLOW_MCP_HOST: '0.0.0.0',
      TASKFLOW_MCP_PORT: '8001',
      TASKFLOW_DEV_MODE: 'false',
      TASKFLOW_API_TIMEOUT: '30',
    });
    expect(values(env(objects, 'web-dashboard'))).toEqual({
      SERVER_API_URL: 'http://taskflow-api:8000',
      SERVER_SSO_URL: 'http://sso-platform:3001',
      NEXT_PUBLIC_APP_URL: 'http://localhost:3000',
      HOSTNAME: '0.0.0.0',
    });
  });

  test('the migrate container gets DATABASE_URL from the SSO Secret and seeds by nodeEnv', async () => {
    const dev = await render('default');
    const migrate = container(findObject(dev, 'Deployment', 'sso-platform'), 'migrate');
    // The push under the chart's guard ($1, files/schema-push.cjs; test/chart/schema-push.test.ts), then the seed.
    expect(migrate.command?.slice(0, 4)).toEqual([
      'sh',
      '-c',
      'node -e "$1" && ./node_modules/.bin/tsx scripts/seed-setup.ts',
      'migrate',
    ]);
    expect(migrate.workingDir).toBe('/app');
    const menv = resolveEnv(dev, migrate);
    expect(menv.get('DATABASE_URL')).toMatchObject({
      from: 'secret',
      object: 'sso-platform',
      key: 'DATABASE_URL',
    });
    expect(menv.get('DATABASE_URL')?.value).toBe(env(dev, 'sso-platform').get('DATABASE_URL')?.value);
    const prod = await render('prod');
    expect(container(findObject(prod, 'CronJob', 'sso-migrate'), 'migrate').command?.[2]).toBe(
      'node -e "$1" && ./node_modules/.bin/tsx scripts/seed-setup.ts --prod',
    );
  });

  test('prod: https origins reach the SSO and the API; production mode', async () => {
    const objects = await render('prod');
    expect(values(env(objects, 'sso-platform'))).toMatchObject({
      BETTER_AUTH_URL: 'https://sso.taskflow.example.com',
      ALLOWED_ORIGINS: 'https://taskflow.example.com,https://sso.taskflow.example.com',
      NODE_ENV: 'production',
    });
    expect(values(env(objects, 'taskflow-api')).ALLOWED_ORIGINS).toBe('https://taskflow.example.com');
    expect(values(env(objects, 'web-dashboard')).NEXT_PUBLIC_APP_URL).toBe('https://taskflow.example.com');
  });

  test('given values: OPENAI_API_KEY reaches the API from its Secret', async () => {
    const objects = await render('given');
    expect(env(objects, 'taskflow-api').get('OPENAI_API_KEY')).toEqual({
      from: 'secret',
      object: 'taskflow-api',
      key: 'OPENAI_API_KEY',
      value: 'sk-test-openai-key',
    });
  });
});

describe('SMTP', () => {
  test('sso.smtp.host set: every SMTP setting reaches the SSO, the password from its Secret; verification stays on', async () => {
    const objects = await render('smtp');
    const sso = env(objects, 'sso-platform');
    expect(values(sso)).toMatchObject({
      SMTP_HOST: 'smtp.example.com',
      SMTP_PORT: '587',
      SMTP_USER: 'mailer',
      SMTP_SECURE: 'false',
      EMAIL_FROM: 'TaskFlow <no-reply@example.com>',
      SMTP_PASS: 'smtp-pass-value',
    });
    expect(sso.get('SMTP_PASS')).toMatchObject({ from: 'secret', object: 'sso-platform' });
    expect(sso.get('SMTP_HOST')).toMatchObject({ from: 'configmap', object: 'sso-platform' });
    expect(sso.has('DISABLE_EMAIL_VERIFICATION')).toBe(false);
  });

  test("SMTP without a sender: the chart's default sender reaches the SSO", async () => {
    const sso = values(env(await render('smtpNoSender'), 'sso-platform'));
    expect(sso).toMatchObject({
      SMTP_HOST: 'smtp.example.com',
      EMAIL_FROM: 'TaskFlow <no-reply@taskflow.local>',
    });
  });

  test("mailpit on with sso.smtp.from: the user's sender, not the default", async () => {
    const sso = values(env(await render('mailpitSender'), 'sso-platform'));
    expect(sso).toMatchObject({ SMTP_HOST: 'mailpit', EMAIL_FROM: 'Dev <dev@example.com>' });
  });

  test('no SMTP: DISABLE_EMAIL_VERIFICATION=true so sign-in still works', async () => {
    expect(env(await render('default'), 'sso-platform').get('DISABLE_EMAIL_VERIFICATION')?.value).toBe(
      'true',
    );
  });

  test('mailpit on: the SSO sends to mailpit:1025 with a user and password (SMTP counts as configured)', async () => {
    const objects = await render('mailpit');
    const sso = values(env(objects, 'sso-platform'));
    expect(sso).toMatchObject({ SMTP_HOST: 'mailpit', SMTP_PORT: '1025', SMTP_SECURE: 'false' });
    expect(sso.SMTP_USER).not.toBe('');
    expect(sso.SMTP_PASS).not.toBe('');
    expect(sso).not.toHaveProperty('DISABLE_EMAIL_VERIFICATION');
    // The SSO sends nothing without a sender and has no default of its own.
    expect(sso.EMAIL_FROM).toBe('TaskFlow <no-reply@taskflow.local>');
    const mp = values(envOf(objects, 'Deployment', 'mailpit'));
    expect(mp).toEqual({ MP_SMTP_AUTH_ACCEPT_ANY: '1', MP_SMTP_AUTH_ALLOW_INSECURE: '1' });
  });
});

describe('existingSecret and external databases', () => {
  test('existingSecret: passwords and the auth secret come from the named Secrets; URLs by $(PGPASSWORD)', async () => {
    const objects = await render('existingSecret');
    const sso = findObject(objects, 'Deployment', 'sso-platform');
    const main = container(sso, 'sso-platform');
    const names = (main.env ?? []).map((e) => e.name);
    // Kubernetes expands $(VAR) only from variables defined before it.
    expect(names.indexOf('PGPASSWORD')).toBeLessThan(names.indexOf('DATABASE_URL'));
    const e = resolveEnv(objects, main);
    expect(e.get('BETTER_AUTH_SECRET')).toEqual({
      from: 'secret',
      object: 'my-auth',
      key: 'BETTER_AUTH_SECRET',
    });
    expect(e.get('PGPASSWORD')).toEqual({ from: 'secret', object: 'my-sso-db', key: 'pw' });
    // No password in the URL: postgres.js takes PGPASSWORD, whatever its characters.
    expect(e.get('DATABASE_URL')?.value).toBe(
      'postgresql://sso_user@sso-postgres:5432/sso_db?sslmode=disable',
    );
    expect(Object.keys(secretData(findObject(objects, 'Secret', 'sso-platform')))).toEqual([]);
    expect(resolveEnv(objects, container(sso, 'migrate')).get('DATABASE_URL')?.value).toBe(
      e.get('DATABASE_URL')?.value,
    );

    const api = envOf(objects, 'Deployment', 'taskflow-api');
    expect(api.get('PGPASSWORD')).toEqual({ from: 'secret', object: 'my-api-db', key: 'password' });
    for (const k of ['DATABASE_URL', 'TASKFLOW_CHATKIT_DATABASE_URL']) {
      expect(api.get(k)?.value).toBe(
        'postgresql://taskflow_user@api-postgres:5432/taskflow_db?sslmode=disable',
      );
    }
    const pgEnv = (db: string): EnvSource | undefined =>
      envOf(objects, 'StatefulSet', `${db}-postgres`, 'postgres').get('POSTGRES_PASSWORD');
    expect(pgEnv('sso')).toEqual({ from: 'secret', object: 'my-sso-db', key: 'pw' });
    expect(pgEnv('api')).toEqual({ from: 'secret', object: 'my-api-db', key: 'password' });
  });

  test('external database: its host and sslmode (require by default), no StatefulSet or NetworkPolicy', async () => {
    const objects = await render('externalDb');
    const sso = values(env(objects, 'sso-platform'));
    expect(sso.DATABASE_URL).toBe(
      'postgresql://sso_user:external-sso-pass@ep-quiet-bird-123456.eu-central-1.aws.neon.tech:5432/sso_db?sslmode=require',
    );
    const api = values(env(objects, 'taskflow-api'));
    expect(api.DATABASE_URL).toBe(
      'postgresql://taskflow_user@api-db.example.com:5432/taskflow_db?sslmode=verify-full',
    );
    // The chat store converts only require/prefer/allow/disable: it gets asyncpg's own ssl= parameter.
    expect(api.TASKFLOW_CHATKIT_DATABASE_URL).toBe(
      'postgresql://taskflow_user@api-db.example.com:5432/taskflow_db?ssl=verify-full',
    );
    expect(api.PGSSLROOTCERT).toBe('/etc/taskflow/db-ca/ca.crt');
    const pod = findObject(objects, 'Deployment', 'taskflow-api').spec as {
      template: { spec: { volumes: { name: string; secret?: { secretName: string } }[] } };
    };
    expect(pod.template.spec.volumes.find((v) => v.name === 'db-ca')?.secret?.secretName).toBe('api-db-ca');
    const kinds = objects
      .filter((o) => /postgres/.test(o.metadata.name))
      .map((o) => `${o.kind}/${o.metadata.name}`);
    expect(kinds).toEqual(['Secret/sso-postgres']);
  });
});
