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
    // The simulated cluster's pods run no application unless a scenario gives their image a program
    // (test/standins): a person's journey after each deploy would only fail on those placeholders. The
    // journey's own tests turn it back on (journeyRelease).
    TASKFLOW_VERIFY: 'never',
    ...opts.env,
  };
  return { cwd, env, cleanup: () => rmSync(cwd, { recursive: true, force: true }) };
}

/**
 * The command line `npm run <command>` runs for scripts/<name>.ts, minus npm: this Node, `--` (so
 * Node 20 leaves `--env-file` to the script), the launcher, the script's name and its arguments.
 */
export function scriptArgv(name: string, args: readonly string[]): [string, string[]] {
  return [process.execPath, ['--', path.join(repoRoot, 'scripts', 'run.mjs'), name, ...args]];
}

interface RunOpts {
  stdin?: string;
  timeoutMs?: number;
  onStarted?: (pid: number) => void;
}

/** Runs `scripts/<name>.ts` with args as a child process and collects its output. */
export function runScript(
  name: string,
  args: string[],
  se: Pick<ScriptEnv, 'cwd' | 'env'>,
  opts: RunOpts = {},
): Promise<ScriptResult> {
  return run(...scriptArgv(name, args), se.cwd, se.env, opts);
}

/**
 * Runs npm itself from the repository root, as a user does (`npm run validate -- ...`), with the
 * environment of `se` (its HOME keeps npm's own files out of the user's).
 */
export function runNpm(
  args: string[],
  se: Pick<ScriptEnv, 'env'>,
  opts: RunOpts = {},
): Promise<ScriptResult> {
  return run('npm', args, repoRoot, se.env, opts);
}

function run(
  bin: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  opts: RunOpts,
): Promise<ScriptResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
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
