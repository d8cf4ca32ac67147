import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { constants as osConstants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import type { PodProcessInfo } from './runtime-types.ts';
import { toolBins } from './toolbin.ts';

export interface ContainerIo {
  stdin: Readable | null;
  stdout: Writable;
  stderr: Writable;
}

// Running commands by the stdout they write to (the exec layer's handle on them).
const running = new Map<Writable, ChildProcess>();

/**
 * Kills the command writing to `stdout` (SIGKILL, so it ends with 137 as when its container
 * dies). Used when the pod goes away or the client disconnects, so no process outlives a test.
 */
export function killCommandWriting(stdout: Writable): boolean {
  const child = running.get(stdout);
  if (!child?.pid) return false;
  // The whole process group: `sh -c 'a; sleep 30'` leaves children that hold the output open.
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
  return true;
}

// Directories an image's programs are called from by absolute path (`/bin/sh -c ...`).
const IMAGE_BIN_DIRS = ['/bin', '/usr/bin', '/usr/local/bin', '/sbin', '/usr/sbin'];

/** The environment a command sees: the pod's env, the image's PATH, and for postgres the backing server. */
export function containerEnv(info: PodProcessInfo, binDir: string, home: string): Record<string, string> {
  // HOME is always an empty dir: this machine's ~/.pgpass or ~/.psqlrc must not leak in.
  const env: Record<string, string> = { HOSTNAME: info.pod.name, ...info.env, HOME: home, PATH: binDir };
  if (info.postgres) {
    // Like the image's default socket: `psql -U x` goes through the trusted local socket,
    // while `-h 127.0.0.1` makes a TCP (scram-sha-256) connection to the same server.
    env.PGHOST = info.postgres.socketDir;
    env.PGPORT = String(info.postgres.port);
  }
  return env;
}

/** The program a command names inside the simulated image, or undefined when the image lacks it. */
export function resolveProgram(argv0: string, binDir: string): string | undefined {
  if (argv0.includes('/')) {
    if (!IMAGE_BIN_DIRS.includes(path.posix.dirname(argv0))) return undefined;
    argv0 = path.posix.basename(argv0);
  }
  const candidate = path.join(binDir, argv0);
  return argv0 && !argv0.startsWith('.') && existsSync(candidate) ? candidate : undefined;
}

/**
 * Runs an exec'd command as the container would: the machine's real programs (/bin/sh,
 * coreutils, and for postgres pods the PostgreSQL 15 client tools) restricted to the
 * image's PATH, with the pod's env. Unknown programs exit 127 like a shell reports them.
 * Commands run as `nobody` (when the tests run as root), in `/`.
 */
export async function runInContainer(
  info: PodProcessInfo,
  command: string[],
  io: ContainerIo,
): Promise<number> {
  const bins = toolBins();
  const binDir = info.postgres ? bins.postgres : bins.app;
  const [argv0 = '', ...args] = command;
  const program = resolveProgram(argv0, binDir);
  if (!program) {
    io.stderr.write(`sh: ${argv0}: not found\n`);
    io.stdin?.resume();
    return 127;
  }
  const child = spawn(program, args, {
    ...bins.runAs,
    // Its own process group, so that everything the command starts can be killed with it.
    detached: true,
    argv0,
    cwd: '/',
    env: containerEnv(info, binDir, bins.home),
    stdio: [io.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  running.set(io.stdout, child);
  if (io.stdin && child.stdin) {
    // A command that exits without reading all its input must not fail the exec.
    child.stdin.on('error', () => undefined);
    io.stdin.pipe(child.stdin);
  }
  child.stdout?.pipe(io.stdout, { end: false });
  child.stderr?.pipe(io.stderr, { end: false });
  return new Promise<number>((resolve) => {
    child.once('error', (err) => {
      io.stderr.write(`sh: ${argv0}: ${err.message}\n`);
      resolve(126);
    });
    // 'close' comes after the output pipes have delivered everything.
    child.once('close', (code, signal) => {
      running.delete(io.stdout);
      io.stdin?.unpipe();
      resolve(code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0));
    });
  });
}
