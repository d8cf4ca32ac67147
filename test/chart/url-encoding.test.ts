import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { findObject, renderChart, secretData, type K8sObject } from '../support/chart.ts';
import { createOwnedDatabases, freePort, startPg, type PgServer } from '../support/embedded-pg.ts';
import type { ToolsetName } from '../support/tools.ts';
import { SERVER_DRY_RUN, startLookupCluster, type LookupCluster } from './lookup-cluster.ts';
import { mountOf, pgadminPassFile, pgadminPod, pgadminServers } from './pgadmin.ts';
import { container, resolveEnv } from './workloads.ts';

// Every character that broke the old URLs, plus a space (Go's urlquery writes it as "+") and a
// backslash (pgpass needs it escaped). Such passwords reach the chart from the cluster (lookup):
// the schema keeps users from passing them, the chart still has to encode them right.
const SSO_PASSWORD = 'Sso+/=@:?#%25 p\\w';
const API_PASSWORD = 'api%41:@/?#=+ x\\y';

const NS = 'enc';
const RELEASE = 'enc';

let server: PgServer;
let cluster: LookupCluster;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'tf-chart-enc-'));

beforeAll(async () => {
  server = await startPg();
  await createOwnedDatabases(server, [
    ['sso_user', 'sso_db', SSO_PASSWORD],
    ['taskflow_user', 'taskflow_db', API_PASSWORD],
  ]);
  // The passwords are what a previous release left in the cluster's Secrets.
  cluster = await startLookupCluster({
    namespace: NS,
    release: RELEASE,
    secrets: { 'sso-postgres': { password: SSO_PASSWORD }, 'api-postgres': { password: API_PASSWORD } },
  });
});

afterAll(async () => {
  await cluster?.stop();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const rendered = new Map<ToolsetName, Promise<K8sObject[]>>();

/** Renders (once per toolset) with both databases at the embedded server, passwords kept from the simulated cluster. */
function renderAgainstPg(toolset: ToolsetName): Promise<K8sObject[]> {
  const db = { host: '127.0.0.1', port: server.port, sslmode: 'disable' };
  const cached = rendered.get(toolset);
  if (cached) return cached;
  const p = renderChart({
    toolset,
    release: RELEASE,
    namespace: NS,
    args: SERVER_DRY_RUN,
    env: cluster.env,
    values: { sso: { database: db }, api: { database: db }, pgadmin: { enabled: true } },
  });
  rendered.set(toolset, p);
  return p;
}

async function connectPostgresJs(url: string): Promise<string> {
  const sql = postgres(url, { max: 1, connect_timeout: 5, onnotice: () => {} });
  try {
    const [row] = await sql<{ u: string; d: string }[]>`select current_user as u, current_database() as d`;
    return `${row?.u}@${row?.d}`;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

async function connectPg(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const r = await client.query<{ u: string; d: string }>(
      'select current_user as u, current_database() as d',
    );
    return `${r.rows[0]?.u}@${r.rows[0]?.d}`;
  } finally {
    await client.end();
  }
}

describe.each(['v35', 'v33'] as const)(
  'URLs the chart renders (%s) connect with + / = @ : ? # %% in the password',
  (toolset) => {
    test('DATABASE_URL and TASKFLOW_CHATKIT_DATABASE_URL connect with postgres.js and pg', async () => {
      const objects = await renderAgainstPg(toolset);
      const sso = secretData(findObject(objects, 'Secret', 'sso-platform')).DATABASE_URL!;
      const api = secretData(findObject(objects, 'Secret', 'taskflow-api'));
      expect(sso).toMatch(/^postgresql:\/\/sso_user:[^@]+@127\.0\.0\.1:\d+\/sso_db\?sslmode=disable$/);
      for (const [url, who] of [
        [sso, 'sso_user@sso_db'],
        [api.DATABASE_URL!, 'taskflow_user@taskflow_db'],
        [api.TASKFLOW_CHATKIT_DATABASE_URL!, 'taskflow_user@taskflow_db'],
      ] as const) {
        expect(await connectPostgresJs(url)).toBe(who);
        expect(await connectPg(url)).toBe(who);
      }
    });
  },
);

describe('in-cluster URL form', () => {
  test('host sso-postgres:5432 with ?sslmode=disable connects once the name resolves', async () => {
    const objects = await renderChart({
      release: RELEASE,
      namespace: NS,
      args: SERVER_DRY_RUN,
      env: cluster.env,
    });
    const url = secretData(findObject(objects, 'Secret', 'sso-platform')).DATABASE_URL!;
    expect(url.endsWith('@sso-postgres:5432/sso_db?sslmode=disable')).toBe(true);
    // What cluster DNS does for the pod: the Service name becomes an address; the rest is verbatim.
    const resolved = url.replace('@sso-postgres:5432/', `@127.0.0.1:${server.port}/`);
    expect(await connectPostgresJs(resolved)).toBe('sso_user@sso_db');
    expect(await connectPg(resolved)).toBe('sso_user@sso_db');
  });

  test('control: the raw password pasted into the URL (the old fault) does not connect', async () => {
    const raw = `postgresql://sso_user:${SSO_PASSWORD}@127.0.0.1:${server.port}/sso_db?sslmode=disable`;
    await expect(connectPostgresJs(raw)).rejects.toThrow();
    await expect(connectPg(raw)).rejects.toThrow();
  });
});

/** Runs a shell script taken from the chart, as its container would (sh -c script name args...). */
function runScript(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', script, ...args], { env: { PATH: process.env.PATH, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('scripts of the init containers, run for real', () => {
  test("pgAdmin's pgpass file (from the databases' Secrets) sits where each PassFile resolves and logs psql in", async () => {
    const objects = await renderAgainstPg('v35');
    const { init } = pgadminPod(objects);
    const email = resolveEnv(objects, pgadminPod(objects).main).get('PGADMIN_DEFAULT_EMAIL')!.value!;
    const inPod = resolveEnv(objects, init).get('PGPASSFILE')!.value!;
    // The pod's data volume becomes a temporary directory; the script runs as written.
    const root = path.join(tmp, 'pgadmin-data');
    const local = (p: string): string => path.join(root, path.posix.relative(mountOf(init, 'vol-data')!, p));
    const file = local(inPod);
    const r = await runScript(init.command![2]!, [], {
      PGPASSFILE: file,
      SSO_DB_PASSWORD: SSO_PASSWORD,
      API_DB_PASSWORD: API_PASSWORD,
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    // Owned by the user that ran the script: in the pod, uid 5050 (the pgadmin test checks the pod's user).
    expect(statSync(file).uid).toBe(process.getuid!());
    const servers = pgadminServers(objects);
    expect(servers.map((s) => s.Username)).toEqual(['sso_user', 'taskflow_user']);
    for (const s of servers) {
      // pgAdmin (server mode) opens the PassFile inside the login's storage directory: psql reads that.
      const passFile = local(pgadminPassFile(email, s.PassFile));
      expect(existsSync(passFile)).toBe(true);
      const psql = await new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn(
          'psql',
          [
            '-w',
            '-X',
            '-A',
            '-t',
            '-h',
            s.Host,
            '-p',
            String(s.Port),
            '-U',
            s.Username,
            '-d',
            s.MaintenanceDB,
            '-c',
            'select current_user',
          ],
          { env: { PATH: process.env.PATH, HOME: tmp, PGPASSFILE: passFile } },
        );
        let out = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
        child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
        child.on('close', (code) => resolve({ code, out }));
      });
      expect(psql.out.trim()).toBe(s.Username);
      expect(psql.code).toBe(0);
    }
  });

  test('wait-for-db returns once the database accepts connections', async () => {
    const objects = await renderAgainstPg('v35');
    const cmd = container(findObject(objects, 'Deployment', 'taskflow-api'), 'wait-for-db').command!;
    expect(cmd.slice(4, 8)).toEqual(['127.0.0.1', String(server.port), 'taskflow_user', 'taskflow_db']);
    const r = await runScript(cmd[2]!, cmd.slice(3), {});
    expect(r.stdout).toContain(`wait-for-db: 127.0.0.1:${server.port} is ready`);
    expect(r.code).toBe(0);
  });

  test('wait-for-db gives up after its timeout with a message that says where to look', async () => {
    const objects = await renderAgainstPg('v35');
    const cmd = container(findObject(objects, 'Deployment', 'taskflow-api'), 'wait-for-db').command!;
    const closed = String(await freePort());
    const started = Date.now();
    const r = await runScript(
      cmd[2]!,
      [cmd[3]!, '127.0.0.1', closed, 'taskflow_user', 'taskflow_db', '1', cmd[9]!],
      {},
    );
    expect(r.code).toBe(1);
    // It gave up on its own 1 s limit (plus one probe), not at the test's timeout.
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(r.stderr).toContain(`wait-for-db: 127.0.0.1:${closed} did not accept connections within 1s.`);
    expect(r.stderr).toContain(
      'Check that the external database accepts connections from the cluster, or run: npm run doctor',
    );
  });
});
