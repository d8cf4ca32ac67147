import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, readdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { processStart } from '../../lib/processes.ts';
import type { ScriptEnv } from './e2e.ts';
import { repoRoot } from './tools.ts';

/**
 * `npm run <command>` started as a user starts it, in its own session (the way a CI job, a process
 * manager or `setsid` starts it), so a signal can be sent to npm alone and every process it led to can be
 * found by session and checked by pid afterwards.
 */

/** A process seen at one moment: its pid, its start time (a reused pid is another process), its argv. */
export interface SeenProcess {
  pid: number;
  start: number;
  argv: string[];
}

function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Every live process of a session (Linux /proc: the test machine's). */
export function sessionProcesses(sid: number): SeenProcess[] {
  const out: SeenProcess[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const f = statFields(Number(d));
    // after "pid (comm) ": state, ppid, pgrp, session, ...; the start time is the 20th
    if (!f || Number(f[3]) !== sid || f[0] === 'Z') continue;
    let argv: string[] = [];
    try {
      argv = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').filter(Boolean);
    } catch {
      continue;
    }
    out.push({ pid: Number(d), start: Number(f[19]), argv });
  }
  return out;
}

/** Those of `seen` that still run (same pid, same start time, not a zombie). */
export function stillRunning(seen: readonly SeenProcess[]): SeenProcess[] {
  return seen.filter((p) => processStart(p.pid) === p.start);
}

/** A readable line per process, for assertion messages. */
export function listProcesses(ps: readonly SeenProcess[]): string {
  return ps.map((p) => `${p.pid} ${p.argv.join(' ').slice(0, 120)}`).join('\n');
}

export interface NpmRun {
  /** npm's pid, which is also the session id. */
  npmPid: number;
  child: ChildProcess;
  /** stdout and stderr so far, of npm and of everything that inherited its streams. */
  output(): string;
  /** npm's exit: its code, or the signal that ended it. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The command's own process: the launcher, `node -- scripts/run.mjs <script>`, when it runs. */
  commandPid(): number | undefined;
  /** Every process of its session now. */
  processes(): SeenProcess[];
}

/**
 * The working folder of a user's checkout, as `npm run` sees it: the repository's own package.json and
 * scripts/ linked into `se.cwd` (which holds the run's .env), so npm runs the real script lines there.
 */
export function linkCheckout(se: Pick<ScriptEnv, 'cwd'>): void {
  for (const name of ['package.json', 'scripts']) {
    try {
      symlinkSync(path.join(repoRoot, name), path.join(se.cwd, name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

/** Starts `npm run <script> -- <args>` in `se.cwd` (see linkCheckout) and returns at once. */
export function startNpm(
  script: string,
  args: readonly string[],
  se: Pick<ScriptEnv, 'cwd' | 'env'>,
): NpmRun {
  linkCheckout(se);
  const child = spawn('npm', ['run', script, '--', ...args], {
    cwd: se.cwd,
    env: se.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const npmPid = child.pid ?? 0;
  const processes = (): SeenProcess[] => sessionProcesses(npmPid);
  return {
    npmPid,
    child,
    output: () => out,
    exited,
    processes,
    commandPid: () =>
      processes().find((p) => p.argv.some((a) => a.endsWith(path.join('scripts', 'run.mjs'))))?.pid,
  };
}
