import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { reachableByOthers } from '../kube-sim/postgres/binaries.ts';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { freePort, openPool, startPg, type PgServer } from './embedded-pg.ts';

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

  // Regression: an SSO test's pool.end() resolved with a connection still open, and stopping the server
  // then reached that connection: an uncaught "terminating connection" failed a green CI run.
  it('pg-pool end() resolves before its connections close; openPool().close() waits for them', async () => {
    const login = { user: server.superuser, password: server.superPassword, database: 'postgres' };
    const watch = (pool: pg.Pool) => {
      const ended: boolean[] = [];
      pool.on('connect', (client) => {
        const i = ended.push(false) - 1;
        client.once('end', () => (ended[i] = true));
      });
      return ended;
    };
    const plain = new pg.Pool({ host: server.host, port: server.port, ...login });
    const plainEnded = watch(plain);
    await Promise.all([plain.query('select 1'), plain.query('select 2')]);
    await plain.end();
    expect(plainEnded.length).toBeGreaterThan(0);
    expect(plainEnded.every(Boolean)).toBe(false);

    const owned = openPool(server, login);
    const ownedEnded = watch(owned.pool);
    await Promise.all([owned.pool.query('select 1'), owned.pool.query('select 2')]);
    await owned.close();
    expect(ownedEnded.length).toBeGreaterThan(0);
    expect(ownedEnded.every(Boolean)).toBe(true);
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

describe('freePort', () => {
  // Regression: a port the kernel picked (port 0) was handed to another process before kubectl
  // port-forward bound it ("address already in use"): the ports come from below its ephemeral range.
  it('is below the kernel’s ephemeral range, and free', async () => {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    const port = await freePort();
    expect(port).toBeLessThan(low);
    expect(port).toBeGreaterThanOrEqual(1024);
    const srv = net.createServer();
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, '127.0.0.1', () => resolve());
    });
    await new Promise<void>((resolve) => srv.close(() => resolve()));
  });
});
