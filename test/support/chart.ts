import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { valuesStdin } from '../../lib/helm.ts';
import { repoRoot, toolset, type ToolsetName } from './tools.ts';

/** The chart under test. */
export const chartDir = path.join(repoRoot, 'charts', 'taskflow');

/** A rendered Kubernetes object (the fields the chart tests read; the rest stays untyped). */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

export interface RenderOptions {
  /** Values passed on stdin (`-f -`, after the files, so they win). */
  values?: object;
  /** Values files, in order; relative paths are taken from the chart folder. */
  valuesFiles?: string[];
  toolset?: ToolsetName;
  namespace?: string;
  release?: string;
  /** Extra helm arguments, e.g. `--dry-run=server`. */
  args?: string[];
  /** Environment for helm on top of an isolated one (e.g. KUBECONFIG for a stub API server). */
  env?: NodeJS.ProcessEnv;
}

export interface HelmResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

// One private HOME/helm config for every helm this process runs: no user's repositories or plugins leak in.
let isolatedHome: string | undefined;
function helmHome(): string {
  if (!isolatedHome) {
    isolatedHome = mkdtempSync(path.join(os.tmpdir(), 'tf-chart-helm-'));
    const home = isolatedHome;
    process.once('exit', () => rmSync(home, { recursive: true, force: true }));
  }
  return isolatedHome;
}

/** Runs the test helm with argv (never a shell) and optional stdin; resolves with its exit code and output. */
export function runHelm(
  args: string[],
  opts: { stdin?: string; toolset?: ToolsetName; env?: NodeJS.ProcessEnv } = {},
): Promise<HelmResult> {
  const home = helmHome();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    HELM_CACHE_HOME: path.join(home, 'cache'),
    HELM_CONFIG_HOME: path.join(home, 'config'),
    HELM_DATA_HOME: path.join(home, 'data'),
    // No cluster unless a test names one: `lookup` then finds nothing, as under plain `helm template`.
    KUBECONFIG: path.join(home, 'no-kubeconfig'),
    ...opts.env,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(toolset(opts.toolset ?? 'v35').helm, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.stdin ?? '');
  });
}

/** argv and stdin of `helm template` for these options. */
export function templateArgs(opts: RenderOptions): { args: string[]; stdin: string } {
  const args = [
    'template',
    opts.release ?? 'taskflow',
    chartDir,
    '--namespace',
    opts.namespace ?? 'taskflow',
  ];
  for (const f of opts.valuesFiles ?? []) args.push('-f', path.resolve(chartDir, f));
  if (opts.values) args.push('-f', '-');
  args.push(...(opts.args ?? []));
  // Values reach helm on stdin, never through --set (Secret leaves revealed there, as the suite does).
  return { args, stdin: opts.values ? valuesStdin(opts.values).reveal() : '' };
}

/** Parses a multi-document manifest into objects (empty documents dropped). */
export function parseManifest(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null && typeof o === 'object');
}

/** Renders the chart with `helm template` and returns the parsed objects; rejects with helm's stderr on failure. */
export async function renderChart(opts: RenderOptions = {}): Promise<K8sObject[]> {
  const { args, stdin } = templateArgs(opts);
  const r = await runHelm(args, { stdin, toolset: opts.toolset, env: opts.env });
  if (r.code !== 0) throw new Error(`helm template failed (exit ${r.code}):\n${r.stderr}`);
  return parseManifest(r.stdout);
}

/** Renders values that must be rejected and returns helm's stderr; rejects if the chart rendered after all. */
export async function renderError(opts: RenderOptions = {}): Promise<string> {
  const { args, stdin } = templateArgs(opts);
  const r = await runHelm(args, { stdin, toolset: opts.toolset, env: opts.env });
  if (r.code === 0) throw new Error('helm template succeeded, but these values should have been rejected');
  return r.stderr;
}

/** The one object of this kind and name; throws naming what was there instead. */
export function findObject(objects: K8sObject[], kind: string, name: string): K8sObject {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) {
    const have = objects.map((x) => `${x.kind}/${x.metadata.name}`).join(', ');
    throw new Error(`${kind}/${name} not rendered; rendered: ${have}`);
  }
  return o;
}

/** Whether an object of this kind and name was rendered. */
export function hasObject(objects: K8sObject[], kind: string, name: string): boolean {
  return objects.some((x) => x.kind === kind && x.metadata.name === name);
}

/** A Secret's data decoded from base64. */
export function secretData(secret: K8sObject): Record<string, string> {
  const data = (secret.data ?? {}) as Record<string, string>;
  return Object.fromEntries(
    Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
  );
}
