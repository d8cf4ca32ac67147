import { readFileSync, readdirSync } from 'node:fs';
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { stringify } from 'yaml';
import { isAlive } from '../../lib/forward-background.ts';
import { type ScriptEnv, type ScriptResult, runScript, scriptArgv } from '../support/e2e.ts';
import { repoRoot, toolset } from '../support/tools.ts';

/** Runs a tool to completion without blocking (the simulated cluster serves from this same process). */
export function tool(
  bin: string,
  args: string[],
  se: Pick<ScriptEnv, 'env'>,
  input?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env: se.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.end(input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs the environment's kubectl (the test toolset's) against its kubeconfig. */
export function kubectl(
  se: ScriptEnv,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return tool(se.env.KUBECTL ?? toolset('v35').kubectl, args, se);
}

/** Installs the chart with the environment's helm (values on stdin) and waits; throws with helm's output on failure. */
export async function installRelease(
  se: ScriptEnv,
  namespace: string,
  values: Record<string, unknown> = {},
): Promise<void> {
  const r = await tool(
    se.env.HELM ?? toolset('v35').helm,
    [
      'upgrade',
      '--install',
      'taskflow',
      path.join(repoRoot, 'charts', 'taskflow'),
      '-n',
      namespace,
      '--create-namespace',
      '-f',
      '-',
      '--wait',
      '--timeout',
      '120s',
    ],
    se,
    stringify(values),
  );
  if (r.code !== 0) throw new Error(`helm install failed:\n${r.stdout}\n${r.stderr}`);
}

/** Status and body of GET / on a local port, or undefined when nothing answers. */
export function httpGet(
  port: number,
  timeoutMs = 1000,
): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => {
      req.destroy();
      resolve(undefined);
    });
    req.on('error', () => resolve(undefined));
  });
}

/** HTTP status of GET / on a local port, or undefined when nothing answers. */
export async function httpStatus(port: number, timeoutMs = 1000): Promise<number | undefined> {
  return (await httpGet(port, timeoutMs))?.status;
}

/** A script running in the background (a foreground port-forward), with its output so far. */
export interface Running {
  pid: number;
  output(): string;
  /** Sends a signal and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

/** Starts `scripts/<name>.ts` and returns at once (the pid is the script's own Node process). */
export function startScript(name: string, args: string[], se: Pick<ScriptEnv, 'cwd' | 'env'>): Running {
  const child = spawn(...scriptArgv(name, args), {
    cwd: se.cwd,
    env: se.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) =>
    child.on('close', (code, sig) => r(code ?? (sig ? 128 : null))),
  );
  return {
    pid: child.pid!,
    output: () => out,
    exited,
    stop: async (signal = 'SIGINT') => {
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Runs a script to completion (see runScript), with a default timeout fit for cluster calls. */
export function run(name: string, args: string[], se: Pick<ScriptEnv, 'cwd' | 'env'>): Promise<ScriptResult> {
  return runScript(name, args, se, { timeoutMs: 120_000 });
}

/** Whether a process is alive (a zombie waiting to be reaped counts as gone). */
export const alive = isAlive;

/** stdout of a kubectl call (trimmed). */
export async function kubectlOut(se: ScriptEnv, args: string[]): Promise<string> {
  return (await kubectl(se, args)).stdout.trim();
}

/** The pids whose parent is `pid` (Linux /proc; the test machine's): the children a command started. */
export function childPids(pid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}
