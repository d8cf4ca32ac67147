import { abortableSleep as sleep } from './time.ts';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { commandLine, isZombie } from './processes.ts';
import type { ForwardStatus } from './forward-targets.ts';
import type { CommandContext } from './cli.ts';
import { REPO_ROOT } from './context.ts';
import { OperationError, UsageError } from './errors.ts';
import type { HelmTarget } from './helm.ts';
import { printJson } from './log.ts';
import type { PortAssignment } from './forward-targets.ts';
import { npmRun } from './suggest.ts';

/** Where a detached port-forward keeps its pid, log and state (under `.taskflow/` of the working dir). */
export interface DetachPaths {
  pidFile: string;
  logFile: string;
  stateFile: string;
}

/** The word every detached child's command line holds (checked before signalling a pid). */
export const DETACHED_MARK = 'port-forward-all';

/** Env vars a detached child reads: where to report its state, and its own pid file. */
export const STATE_ENV = 'TASKFLOW_PORT_FORWARD_STATE';
export const PIDFILE_ENV = 'TASKFLOW_PORT_FORWARD_PIDFILE';

/**
 * `.taskflow/port-forward-<namespace>.pid` for the whole set; a subset (an add-on's forward) gets
 * `port-forward-<namespace>@<names>.pid`, so both can run side by side.
 */
export function detachPaths(dir: string, namespace: string, only?: readonly string[]): DetachPaths {
  const base = `port-forward-${namespace}${only && only.length > 0 ? `@${[...only].sort().join(',')}` : ''}`;
  const at = (ext: string): string => path.join(dir, `${base}.${ext}`);
  return { pidFile: at('pid'), logFile: at('log'), stateFile: at('state.json') };
}

/** Every pid file of a namespace's detached forwards (the whole set and any subset). */
export function pidFilesOf(dir: string, namespace: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const whole = `port-forward-${namespace}.pid`;
  const subset = `port-forward-${namespace}@`;
  return names
    .filter((n) => n === whole || (n.startsWith(subset) && n.endsWith('.pid')))
    .map((n) => path.join(dir, n))
    .sort();
}

/** The pid in a pid file, or undefined (missing or garbled). */
export function readPidFile(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Writes a file atomically (a reader never sees half of it), creating its folder. */
export function writeAtomic(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic.sync(file, text, { mode: 0o600 });
}

/** Whether `pid` is a live detached port-forward of this suite (never signal anyone else's process). */
export function isDetachedForward(
  pid: number,
  readCommandLine: (pid: number) => string | undefined = (p) => commandLine(p),
): boolean {
  const cmd = readCommandLine(pid);
  return cmd !== undefined && cmd.includes(DETACHED_MARK);
}

/** What a detached child reports in its state file. */
export interface DetachedState {
  pid: number;
  forwards: ForwardStatus[];
}

/** Reads a state file, or undefined while it is not there yet. */
export function readState(file: string): DetachedState | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as DetachedState;
  } catch {
    return undefined;
  }
}

/**
 * The forwards the namespace's detached port-forwards serve now (every live run, the whole set and any
 * subset), from their state files; none when there is no such run.
 */
export function detachedForwards(namespace: string, cwd = process.cwd()): ForwardStatus[] {
  return pidFilesOf(stateDir(cwd), namespace).flatMap((pidFile) => {
    const pid = readPidFile(pidFile);
    if (pid === undefined || !isAlive(pid) || !isDetachedForward(pid)) return [];
    return readState(stateFileOf(pidFile))?.forwards ?? [];
  });
}

/** A live detached port-forward of a namespace: its pid, and the targets it forwards (undefined: all). */
export interface RunningForward {
  pid: number;
  only?: string[];
}

/**
 * The namespace's live detached port-forward that a new run of `only` (undefined: every target) would
 * clash with: the same set, the whole set, or a subset sharing a target. Its pid file names its targets.
 */
export function runningForwardOf(
  namespace: string,
  only?: readonly string[],
  dir = stateDir(),
): RunningForward | undefined {
  const prefix = `port-forward-${namespace}@`;
  for (const pidFile of pidFilesOf(dir, namespace)) {
    const pid = readPidFile(pidFile);
    if (pid === undefined || !isAlive(pid) || !isDetachedForward(pid)) continue;
    const base = path.basename(pidFile, '.pid');
    const theirs = base.startsWith(prefix) ? base.slice(prefix.length).split(',') : undefined;
    if (!only || !theirs || theirs.some((t) => only.includes(t))) {
      return { pid, ...(theirs && { only: theirs }) };
    }
  }
  return undefined;
}

/**
 * The refusal when such a run is there already (exit 2: nothing was tried, and running it again changes
 * nothing until that one stops), naming the command that stops it.
 */
export function alreadyRunning(run: RunningForward, stopArgs: readonly string[] = []): UsageError {
  const what = run.only ? ` (${run.only.join(', ')})` : '';
  return new UsageError(
    `port-forward is already running${what} (pid ${run.pid}): ${npmRun('port-forward', '--stop', ...stopArgs)}`,
    { hint: 'it keeps forwarding until stopped; stop it with that command first to forward again' },
  );
}

/** Removes a detached run's files (pid, state); the log stays for reading. */
export function removeRunFiles(paths: Pick<DetachPaths, 'pidFile' | 'stateFile'>): void {
  for (const f of [paths.pidFile, paths.stateFile]) if (existsSync(f)) rmSync(f, { force: true });
}

/** The state file next to a pid file. */
export function stateFileOf(pidFile: string): string {
  return pidFile.replace(/\.pid$/, '.state.json');
}

/** The last lines of a log file (what a detached child said before it died). */
export function tailOf(file: string, lines = 5): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** The entry every npm script runs (scripts/run.mjs); a detached run re-launches port-forward-all through it. */
export const LAUNCHER = path.join(REPO_ROOT, 'scripts', 'run.mjs');

/** The `.taskflow/` folder of the working directory. */
export function stateDir(cwd = process.cwd()): string {
  return path.join(cwd, '.taskflow');
}

/** Whether a process is alive: signal 0 reaches it and it is not a zombie waiting to be reaped. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return !isZombie(pid);
}

/** argv of the background child: this same Node running the port-forward script through the launcher. */
export function detachedArgv(
  target: HelmTarget,
  assignments: readonly PortAssignment[],
  envFile?: string,
): string[] {
  return [
    process.execPath,
    '--',
    LAUNCHER,
    'port-forward-all',
    '-n',
    target.namespace,
    '--release',
    target.release,
    ...(target.context ? ['--context', target.context] : []),
    ...(envFile ? ['--env-file', path.resolve(envFile)] : []),
    '--only',
    assignments.map((a) => a.target.name).join(','),
    '--ports',
    assignments.map((a) => `${a.target.name}=${a.localPort}`).join(','),
  ];
}

export interface BackgroundOptions {
  target: HelmTarget;
  assignments: readonly PortAssignment[];
  /** The user's --only (names the pid file), undefined for the whole set. */
  only?: readonly string[];
  envFile?: string;
  dir?: string;
  waitMs?: number;
  /** How the user names this release to `--stop` (e.g. `-n NAME`), for the refusal. */
  stopArgs?: readonly string[];
}

/** A background run that has been started. */
export interface Launched {
  pid: number;
  forwards: ForwardStatus[];
  logFile: string;
}

/**
 * `--detach`: starts the port-forward again in the background (own session, log under `.taskflow/`),
 * writes its pid file and waits until every forward is ready or failed (or the wait ends).
 */
export async function launchBackground(ctx: CommandContext, opts: BackgroundOptions): Promise<Launched> {
  const dir = opts.dir ?? stateDir();
  const paths = detachPaths(dir, opts.target.namespace, opts.only);
  const running = readPidFile(paths.pidFile);
  if (running !== undefined && isAlive(running) && isDetachedForward(running)) {
    throw alreadyRunning(
      { pid: running, ...(opts.only && { only: [...opts.only] }) },
      opts.stopArgs ?? ['-n', opts.target.namespace],
    );
  }
  removeRunFiles(paths);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const pid = ctx.runner.spawnDetached(detachedArgv(opts.target, opts.assignments, opts.envFile), {
    logFile: paths.logFile,
    env: { [STATE_ENV]: paths.stateFile, [PIDFILE_ENV]: paths.pidFile, CI: '1' },
  });
  writeAtomic(paths.pidFile, `${pid}\n`);
  const deadline = Date.now() + (opts.waitMs ?? 60_000);
  const logFile = path.relative(process.cwd(), paths.logFile);
  let state: DetachedState | undefined;
  for (;;) {
    state = readState(paths.stateFile);
    const settled = state?.forwards.every((f) => f.state === 'ready' || f.state === 'failed');
    if (state && state.forwards.length === opts.assignments.length && settled) break;
    if (!isAlive(pid)) {
      removeRunFiles(paths);
      const last = tailOf(paths.logFile, 3).split('\n').filter(Boolean).pop() ?? 'no output';
      throw new OperationError(`the background port-forward stopped at once: ${last.replace(/^✗ /, '')}`, {
        hint: `read its log: ${logFile}`,
      });
    }
    if (Date.now() > deadline || ctx.signal.aborted) break;
    await sleep(100);
  }
  return { pid, forwards: state?.forwards ?? [], logFile };
}

/** Reports a background run: each forward, the pid, the log, how to stop it; exit 1 if one is not ready. */
export function reportBackground(
  ctx: CommandContext,
  where: { context: string | null; namespace: string },
  run: Launched,
  json: boolean,
): number {
  const { namespace } = where;
  const failed = run.forwards.filter((f) => f.state !== 'ready');
  if (json) {
    printJson(
      {
        ok: failed.length === 0,
        pid: run.pid,
        context: where.context,
        namespace,
        logFile: run.logFile,
        forwards: brief(run.forwards),
      },
      ctx.stdout,
    );
  } else {
    for (const f of run.forwards) {
      const line = `${f.name.padEnd(8)} ${f.url}  ${f.state}${f.detail ? `: ${f.detail}` : ''}`;
      if (f.state === 'ready') ctx.log.success(line);
      else ctx.log.warn(line);
    }
    ctx.log.info(`port-forward runs in the background (pid ${run.pid}); log: ${run.logFile}`);
    ctx.log.info(`stop it with: ${npmRun('port-forward', '--stop', '-n', namespace)}`);
  }
  return failed.length === 0 ? 0 : 1;
}

/** The fields of a forward's status that --json documents carry. */
export function brief(forwards: readonly ForwardStatus[]): Record<string, unknown>[] {
  return forwards.map((f) => ({
    name: f.name,
    service: f.service,
    localPort: f.localPort,
    remotePort: f.remotePort,
    url: f.url,
    state: f.state,
    detail: f.detail,
    restarts: f.restarts,
  }));
}

/** A detached run that `--stop` ended (or found gone). */
export interface Stopped {
  pid: number | undefined;
  pidFile: string;
  /** false: the pid file was stale (process gone, or not ours) and was only removed. */
  signalled: boolean;
}

/**
 * `--stop`: ends the namespace's detached forwards (or only the subset `only`) by their pid files.
 * A pid is signalled only if it is alive and its command line is ours; stale files are removed.
 */
export async function stopBackground(
  namespace: string,
  opts: { only?: readonly string[]; dir?: string; graceMs?: number } = {},
): Promise<Stopped[]> {
  const dir = opts.dir ?? stateDir();
  const files = opts.only ? [detachPaths(dir, namespace, opts.only).pidFile] : pidFilesOf(dir, namespace);
  const out: Stopped[] = [];
  for (const pidFile of files) {
    const pid = readPidFile(pidFile);
    const ours = pid !== undefined && isAlive(pid) && isDetachedForward(pid);
    if (ours) await terminate(pid, opts.graceMs ?? 5000);
    if (pid !== undefined || ours) out.push({ pid, pidFile, signalled: ours });
    removeRunFiles({ pidFile, stateFile: stateFileOf(pidFile) });
  }
  return out;
}

/** SIGTERM, wait for the exit, SIGKILL after the grace period. */
async function terminate(pid: number, graceMs: number): Promise<void> {
  process.kill(pid, 'SIGTERM');
  const until = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < until) await sleep(50);
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
}
