import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type ScriptEnv, type ScriptResult, runScript, scriptEnv } from '../support/e2e.ts';
import { type ToolsetName, toolset } from '../support/tools.ts';

/** One recorded kubectl/helm process: its pid (the wrapper execs the real binary, so the pid stays) and argv. */
export interface RecordedCall {
  pid: number;
  tool: string;
  args: string[];
}

/** A script environment whose kubectl and helm are wrappers that record each process's pid and argv. */
export interface DeployEnv extends ScriptEnv {
  argvLog: string;
  calls(): RecordedCall[];
  /** The raw text of every recorded argv (to search for secrets). */
  argvText(): string;
  kubectl(args: string[]): { code: number | null; stdout: string; stderr: string };
  /** The real helm, not recorded (a change made from outside the suite). */
  helm(args: string[]): { code: number | null; stdout: string; stderr: string };
  deploy(
    args: string[],
    opts?: { timeoutMs?: number; onStarted?: (pid: number) => void },
  ): Promise<ScriptResult>;
  envFile(): string;
}

const SEP = '\u001f';

/** Writes wrappers named kubectl and helm that append `pid<US>tool<US>arg...` lines, then exec the real tool. */
function writeWrappers(
  dir: string,
  t: { kubectl: string; helm: string },
  log: string,
): { kubectl: string; helm: string } {
  mkdirSync(dir, { recursive: true });
  const out = { kubectl: path.join(dir, 'kubectl'), helm: path.join(dir, 'helm') };
  for (const [name, real] of [
    ['kubectl', t.kubectl],
    ['helm', t.helm],
  ] as const) {
    // One line, written by one printf: wrappers started at the same moment must not interleave their lines.
    const script = `#!/bin/sh\nline="$$${SEP}${name}"\nfor a in "$@"; do line="$line${SEP}$a"; done\nprintf '%s\\n' "$line" >> '${log}'\nexec '${real}' "$@"\n`;
    writeFileSync(out[name], script);
    chmodSync(out[name], 0o755);
  }
  return out;
}

/** A script environment for deploy against a kubeconfig, with recording wrappers and an env file. */
export function deployEnv(opts: {
  kubeconfig?: string;
  toolset?: ToolsetName;
  envFile?: string;
  env?: NodeJS.ProcessEnv;
}): DeployEnv {
  const name = opts.toolset ?? 'v35';
  const base = scriptEnv({
    ...(opts.kubeconfig && { kubeconfig: opts.kubeconfig }),
    toolset: name,
    envFile: opts.envFile ?? '',
  });
  const argvLog = path.join(base.cwd, 'argv.log');
  const wrappers = writeWrappers(path.join(base.cwd, 'bin'), toolset(name), argvLog);
  const env = { ...base.env, KUBECTL: wrappers.kubectl, HELM: wrappers.helm, ...opts.env };
  const se: DeployEnv = {
    ...base,
    env,
    argvLog,
    argvText: () => (existsSync(argvLog) ? readFileSync(argvLog, 'utf8') : ''),
    calls: () =>
      se
        .argvText()
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const [pid, tool, ...args] = l.split(SEP);
          return { pid: Number(pid), tool: tool ?? '', args };
        })
        .filter((c) => Number.isInteger(c.pid) && c.pid > 0),
    kubectl: (args) => {
      const r = spawnSync(toolset(name).kubectl, args, { env: base.env, encoding: 'utf8', timeout: 30_000 });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    helm: (args) => {
      const r = spawnSync(toolset(name).helm, args, { env: base.env, encoding: 'utf8', timeout: 120_000 });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    deploy: (args, o = {}) =>
      runScript('deploy-one-command', args, { cwd: base.cwd, env }, { timeoutMs: 90_000, ...o }),
    envFile: () => readFileSync(path.join(base.cwd, '.env'), 'utf8'),
  };
  return se;
}

/** The deploy document at the end of stdout. */
export interface DeployDoc {
  ok: boolean;
  release: string;
  namespace: string;
  revision: number | null;
  durationMs: number;
  services: { name: string; ready: boolean; url: string | null }[];
  failures: {
    id: string;
    object: string | null;
    container: string | null;
    reason: string;
    detail: string;
    logs: string | null;
  }[];
}

/** Parses deploy's --json stdout (it must be exactly one JSON document). */
export function doc(r: ScriptResult): DeployDoc {
  try {
    return JSON.parse(r.stdout) as DeployDoc;
  } catch {
    throw new Error(
      `stdout is not one JSON document (exit ${r.code}):\n${r.stdout}\n--- stderr:\n${r.stderr}`,
    );
  }
}

/** Values of an env file's keys. */
export function envValues(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).replace(/^'|'$/g, '')]),
  );
}

/** Whether a process is still alive. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
