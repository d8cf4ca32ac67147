import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot, toolset, type ToolsetName } from './tools.ts';

export interface ScriptResult {
  code: number | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export interface ScriptEnv {
  /** Working directory (holds the .env file); a fresh temp dir by default. */
  cwd: string;
  env: NodeJS.ProcessEnv;
  cleanup(): void;
}

/**
 * An environment for running the suite's scripts as a user would: its own cwd
 * (with an optional .env), the test kubectl/helm as KUBECTL/HELM, and the
 * kubeconfig of a simulated cluster when given.
 */
export function scriptEnv(
  opts: { kubeconfig?: string; toolset?: ToolsetName; envFile?: string; env?: NodeJS.ProcessEnv } = {},
): ScriptEnv {
  const cwd = mkdtempSync(path.join(os.tmpdir(), 'tf-e2e-'));
  if (opts.envFile !== undefined) writeFileSync(path.join(cwd, '.env'), opts.envFile, { mode: 0o600 });
  const t = toolset(opts.toolset ?? 'v35');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: cwd,
    CI: 'true',
    NO_COLOR: '1',
    KUBECTL: t.kubectl,
    HELM: t.helm,
    KUBECACHEDIR: path.join(cwd, '.kube-cache'),
    HELM_CACHE_HOME: path.join(cwd, '.helm', 'cache'),
    HELM_CONFIG_HOME: path.join(cwd, '.helm', 'config'),
    HELM_DATA_HOME: path.join(cwd, '.helm', 'data'),
    ...(opts.kubeconfig ? { KUBECONFIG: opts.kubeconfig } : { KUBECONFIG: path.join(cwd, 'no-kubeconfig') }),
    ...opts.env,
  };
  return { cwd, env, cleanup: () => rmSync(cwd, { recursive: true, force: true }) };
}

const TSX = path.join(repoRoot, 'node_modules', '.bin', 'tsx');

/** Runs `scripts/<name>.ts` with args as a child process and collects its output. */
export function runScript(
  name: string,
  args: string[],
  se: Pick<ScriptEnv, 'cwd' | 'env'>,
  opts: { stdin?: string; timeoutMs?: number; onStarted?: (pid: number) => void } = {},
): Promise<ScriptResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [path.join(repoRoot, 'scripts', `${name}.ts`), ...args], {
      cwd: se.cwd,
      env: se.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    if (child.pid) opts.onStarted?.(child.pid);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    if (opts.stdin !== undefined) child.stdin.end(opts.stdin);
    else child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, durationMs: Date.now() - started });
    });
  });
}
