import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Container, containersOf, podSpecOf, resolveEnv } from '../../lib/workload-env.ts';
import type { KubeObject } from '../../lib/kubectl.ts';
import { renderChart } from '../support/chart.ts';
import { createOwnedDatabases, startPg, type PgServer } from '../support/embedded-pg.ts';
import { type SsoApp, ssoApp } from '../support/sso-app.ts';

// Every printable ASCII character, so every character a PostgreSQL role's password can be made of
// (the ones that broke URLs: / + = @ : % ? # & and a space, but also $( ) that look like a reference).
const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');
const SSO_PASSWORD = `xK+3/zA9=mQ2pL1w ${PRINTABLE}`;
const API_PASSWORD = `${[...PRINTABLE].reverse().join('')} $(PGPASSWORD)`;

const ROOT = path.resolve(import.meta.dirname, '../..');
const DRIZZLE_KIT = './node_modules/.bin/drizzle-kit';

let server: PgServer;
let sso: SsoApp;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'tf-existing-secret-'));

beforeAll(async () => {
  server = await startPg();
  sso = ssoApp();
  await createOwnedDatabases(server, [
    ['sso_user', 'sso_db', SSO_PASSWORD],
    ['taskflow_user', 'taskflow_db', API_PASSWORD],
  ]);
});

afterAll(async () => {
  await server?.stop();
  sso?.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

/** A Secret of the user's, as the cluster would hold it. */
function userSecret(name: string, data: Record<string, string>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name },
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  } as KubeObject;
}

const EXISTING = {
  sso: { database: { existingSecret: 'my-sso-db' } },
  api: { database: { existingSecret: 'my-api-db', existingSecretKey: 'pw' } },
};
const THEIRS = [
  userSecret('my-sso-db', { password: SSO_PASSWORD }),
  userSecret('my-api-db', { pw: API_PASSWORD }),
];

/** The chart's objects with the user's Secrets beside them, as the kubelet would see them. */
async function rendered(values: object = EXISTING): Promise<KubeObject[]> {
  return [...((await renderChart({ values })) as unknown as KubeObject[]), ...THEIRS];
}

/** Every container (init ones included) of every workload that gets one of these variables. */
function consumers(objects: readonly KubeObject[], names: readonly string[]) {
  const out: { where: string; container: Container }[] = [];
  for (const o of objects) {
    const spec = podSpecOf(o);
    for (const c of [...containersOf(spec, true), ...containersOf(spec, false)]) {
      if ((c.env ?? []).some((e) => names.includes(e.name)))
        out.push({ where: `${o.kind}/${o.metadata?.name} container ${c.name}`, container: c });
    }
  }
  return out;
}

/**
 * The container's variables as the kubelet builds them ($(VAR) expanded), with the in-cluster Service
 * names turned into the test server's address, as cluster DNS would (the rest stays verbatim).
 */
function podEnv(objects: readonly KubeObject[], c: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) {
    const v = resolveEnv(c, e.name, objects).value;
    if (v !== undefined) env[e.name] = v;
  }
  for (const k of ['DATABASE_URL', 'TASKFLOW_CHATKIT_DATABASE_URL'])
    if (env[k]) env[k] = env[k].replace(/@(sso|api)-postgres:5432\//, `@127.0.0.1:${server.port}/`);
  return env;
}

function run(
  cmd: string,
  args: string[],
  env: Record<string, string>,
  cwd = ROOT,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd,
      env: { PATH: process.env.PATH, HOME: tmp, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

/** What the SSO (src/lib/db/index.ts) and its seed do with DATABASE_URL: postgres(url), a real query. */
const SSO_CONNECT = [
  '--input-type=module',
  '-e',
  "import postgres from 'postgres'; const sql = postgres(process.env.DATABASE_URL); const [r] = await sql`select current_user as u`; console.log('user=' + r.u); await sql.end();",
];

describe('a password from an existing Secret, any printable character, reaches every consumer', () => {
  test('the URLs carry no password: PGPASSWORD comes from the Secret, the URL without it', async () => {
    const objects = await rendered();
    const found = consumers(objects, ['DATABASE_URL', 'TASKFLOW_CHATKIT_DATABASE_URL']);
    // The SSO, its migrate init container, cronjob/sso-migrate, the API and cronjob/api-migrate.
    expect(found.length).toBeGreaterThanOrEqual(4);
    for (const { where, container } of found) {
      const env = podEnv(objects, container);
      for (const k of ['DATABASE_URL', 'TASKFLOW_CHATKIT_DATABASE_URL'].filter((n) => env[n])) {
        const url = new URL(env[k]!);
        expect(url.password, `${where} ${k}`).toBe('');
        expect(env[k], `${where} ${k}`).not.toContain('$(PGPASSWORD)');
      }
      expect([SSO_PASSWORD, API_PASSWORD], where).toContain(env.PGPASSWORD);
    }
  });

  test('the SSO (postgres.js at its lockfile version) signs in as sso_user', async () => {
    const objects = await rendered();
    const sso = consumers(objects, ['DATABASE_URL']).filter((c) => c.container.name === 'sso-platform');
    expect(sso).toHaveLength(1);
    const env = podEnv(objects, sso[0]!.container);
    // The driver choice of the SSO: plain PostgreSQL only with this in the URL (src/lib/db/index.ts:29).
    expect(env.DATABASE_URL).toContain('sslmode=disable');
    const r = await run(process.execPath, SSO_CONNECT, env);
    expect(r.out).toContain('user=sso_user');
    expect(r.code).toBe(0);
  });

  test('drizzle-kit push (the SSO version) applies the schema from the migrate init container and the CronJob', async () => {
    const objects = await rendered();
    const migrate = consumers(objects, ['DATABASE_URL']).filter((c) => c.container.name === 'migrate');
    const where = migrate.map((m) => m.where);
    expect(where).toContain('Deployment/sso-platform container migrate');
    expect(where).toContain('CronJob/sso-migrate container migrate');
    for (const [i, m] of migrate.filter((x) => /sso/.test(x.where)).entries()) {
      const r = await run(
        DRIZZLE_KIT,
        ['push', '--config=drizzle.config.ts'],
        { ...sso.env, ...podEnv(objects, m.container) },
        sso.dir,
      );
      // The first push creates the tables, the second finds nothing to do: both only after a login,
      // by postgres.js as in the image (no pg package there).
      expect(r.out, m.where).toContain("Using 'postgres' driver for database querying");
      expect(r.out, m.where).toContain(i === 0 ? '[✓] Changes applied' : '[i] No changes detected');
      expect(r.code).toBe(0);
    }
  });

  test('the API URLs log in through libpq with PGPASSWORD, as asyncpg does for a URL without one', async () => {
    const objects = await rendered();
    const api = consumers(objects, ['TASKFLOW_CHATKIT_DATABASE_URL']);
    expect(api.length).toBeGreaterThanOrEqual(1);
    for (const { where, container } of api) {
      const env = podEnv(objects, container);
      for (const k of ['DATABASE_URL', 'TASKFLOW_CHATKIT_DATABASE_URL']) {
        const r = await run('psql', ['-w', '-X', '-tA', '-d', env[k]!, '-c', 'select current_user'], env);
        expect(r.out.trim(), `${where} ${k}`).toBe('taskflow_user');
      }
    }
  });

  test('control: the previous rendering, the raw password in the URL, breaks postgres.js and drizzle-kit', async () => {
    const url = `postgresql://sso_user:${SSO_PASSWORD}@127.0.0.1:${server.port}/sso_db?sslmode=disable`;
    const app = await run(process.execPath, SSO_CONNECT, { DATABASE_URL: url });
    expect(app.out).toContain('Invalid URL');
    expect(app.code).not.toBe(0);
    const push = await run(
      DRIZZLE_KIT,
      ['push', '--config=drizzle.config.ts'],
      { ...sso.env, DATABASE_URL: url },
      sso.dir,
    );
    expect(push.out).toContain('Invalid URL');
    // drizzle-kit 0.28 reports success to the shell all the same: the migrate container must not trust it.
    expect(push.code).toBe(0);
  });

  test('with a Neon host the SSO URL carries $(PGPASSWORD) (its HTTP driver sends the URL as it is)', async () => {
    const objects = await rendered({
      ...EXISTING,
      sso: { database: { existingSecret: 'my-sso-db', host: 'ep-cool-1.eu-central-1.aws.neon.tech' } },
    });
    const sso = consumers(objects, ['DATABASE_URL']).find((c) => c.container.name === 'sso-platform')!;
    const raw = sso.container.env!.find((e) => e.name === 'DATABASE_URL')!.value!;
    expect(raw).toBe(
      'postgresql://sso_user:$(PGPASSWORD)@ep-cool-1.eu-central-1.aws.neon.tech:5432/sso_db?sslmode=require',
    );
    // The API keeps PGPASSWORD even then.
    const api = consumers(objects, ['TASKFLOW_CHATKIT_DATABASE_URL'])[0]!.container;
    expect(api.env!.find((e) => e.name === 'DATABASE_URL')!.value).not.toContain('PGPASSWORD');
  });
});
