import { cachedVersion, rememberVersion } from './tool-cache.ts';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { NotReadyError } from './errors.ts';
import type { Runner } from './exec.ts';

export type ToolName = 'kubectl' | 'helm';

export interface ToolInfo {
  name: ToolName;
  path: string;
  version: string;
  major: number;
  minor: number;
}

export interface Tools {
  kubectl: ToolInfo;
  helm: ToolInfo;
}

/** Oldest versions the suite supports: helm 3.13 brought `--dry-run=server` (for `lookup`). */
export const MIN_VERSIONS: Record<ToolName, [number, number]> = { kubectl: [1, 27], helm: [3, 13] };

const ENV_VAR: Record<ToolName, string> = { kubectl: 'KUBECTL', helm: 'HELM' };
const INSTALL_HINT: Record<ToolName, string> = {
  kubectl: 'install kubectl (https://kubernetes.io/docs/tasks/tools/) or set KUBECTL=/path/to/kubectl',
  helm: 'install helm (https://helm.sh/docs/intro/install/) or set HELM=/path/to/helm',
};

/** Where a tool lives: `$KUBECTL`/`$HELM` when set, else the first executable on PATH. */
export function findTool(name: ToolName, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const explicit = env[ENV_VAR[name]];
  if (explicit) return isExecutable(explicit) ? explicit : undefined;
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Parses `v1.35.2`, `v4.1.4+g05fa379` and the like. */
export function parseVersion(text: string): { version: string; major: number; minor: number } | undefined {
  const m = /v?(\d+)\.(\d+)\.(\d+)/.exec(text);
  if (!m) return undefined;
  return { version: `${m[1]}.${m[2]}.${m[3]}`, major: Number(m[1]), minor: Number(m[2]) };
}

/** Whether a version meets the suite's minimum. */
export function isSupported(name: ToolName, major: number, minor: number): boolean {
  const [M, m] = MIN_VERSIONS[name];
  return major > M || (major === M && minor >= m);
}

/** Finds one tool and reads its version; throws NotReadyError (exit 3) with a hint when missing or too old. */
export async function detectTool(
  name: ToolName,
  runner: Runner,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ToolInfo> {
  const p = findTool(name, env);
  if (!p) {
    const where = env[ENV_VAR[name]]
      ? `${ENV_VAR[name]}=${env[ENV_VAR[name]]} is not an executable`
      : `${name} is not on PATH`;
    throw new NotReadyError(`${name} not found: ${where}`, { hint: INSTALL_HINT[name] });
  }
  // A binary asked before reports from the cache (lib/tool-cache.ts): starting kubectl and helm only to
  // print their versions costs every command about a quarter of a second.
  const known = cachedVersion(name, p, env);
  if (known && isSupported(name, known.major, known.minor)) return known;
  const argv = name === 'kubectl' ? [p, 'version', '--client', '-o', 'json'] : [p, 'version', '--short'];
  const res = await runner.run(argv, { timeoutMs: VERSION_TIMEOUT_MS });
  const text = name === 'kubectl' ? extractKubectlVersion(res.stdout) : res.stdout;
  const v = parseVersion(text);
  if (res.exitCode !== 0 || !v) {
    const why =
      res.exitCode === 124
        ? `did not answer \`${name} version\` within ${VERSION_TIMEOUT_MS / 1000} s (a hung binary, or a very slow disk: run it again)`
        : res.exitCode !== 0
          ? `exited with code ${res.exitCode} when asked its version${firstLine(res.stderr)}`
          : 'did not report its version';
    throw new NotReadyError(`${name} at ${p} ${why}`, { hint: INSTALL_HINT[name] });
  }
  if (!isSupported(name, v.major, v.minor)) {
    const [M, m] = MIN_VERSIONS[name];
    throw new NotReadyError(`${name} ${v.version} is too old (need ${M}.${m} or newer)`, {
      hint: INSTALL_HINT[name],
    });
  }
  const info = { name, path: p, ...v };
  rememberVersion(info, env);
  return info;
}

/**
 * How long a tool may take to print its version. Generous: the first start of a 60 MB binary from a
 * cold disk on a loaded machine has taken over 20 s; the answer is remembered afterwards.
 */
const VERSION_TIMEOUT_MS = 60_000;

/** `: <the first non-empty line>` of a tool's error output, or nothing. */
function firstLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim() !== '');
  return line ? `: ${line.trim()}` : '';
}

function extractKubectlVersion(stdout: string): string {
  try {
    const doc = JSON.parse(stdout) as { clientVersion?: { gitVersion?: string } };
    return doc.clientVersion?.gitVersion ?? '';
  } catch {
    return '';
  }
}

/** Finds and checks both tools. */
export async function detectTools(runner: Runner, env: NodeJS.ProcessEnv = process.env): Promise<Tools> {
  const [kubectl, helm] = await Promise.all([
    detectTool('kubectl', runner, env),
    detectTool('helm', runner, env),
  ]);
  return { kubectl, helm };
}
