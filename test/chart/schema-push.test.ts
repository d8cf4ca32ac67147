import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { findObject, renderChart } from '../support/chart.ts';
import { asSuperuser, freePort, startPg, type PgServer } from '../support/embedded-pg.ts';
import { type SsoApp, ssoApp } from '../support/sso-app.ts';
import { container } from './workloads.ts';

// The migrate container's command as the chart renders it, run for real: the real drizzle-kit (the
// SSO's version, 0.28.1) against a real PostgreSQL, in a folder laid out like the image's /app.
const PASSWORD = 'push0123456789abcdef';

let server: PgServer;
let sso: SsoApp;
let app: string;
let command: string[];

beforeAll(async () => {
  server = await startPg();
  await asSuperuser(server, [`CREATE ROLE sso_user LOGIN PASSWORD '${PASSWORD}'`]);
  sso = ssoApp();
  app = sso.dir;
  // The seed that follows the push: a stand-in that says it ran (the push is what is tested here).
  mkdirSync(path.join(app, 'scripts'));
  writeFileSync(path.join(app, 'scripts/seed-setup.ts'), "console.log('seed ran');\n");
  const objects = await renderChart({});
  command = container(findObject(objects, 'Deployment', 'sso-platform'), 'migrate').command!;
  // The CronJob runs the very same container.
  const job = findObject(objects, 'CronJob', 'sso-migrate').spec as {
    jobTemplate: { spec: { template: { spec: { containers: { name: string; command: string[] }[] } } } };
  };
  expect(job.jobTemplate.spec.template.spec.containers.find((c) => c.name === 'migrate')?.command).toEqual(
    command,
  );
});

afterAll(async () => {
  await server?.stop();
  sso?.cleanup();
});

let dbs = 0;
/** A new database owned by sso_user, and its URL as the chart writes it. */
async function database(): Promise<{ name: string; url: string }> {
  const name = `push_${++dbs}`;
  await asSuperuser(server, [`CREATE DATABASE ${name} OWNER sso_user`]);
  return { name, url: `postgresql://sso_user:${PASSWORD}@127.0.0.1:${server.port}/${name}?sslmode=disable` };
}

/** Runs the rendered command in the app folder, stdin open and silent as a container's is. */
function migrate(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), {
      cwd: app,
      env: { PATH: process.env.PATH, HOME: app, ...sso.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

async function query(db: string, sql: string): Promise<unknown[]> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port: server.port,
    user: 'sso_user',
    password: PASSWORD,
    database: db,
  });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('the SSO schema push fails when drizzle-kit did not apply it (drizzle-kit 0.28 exits 0)', () => {
  test('applies, then finds nothing to do; the seed runs after each', async () => {
    const db = await database();
    const first = await migrate({ DATABASE_URL: db.url });
    // The driver of the SSO image, which has no pg package.
    expect(first.out).toContain("Using 'postgres' driver for database querying");
    expect(first.out).toContain('[✓] Changes applied');
    expect(first.out).toContain('seed ran');
    expect(first.code).toBe(0);
    const again = await migrate({ DATABASE_URL: db.url });
    expect(again.out).toContain('[i] No changes detected');
    expect(again.code).toBe(0);
  });

  test.each([
    [
      'unreachable',
      (port: number) => `postgresql://sso_user:${PASSWORD}@127.0.0.1:${port}/push_x?sslmode=disable`,
      'ECONNREFUSED',
    ],
    [
      'wrong password',
      (port: number) => `postgresql://sso_user:wrong@127.0.0.1:${port}/postgres?sslmode=disable`,
      'password authentication failed',
    ],
    [
      'an unparsable URL',
      (port: number) => `postgresql://sso_user:a/b@127.0.0.1:${port}/postgres?sslmode=disable`,
      'Invalid URL',
    ],
  ])('%s: exit 1 with drizzle-kit’s own message, and no seed', async (_what, url, message) => {
    const port = _what === 'unreachable' ? await freePort() : server.port;
    const r = await migrate({ DATABASE_URL: url(port) });
    expect(r.out).toContain(message);
    expect(r.out).toContain(
      'migrate: drizzle-kit push did not apply the schema (exit 0; it exits 0 on errors too)',
    );
    expect(r.out).not.toContain('seed ran');
    expect(r.code).toBe(1);
  });

  test('a statement that fails on a reachable database: exit 1, the schema not applied', async () => {
    const db = await database();
    expect((await migrate({ DATABASE_URL: db.url })).code).toBe(0);
    // A text column turned integer: drizzle-kit asks nothing and PostgreSQL refuses the cast.
    writeFileSync(
      path.join(app, 'schema-int-name.ts'),
      readFileSync(path.join(app, 'schema.ts'), 'utf8')
        .replace("name: text('name').notNull(),", "name: integer('name').notNull(),")
        .replace('import { boolean,', 'import { boolean, integer,'),
    );
    const r = await migrate({ DATABASE_URL: db.url, DRIZZLE_SCHEMA: './schema-int-name.ts' });
    expect(r.out).toContain('cannot be cast automatically to type integer');
    expect(r.out).toContain(
      'migrate: drizzle-kit push did not apply the schema (exit 0; it exits 0 on errors too)',
    );
    expect(r.out).not.toContain('seed ran');
    expect(r.code).toBe(1);
  });

  test('a unique constraint on a table with rows: drizzle-kit’s truncate question stops it, named', async () => {
    const db = await database();
    expect((await migrate({ DATABASE_URL: db.url })).code).toBe(0);
    for (const id of ['u1', 'u2'])
      await query(
        db.name,
        `insert into "user" (id, name, email, email_verified, created_at) values ('${id}', 'Ann', '${id}@x', true, now())`,
      );
    writeFileSync(
      path.join(app, 'schema-unique-name.ts'),
      readFileSync(path.join(app, 'schema.ts'), 'utf8').replace(
        "name: text('name').notNull(),",
        "name: text('name').notNull().unique(),",
      ),
    );
    const r = await migrate({ DATABASE_URL: db.url, DRIZZLE_SCHEMA: './schema-unique-name.ts' });
    // Its --force (what --accept-data-loss passes) would truncate the table: the message says so.
    expect(r.out).toContain('Do you want to truncate user table?');
    expect(r.out).toContain('nothing was applied');
    expect(r.code).toBe(1);
    expect(await query(db.name, 'select count(*)::int as n from "user"')).toEqual([{ n: 2 }]);
  });

  test('a data-loss change stops at once with the statement and how to apply it; --accept-data-loss applies it', async () => {
    const db = await database();
    expect((await migrate({ DATABASE_URL: db.url })).code).toBe(0);
    await query(
      db.name,
      `insert into "user" (id, name, email, email_verified, image, created_at) values ('u1', 'Ann', 'a@x', true, 'pic', now())`,
    );
    writeFileSync(
      path.join(app, 'schema-no-image.ts'),
      (await import('node:fs'))
        .readFileSync(path.join(app, 'schema.ts'), 'utf8')
        .replace("  image: text('image'),\n", ''),
    );
    const env = { DATABASE_URL: db.url, DRIZZLE_SCHEMA: './schema-no-image.ts' };
    const r = await migrate(env);
    expect(r.out).toContain(
      'migrate: the schema push stopped at drizzle-kit’s data-loss question, which needs a terminal; nothing was applied.',
    );
    expect(r.out).toContain("It would:\n  You're about to delete image column in user table with 1 items");
    expect(r.out).toContain('npm run migrate -- sso --accept-data-loss');
    expect(r.out).not.toContain('seed ran');
    expect(r.code).toBe(1);
    expect(await query(db.name, `select image from "user"`)).toEqual([{ image: 'pic' }]);

    const forced = await migrate({ ...env, TASKFLOW_ACCEPT_DATA_LOSS: 'true' });
    expect(forced.out).toContain('[✓] Changes applied');
    expect(forced.code).toBe(0);
    await expect(query(db.name, `select image from "user"`)).rejects.toThrow(/column "image" does not exist/);
  });
});
