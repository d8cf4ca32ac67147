import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { $, type ProcessPromise } from 'zx/core';
import { Secret } from './secrets.ts';
import { Redactor, currentRedactor } from './redact.ts';
import { sleep } from './time.ts';

/** What goes to a child's stdin: secrets are revealed only here, never in argv. */
export type StdinInput = string | Buffer | Secret;

export interface RunOptions {
  stdin?: StdinInput;
  /** Extra environment for the child (merged over the runner's). */
  env?: Record<string, string | undefined>;
  /** Kill the child after this many milliseconds (reported as exit code 124). */
  timeoutMs?: number;
  cwd?: string;
}

export interface RunResult {
  argv: string[];
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/** A long-running child (port-forward, logs -f) with its pid and streams. */
export interface Started {
  argv: string[];
  pid: number | undefined;
  stdout: NodeJS.ReadableStream;
  stderr: NodeJS.ReadableStream;
  /** Resolves when the child exits, with its exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Stops the child by pid (SIGTERM, then SIGKILL after a grace period). */
  stop(): Promise<void>;
}

/**
 * Set in the environment of a process started with `spawnDetached`: it outlives its parent on purpose,
 * so it does not stop when that parent ends (see lib/parent-watch.ts).
 */
export const DETACHED_ENV = 'TASKFLOW_DETACHED';

/** A recorded call, for --verbose echo and for tests that count processes. */
export interface CallRecord {
  argv: string[];
  startedAt: number;
}

export interface RunnerOptions {
  /** Called with each command line (secrets masked) before it starts, e.g. for --verbose. */
  onCommand?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  /** The run's secrets: stdin secrets are remembered and echoed commands masked by it. */
  redactor?: Redactor;
  /** Fault injection (tests): throw an uncaught error after the first long-running child, or the N-th process. */
  crashAfter?: 'start' | number;
}

/**
 * The one place the suite starts processes. Arguments are argv arrays (quoted by
 * zx, never hand-built strings); secrets travel on stdin; every child is tracked
 * and stopped by pid on exit or Ctrl+C.
 */
export class Runner {
  readonly calls: CallRecord[] = [];
  readonly #children = new Set<ProcessPromise>();
  readonly #opts: RunnerOptions;

  /** Remembers the secrets given to children on stdin and masks them in echoed command lines. */
  readonly #redactor: Redactor;

  constructor(opts: RunnerOptions = {}) {
    this.#opts = opts;
    // The run's (runCommand passes it); a runner made outside any run keeps its own.
    this.#redactor = opts.redactor ?? currentRedactor() ?? new Redactor();
  }

  /** The environment the commands run with. */
  get env(): NodeJS.ProcessEnv {
    return this.#opts.env ?? process.env;
  }

  #mask(text: string): string {
    return this.#redactor.redact(text);
  }

  /** Runs a command to completion; never throws for a non-zero exit (callers translate). */
  async run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
    const started = Date.now();
    const p = this.#spawn(argv, opts);
    const out = await p;
    this.#children.delete(p);
    const timedOut =
      opts.timeoutMs !== undefined && out.signal !== null && Date.now() - started >= opts.timeoutMs;
    return {
      argv,
      exitCode: timedOut ? 124 : (out.exitCode ?? 1),
      stdout: out.stdout,
      stderr: out.stderr,
      durationMs: Date.now() - started,
    };
  }

  /**
   * Runs a small read-only command synchronously (ps, lsof: questions asked from synchronous code), with
   * the runner's environment; never throws for a non-zero exit or a missing program (exit code 127).
   */
  runSync(argv: string[], opts: Pick<RunOptions, 'timeoutMs'> = {}): RunResult {
    const [cmd, ...args] = argv;
    if (cmd === undefined) throw new Error('empty command');
    const started = Date.now();
    this.calls.push({ argv, startedAt: started });
    this.#opts.onCommand?.(this.#mask(argv.map(quoteForDisplay).join(' ')));
    const r = spawnSync(cmd, args, {
      encoding: 'utf8',
      env: this.#opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(opts.timeoutMs !== undefined && { timeout: opts.timeoutMs, killSignal: 'SIGKILL' }),
    });
    return {
      argv,
      exitCode: r.error ? 127 : (r.status ?? 1),
      stdout: r.stdout ?? '',
      stderr: r.stderr ?? '',
      durationMs: Date.now() - started,
    };
  }

  /** Starts a long-running command and returns at once. */
  start(argv: string[], opts: RunOptions = {}): Started {
    const p = this.#spawn(argv, opts, TAIL_BYTES);
    if (this.#opts.crashAfter === 'start') this.#injectCrash(argv, 'start');
    const exited = (async (): Promise<number | null> => {
      const o = await p;
      this.#children.delete(p);
      return o.exitCode;
    })();
    return {
      argv,
      pid: p.pid,
      stdout: p.stdout,
      stderr: p.stderr,
      exited,
      stop: () => stopChild(p, exited),
    };
  }

  /**
   * Starts a command that outlives this process (own session, stdio appended to a log file) and returns
   * its pid. It is not tracked: `stopAll` and Ctrl+C leave it running (`port-forward --detach`).
   */
  spawnDetached(
    argv: string[],
    opts: { logFile: string; cwd?: string; env?: Record<string, string | undefined> },
  ): number {
    const [cmd, ...args] = argv;
    if (cmd === undefined) throw new Error('empty command');
    this.calls.push({ argv, startedAt: Date.now() });
    this.#opts.onCommand?.(this.#mask(argv.map(quoteForDisplay).join(' ')));
    const env: NodeJS.ProcessEnv = { ...(this.#opts.env ?? process.env), ...opts.env, [DETACHED_ENV]: '1' };
    for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
    const fd = openSync(opts.logFile, 'a', 0o600);
    try {
      const child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd], cwd: opts.cwd, env });
      child.on('error', () => undefined);
      child.unref();
      if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
      return child.pid;
    } finally {
      closeSync(fd);
    }
  }

  /** Stops every child still running (signal handlers and shutdown call this). */
  async stopAll(): Promise<void> {
    await Promise.all(
      [...this.#children].map((p) =>
        stopChild(
          p,
          p.then((o) => o.exitCode as unknown),
        ),
      ),
    );
    this.#children.clear();
  }

  /** Number of children currently running. */
  get running(): number {
    return this.#children.size;
  }

  #spawn(argv: string[], opts: RunOptions, keepBytes?: number): ProcessPromise {
    if (argv.length === 0) throw new Error('empty command');
    if (opts.stdin instanceof Secret) {
      this.#redactor.add(opts.stdin);
    }
    this.calls.push({ argv, startedAt: Date.now() });
    this.#opts.onCommand?.(this.#mask(argv.map(quoteForDisplay).join(' ')));
    const input = opts.stdin instanceof Secret ? opts.stdin.reveal() : opts.stdin;
    const env = { ...(this.#opts.env ?? process.env), ...opts.env };
    for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
    // zx runs each command inside an AsyncLocalStorage context holding its options, and code continuing
    // from a child's events (a port-forward's "ready" line) inherits that context: every option a
    // command could inherit is therefore given here, so it gets exactly its own (fresh output buffers,
    // its own stdin, closed when it has none).
    const p = $({
      ...ISOLATED,
      input,
      // Without input the child's stdin is /dev/null: it sees end-of-file at once, never a pipe left open.
      stdio: input === undefined ? ['ignore', 'pipe', 'pipe'] : 'pipe',
      env,
      cwd: opts.cwd,
      nothrow: true,
      quiet: true,
      verbose: false,
      // `exec` makes the shell replace itself, so the pid we hold is the tool's own.
      prefix: 'exec ',
      postfix: '',
      timeout: opts.timeoutMs,
      timeoutSignal: 'SIGKILL',
      // A long-running child (a port-forward left for days) keeps only the tail of its output.
      store:
        keepBytes === undefined
          ? undefined
          : { stdout: tailChunks(keepBytes), stderr: tailChunks(keepBytes), stdall: tailChunks(keepBytes) },
    })`${argv}`;
    // A child that exits before reading its stdin (a tool failing on its arguments) makes the write fail
    // with EPIPE; unhandled, that 'error' would end this process. Its exit code already tells the story.
    p.child?.stdin?.on('error', () => undefined);
    this.#children.add(p);
    if (this.#opts.crashAfter === this.calls.length) this.#injectCrash(argv, this.calls.length);
    return p;
  }

  #crashed = false;

  #injectCrash(argv: string[], when: 'start' | number): void {
    if (this.#crashed) return;
    this.#crashed = true;
    setTimeout(() => {
      throw new Error(
        `injected crash (TASKFLOW_TEST_CRASH=${when}) after starting ${argv.slice(0, 2).join(' ')}`,
      );
    }, 100);
  }
}

/** zx options a command must never inherit from the context it was started in (set per command above). */
const ISOLATED = {
  store: undefined,
  input: undefined,
  timeout: undefined,
  signal: undefined,
  ac: undefined,
  halt: false,
  detached: false,
  preferLocal: false,
  sync: false,
  delimiter: undefined,
} as const;

async function stopChild(p: ProcessPromise, exited: Promise<unknown>): Promise<void> {
  const pid = p.pid;
  if (pid === undefined || p.stage !== 'running') {
    await exited.catch(() => undefined);
    return;
  }
  signalPid(pid, 'SIGTERM');
  const done = await Promise.race([exited.then(() => true), sleep(3000).then(() => false)]);
  if (!done) {
    signalPid(pid, 'SIGKILL');
    await exited.catch(() => undefined);
  }
}

/** Output kept in memory for a long-running child: the last 64 KiB of each stream. */
const TAIL_BYTES = 64 * 1024;

/** A chunk array whose push drops the oldest chunks beyond a byte budget (zx reads it as an array). */
export function tailChunks(maxBytes: number): (string | Buffer)[] {
  const arr: (string | Buffer)[] = [];
  let bytes = 0;
  arr.push = (...items: (string | Buffer)[]): number => {
    for (const c of items) {
      Array.prototype.push.call(arr, c);
      bytes += c.length;
    }
    while (bytes > maxBytes && arr.length > 1) bytes -= arr.shift()?.length ?? 0;
    return arr.length;
  };
  return arr;
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Shell-style quoting for echoing a command (display only; never executed). */
export function quoteForDisplay(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Calls `onLine` for each complete line of a stream (and the unterminated rest at its end). */
export function forEachLine(stream: NodeJS.ReadableStream, onLine: (line: string) => void): Promise<void> {
  return new Promise((resolve) => {
    let rest = '';
    stream.on('data', (chunk: Buffer | string) => {
      const text = rest + chunk.toString();
      const lines = text.split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) onLine(l.replace(/\r$/, ''));
    });
    const end = (): void => {
      if (rest !== '') onLine(rest);
      rest = '';
      resolve();
    };
    stream.on('end', end);
    stream.on('close', end);
    stream.on('error', end);
  });
}
