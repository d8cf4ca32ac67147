import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { RunAs } from './binaries.ts';

export interface PostmasterOptions {
  postgres: string;
  dataDir: string;
  port: number;
  socketDir: string;
  runAs: RunAs;
  onLog?: (line: string) => void;
}

export interface Postmaster {
  pid: number;
  /** Fast shutdown (SIGINT), escalating if the server does not go. */
  stop(): Promise<void>;
  /** Resolves when the server process has exited, whoever stopped it. */
  exited: Promise<void>;
}

/** Thrown when the server could not start; `portInUse` tells the caller to retry on another port. */
export class PostmasterStartError extends Error {
  constructor(
    message: string,
    readonly portInUse: boolean,
  ) {
    super(message);
    this.name = 'PostmasterStartError';
  }
}

const live = new Map<ChildProcess, string>();
let exitHookInstalled = false;

// A test run that ends without stopping its servers must not leave them (or their socket
// folders) behind: SIGQUIT is postgres' immediate shutdown.
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const [p, socketDir] of live) {
      p.kill('SIGQUIT');
      rmSync(socketDir, { recursive: true, force: true });
    }
  });
}

// Settings for a throw-away test server: no durability work, small memory, quick start.
const SETTINGS = [
  'fsync=off',
  'synchronous_commit=off',
  'full_page_writes=off',
  'shared_buffers=16MB',
  'max_connections=40',
  'logging_collector=off',
  'log_min_messages=warning',
  'log_min_error_statement=panic',
];

/** Starts `postgres` on a data directory and resolves once it accepts connections. */
export function startPostmaster(opts: PostmasterOptions): Promise<Postmaster> {
  installExitHook();
  const args = ['-D', opts.dataDir, '-p', String(opts.port)];
  args.push('-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${opts.socketDir}`);
  for (const s of SETTINGS) args.push('-c', s);
  const child = spawn(opts.postgres, args, {
    ...opts.runAs,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', LC_MESSAGES: 'C' },
  });
  live.set(child, opts.socketDir);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => live.delete(child));
  const tail: string[] = [];
  return new Promise<Postmaster>((resolve, reject) => {
    let ready = false;
    let buf = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        opts.onLog?.(line);
        if (ready) continue;
        tail.push(line);
        if (tail.length > 20) tail.shift();
      }
    });
    child.once('error', (err) =>
      reject(new PostmasterStartError(`postgres did not start: ${err.message}`, false)),
    );
    child.once('exit', (code, signal) => {
      if (ready) return;
      const text = tail.join('\n');
      const portInUse = /could not bind|Address already in use|could not create any TCP\/IP sockets/i.test(
        text,
      );
      reject(
        new PostmasterStartError(`postgres exited (${code ?? signal}) during start-up:\n${text}`, portInUse),
      );
    });
    // log_min_messages=warning hides the "ready to accept connections" line: poll the pid file.
    void waitReady(opts, child).then((ok) => {
      if (!ok) return;
      ready = true;
      resolve({ pid: child.pid ?? -1, stop: () => stopChild(child, exited), exited });
    });
  });
}

// postmaster.pid gains the line "ready" (PM_STATUS_READY) once the server accepts connections.
async function waitReady(opts: PostmasterOptions, child: ChildProcess): Promise<boolean> {
  const pidFile = `${opts.dataDir}/postmaster.pid`;
  for (let delay = 2; child.exitCode === null && child.signalCode === null; delay = Math.min(delay * 2, 25)) {
    const text = await readFile(pidFile, 'utf8').catch(() => '');
    const lines = text.split('\n');
    if (lines[0] === String(child.pid) && lines[7]?.trim() === 'ready') return true;
    await new Promise((r) => setTimeout(r, delay));
  }
  return false;
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGQUIT'), 5_000);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}
