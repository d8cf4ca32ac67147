// Helpers for the simulated cluster's own tests: polling, long-running kubectl children.
import { spawn, type ChildProcess } from 'node:child_process';
import { toolset, type ToolsetName } from '../support/tools.ts';
import type { KubeSim } from './index.ts';

/** Polls `fn` until it returns a truthy value (or throws after `timeoutMs`). */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<Exclude<T, false | null | undefined | 0 | ''>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as Exclude<T, false | null | undefined | 0 | ''>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A kubectl child that keeps running (watch, follow, port-forward), with its output so far. */
export interface Running {
  child: ChildProcess;
  out(): string;
  err(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

/** Starts a long-running kubectl of a toolset against the simulated cluster. */
export function startKubectl(sim: Pick<KubeSim, 'env'>, args: string[], ts: ToolsetName = 'v35'): Running {
  const child = spawn(toolset(ts).kubectl, args, { env: sim.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    out: () => out,
    err: () => err,
    exited,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Parses kubectl's JSON output. */
export function json<T = Record<string, unknown>>(r: { stdout: string }): T {
  return JSON.parse(r.stdout) as T;
}
