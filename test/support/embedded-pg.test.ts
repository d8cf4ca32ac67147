import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startPg, type PgServer } from './embedded-pg.ts';

describe('embedded PostgreSQL', () => {
  let server: PgServer;
  beforeAll(async () => {
    server = await startPg();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('accepts a scram-sha-256 login over TCP and rejects a wrong password', async () => {
    const ok = new pg.Client({
      host: server.host,
      port: server.port,
      user: server.superuser,
      password: server.superPassword,
      database: 'postgres',
    });
    await ok.connect();
    const r = await ok.query('SHOW password_encryption');
    expect(r.rows[0].password_encryption).toBe('scram-sha-256');
    await ok.end();
    const bad = new pg.Client({
      host: server.host,
      port: server.port,
      user: server.superuser,
      password: 'wrong',
      database: 'postgres',
    });
    await expect(bad.connect()).rejects.toThrow(/password authentication failed/);
  });
});
