import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { reachableByOthers } from '../kube-sim/postgres/binaries.ts';
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

describe('reaching the server programs as the postgres user', () => {
  it('a folder closed to others anywhere above the programs makes them unreachable', () => {
    const modes: Record<string, number> = {
      '/': 0o755,
      '/root': 0o700,
      '/root/repo': 0o755,
      '/root/repo/bin': 0o755,
      '/srv': 0o755,
      '/srv/repo': 0o755,
      '/srv/repo/bin': 0o755,
    };
    const mode = (p: string) => modes[p] ?? 0o755;
    expect(reachableByOthers('/root/repo/bin/postgres', mode)).toBe(false);
    expect(reachableByOthers('/srv/repo/bin/postgres', mode)).toBe(true);
  });
});
