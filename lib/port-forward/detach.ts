import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { commandLine } from '../processes.ts';
import type { ForwardStatus } from './forward.ts';

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
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, file);
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
