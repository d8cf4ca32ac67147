import { spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { stringify } from 'yaml';
import { type ScriptEnv, type ScriptResult, runScript } from '../support/e2e.ts';
import { repoRoot, toolset } from '../support/tools.ts';

/** Runs the test kubectl against the script environment's kubeconfig. */
export function kubectl(
  se: ScriptEnv,
  args: string[],
): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(toolset('v35').kubectl, args, { env: se.env, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Installs the chart as a release (values on stdin) and waits for it; throws with helm's output on failure. */
export function installRelease(se: ScriptEnv, namespace: string, values: Record<string, unknown> = {}): void {
  const r = spawnSync(
    toolset('v35').helm,
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
    { env: se.env, input: stringify(values), encoding: 'utf8', timeout: 150_000 },
  );
  if (r.status !== 0) throw new Error(`helm install failed:\n${r.stdout}\n${r.stderr}`);
}

/** HTTP status of GET / on a local port, or undefined when nothing answers. */
export function httpStatus(port: number, timeoutMs = 1000): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('timeout', () => {
      req.destroy();
      resolve(undefined);
    });
    req.on('error', () => resolve(undefined));
  });
}

/** A script running in the background (a foreground port-forward), with its output so far. */
export interface Running {
  pid: number;
  output(): string;
  /** Sends a signal and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

const TSX = path.join(repoRoot, 'node_modules', '.bin', 'tsx');

/** Starts `scripts/<name>.ts` and returns at once (the pid is tsx's; it relays SIGINT/SIGTERM to the script). */
export function startScript(name: string, args: string[], se: Pick<ScriptEnv, 'cwd' | 'env'>): Running {
  const child = spawn(TSX, [path.join(repoRoot, 'scripts', `${name}.ts`), ...args], {
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

/** Whether a process is alive. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
