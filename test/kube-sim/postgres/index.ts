import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../support/embedded-pg.ts';
import { pgPrograms, serverRunAs, type RunAs } from './binaries.ts';
import { bootstrapCluster, NO_PASSWORD_MESSAGE, type PostgresEnv } from './bootstrap.ts';
import { startPostmaster, PostmasterStartError, type Postmaster } from './postmaster.ts';
import { templateDataDir } from './template.ts';

export type { PostgresEnv } from './bootstrap.ts';

const run = promisify(execFile);

/** Where a running backing server is reached: TCP on host:port, or the trusted socket in socketDir. */
export interface PostgresEndpoint {
  host: string;
  port: number;
  socketDir: string;
}

export interface PostgresBackingOptions {
  /** One data directory per key lives under here; it must be traversable by the `postgres` user. */
  rootDir: string;
  /**
   * Trust TCP logins from 127.0.0.1/::1 as the official image really does (initdb's
   * default pg_hba lines come before its appended `host all all all scram-sha-256`).
   * Off by default: every TCP login then goes through scram-sha-256.
   */
  trustLoopback?: boolean;
  /** Server log lines (stderr), per key. */
  onLog?: (key: string, line: string) => void;
}

/** A first start that the official image would refuse (its container exits 1 with `message`). */
export class PostgresInitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PostgresInitError';
  }
}

interface Running {
  endpoint: PostgresEndpoint;
  server: Postmaster;
}

const INIT_MARKER = '.initialising';

/** Real PostgreSQL servers standing in for postgres pods: one data directory per volume key. */
export class PostgresBacking {
  private readonly running = new Map<string, Running>();
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(private readonly opts: PostgresBackingOptions) {}

  /** Starts (or returns the running) server of a volume; initialises it from `env` the first time only. */
  start(key: string, env: PostgresEnv): Promise<PostgresEndpoint> {
    return this.serial(key, async () => this.running.get(key)?.endpoint ?? this.boot(key, env));
  }

  /** Stops a volume's server and keeps its data. */
  stop(key: string): Promise<void> {
    return this.serial(key, () => this.halt(key));
  }

  /** Stops a volume's server and deletes its data (the PVC is gone). */
  drop(key: string): Promise<void> {
    return this.serial(key, async () => {
      await this.halt(key);
      await rm(this.keyDir(key), { recursive: true, force: true });
    });
  }

  /** Stops every server, keeping the data. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.running.keys()].map((k) => this.stop(k)));
  }

  /** The endpoint of a running server, if any. */
  endpoint(key: string): PostgresEndpoint | undefined {
    return this.running.get(key)?.endpoint;
  }

  /** The PGDATA of a volume. */
  dataDir(key: string): string {
    return path.join(this.keyDir(key), 'data');
  }

  private keyDir(key: string): string {
    return path.join(this.opts.rootDir, encodeURIComponent(key));
  }

  private serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const next = (this.locks.get(key) ?? Promise.resolve()).catch(() => undefined).then(fn);
    this.locks.set(key, next);
    next
      .finally(() => {
        if (this.locks.get(key) === next) this.locks.delete(key);
      })
      .catch(() => undefined);
    return next;
  }

  private async boot(key: string, env: PostgresEnv): Promise<PostgresEndpoint> {
    const [programs, ids] = await Promise.all([pgPrograms(), serverRunAs()]);
    const keyDir = this.keyDir(key);
    const dataDir = this.dataDir(key);
    const marker = path.join(keyDir, INIT_MARKER);
    const fresh = !(await exists(path.join(dataDir, 'PG_VERSION'))) || (await exists(marker));
    if (fresh) {
      if (!env.POSTGRES_PASSWORD) throw new PostgresInitError(NO_PASSWORD_MESSAGE);
      await this.prepareFresh(keyDir, dataDir, marker, ids);
    }
    const socketDir = await mkdtemp(path.join(os.tmpdir(), 'ksim-pgs-'));
    let server: Postmaster | undefined;
    try {
      await owned(socketDir, ids, 0o755);
      let port = 0;
      for (let attempt = 0; !server; attempt++) {
        port = await freePort();
        try {
          server = await startPostmaster({
            postgres: programs.postgres,
            dataDir,
            port,
            socketDir,
            runAs: ids,
            onLog: this.opts.onLog && ((line) => this.opts.onLog?.(key, line)),
          });
        } catch (err) {
          // Another process may take the free port between probe and bind.
          if (!(err instanceof PostmasterStartError && err.portInUse && attempt < 4)) throw err;
        }
      }
      if (fresh) {
        await bootstrapCluster(socketDir, port, env);
        await rm(marker, { force: true });
      }
      const endpoint = { host: '127.0.0.1', port, socketDir };
      const entry = { endpoint, server };
      this.running.set(key, entry);
      void server.exited.then(() => {
        if (this.running.get(key) === entry) this.running.delete(key);
        void rm(socketDir, { recursive: true, force: true });
      });
      return endpoint;
    } catch (err) {
      await server?.stop();
      await rm(socketDir, { recursive: true, force: true });
      throw err;
    }
  }

  private async prepareFresh(keyDir: string, dataDir: string, marker: string, ids: RunAs): Promise<void> {
    const template = await templateDataDir();
    await mkdir(this.opts.rootDir, { recursive: true });
    // The server runs as `postgres`: it must be able to reach its data directory.
    if (ids.uid !== undefined) await ensureTraversable(this.opts.rootDir);
    await mkdir(keyDir, { recursive: true });
    await owned(keyDir, ids, 0o700);
    await writeFile(marker, '');
    await rm(dataDir, { recursive: true, force: true });
    await run('cp', ['-a', template, dataDir]);
    const hba = path.join(dataDir, 'pg_hba.conf');
    await writeFile(hba, pgHba(this.opts.trustLoopback ?? false), { mode: 0o600 });
    await owned(hba, ids, 0o600);
  }

  private async halt(key: string): Promise<void> {
    const entry = this.running.get(key);
    if (!entry) return;
    this.running.delete(key);
    await entry.server.stop();
    await rm(entry.endpoint.socketDir, { recursive: true, force: true });
  }
}

/** pg_hba.conf as the official image leaves it, loopback lines trusted or not. */
function pgHba(trustLoopback: boolean): string {
  const loopback = trustLoopback ? 'trust' : 'scram-sha-256';
  return [
    'local   all             all                                     trust',
    `host    all             all             127.0.0.1/32            ${loopback}`,
    `host    all             all             ::1/128                 ${loopback}`,
    'local   replication     all                                     trust',
    `host    replication     all             127.0.0.1/32            ${loopback}`,
    `host    replication     all             ::1/128                 ${loopback}`,
    '',
    'host all all all scram-sha-256',
    '',
  ].join('\n');
}

/**
 * Gives others search (x) permission on `dir` and on its ancestors inside the temp dir
 * (mkdtemp makes 0700 folders); elsewhere a closed ancestor is reported, not changed.
 */
async function ensureTraversable(dir: string): Promise<void> {
  const tmp = path.resolve(os.tmpdir());
  const target = path.resolve(dir);
  await chmod(target, 0o755);
  for (let d = path.dirname(target); d !== path.dirname(d); d = path.dirname(d)) {
    const st = await stat(d);
    if (st.mode & 0o001) continue;
    if (!d.startsWith(tmp + path.sep)) {
      throw new Error(`${d} is not searchable by other users: the postgres user cannot reach ${target}`);
    }
    await chmod(d, (st.mode & 0o7777) | 0o001);
  }
}

async function owned(p: string, ids: RunAs, mode: number): Promise<void> {
  if (ids.uid !== undefined && ids.gid !== undefined) await chown(p, ids.uid, ids.gid);
  await chmod(p, mode);
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}
