import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { sqlLiteral } from '../../lib/db.ts';
import { initdb, pgPrograms, serverRunAs } from '../kube-sim/postgres/binaries.ts';
import { startPostmaster } from '../kube-sim/postgres/postmaster.ts';

export interface PgServer {
  port: number;
  host: string;
  superuser: string;
  superPassword: string;
  dataDir: string;
  stop(): Promise<void>;
}

/** Whether a TCP listener can open on 127.0.0.1:port now. */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** The first port of the kernel's ephemeral range (what it hands out for port 0 and for connections). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) ? low : 32768;
  } catch {
    return 32768;
  }
}

/**
 * A free TCP port on loopback for a program to listen on later, picked below the kernel's ephemeral
 * range: a port the kernel picked (port 0) could be handed to any other process's connection or
 * listener before ours binds it, which failed a CI run ("address already in use" in a port-forward).
 * Below that range only another such pick can take it, at random among some ten thousand ports.
 */
export async function freePort(): Promise<number> {
  const high = ephemeralLow() - 1;
  const low = Math.max(1024, high - 12_000);
  for (let i = 0; i < 100 && high > low; i++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free TCP port on 127.0.0.1 between ${low} and ${high}`);
}

export interface StartPgOptions {
  port?: number;
  /** Reuse an existing data directory (a restart); a new temp dir otherwise. */
  dataDir?: string;
  superuser?: string;
  superPassword?: string;
  /** Keep the data directory on stop (for restart tests). */
  keepData?: boolean;
  onLog?: (line: string) => void;
}

/**
 * Starts a real PostgreSQL 15 server like the official image runs it: local socket
 * connections trusted, TCP connections with scram-sha-256. The programs and the postgres user are the
 * simulated cluster's (test/kube-sim/postgres/binaries.ts), so a checkout under a folder only root may
 * enter works too, or fails at once with the reason.
 */
export async function startPg(opts: StartPgOptions = {}): Promise<PgServer> {
  const port = opts.port ?? (await freePort());
  const fresh = !opts.dataDir;
  const [{ postgres }, runAs] = await Promise.all([pgPrograms(), serverRunAs()]);
  // As root, postgres runs as the `postgres` user: the folder (socket, data) must be writable by it.
  const base = opts.dataDir ? path.dirname(opts.dataDir) : mkdtempSync(path.join(os.tmpdir(), 'tf-pg-'));
  chmodSync(base, 0o777);
  const dataDir = opts.dataDir ?? path.join(base, 'data');
  const superuser = opts.superuser ?? 'postgres';
  const superPassword = opts.superPassword ?? 'postgres-test-superuser';
  if (fresh) {
    const pwfile = path.join(base, 'pw');
    writeFileSync(pwfile, `${superPassword}\n`, { mode: 0o600 });
    if (runAs.uid !== undefined && runAs.gid !== undefined) chownSync(pwfile, runAs.uid, runAs.gid);
    try {
      await initdb(dataDir, superuser, pwfile);
    } finally {
      rmSync(pwfile, { force: true });
    }
  }
  const server = await startPostmaster({
    postgres,
    dataDir,
    port,
    socketDir: base,
    runAs,
    ...(opts.onLog && { onLog: opts.onLog }),
  });
  return {
    port,
    host: '127.0.0.1',
    superuser,
    superPassword,
    dataDir,
    async stop() {
      await server.stop();
      if (!opts.keepData && fresh) rmSync(base, { recursive: true, force: true });
    },
  };
}

/** Runs statements in order as the server's superuser (one connection), and returns their results. */
export async function asSuperuser(
  server: PgServer,
  statements: readonly string[],
  database = 'postgres',
): Promise<pg.QueryResult[]> {
  const client = new pg.Client({
    host: server.host,
    port: server.port,
    user: server.superuser,
    password: server.superPassword,
    database,
  });
  await client.connect();
  try {
    const out: pg.QueryResult[] = [];
    for (const sql of statements) out.push(await client.query(sql));
    return out;
  } finally {
    await client.end();
  }
}

/** Creates each role (LOGIN, with its password) and a database it owns, as the server's superuser. */
export function createOwnedDatabases(
  server: PgServer,
  roles: readonly (readonly [user: string, database: string, password: string])[],
): Promise<pg.QueryResult[]> {
  return asSuperuser(
    server,
    roles.flatMap(([user, db, password]) => [
      `CREATE ROLE ${user} LOGIN PASSWORD ${sqlLiteral(password)}`,
      `CREATE DATABASE ${db} OWNER ${user}`,
    ]),
  );
}

export interface OwnedPool {
  pool: pg.Pool;
  /** Ends the pool and resolves once every connection it opened has closed. */
  close(): Promise<void>;
}

/**
 * A pg.Pool on the server, as one role, whose close waits for its connections. pg-pool's own end()
 * resolves as soon as it has asked its idle clients to end, before their sockets close: a server stopped
 * right after can still reach them with "terminating connection due to administrator command", which the
 * pool re-emits as an 'error' nobody listens to (an uncaught exception in the test run).
 */
export function openPool(
  server: PgServer,
  login: { user: string; password: string; database: string },
): OwnedPool {
  const pool = new pg.Pool({ host: server.host, port: server.port, ...login });
  const open = new Set<Promise<void>>();
  pool.on('connect', (client) => {
    const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
    open.add(ended);
    void ended.then(() => open.delete(ended));
  });
  return {
    pool,
    async close() {
      await pool.end();
      await Promise.all([...open]);
    },
  };
}
