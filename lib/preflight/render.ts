import { parseManifests } from '../deploy/render.ts';
import type { Values } from '../deploy/plan.ts';
import type { RunResult, Runner } from '../exec.ts';
import { type HelmTarget, valuesYaml } from '../helm.ts';
import type { KubeObject } from '../kubectl.ts';
import { redact } from '../redact.ts';
import { Secret } from '../secrets.ts';

/** What helm is given: the values (on stdin), the chart, the user's -f files, the target. */
export interface ChartInput {
  values: Values;
  chart: string;
  valuesFiles: string[];
  target: HelmTarget;
}

/** A helm run's outcome, its output already redacted. */
export interface ChartRun {
  ok: boolean;
  output: string;
  durationMs: number;
}

/** A render: the objects when helm succeeded. */
export interface Render extends ChartRun {
  objects: KubeObject[];
  /** the YAML did not parse */
  parseError?: string;
}

const TIMEOUT_MS = 60_000;

/** argv of `helm lint --strict` with the values on stdin (pure). */
export function lintArgs(bin: string, input: Omit<ChartInput, 'values'>): string[] {
  const args = [bin, 'lint', input.chart, '--strict', '--namespace', input.target.namespace, '-f', '-'];
  for (const f of input.valuesFiles) args.push('-f', f);
  return args;
}

/** argv of `helm template` with the values on stdin (pure). */
export function templateArgs(bin: string, input: Omit<ChartInput, 'values'>): string[] {
  const args = [bin, 'template', input.target.release, input.chart, '--namespace', input.target.namespace];
  args.push('-f', '-');
  for (const f of input.valuesFiles) args.push('-f', f);
  return args;
}

function outcome(res: RunResult): ChartRun {
  const output = redact(`${res.stderr}\n${res.exitCode === 0 ? '' : res.stdout}`.trim());
  return { ok: res.exitCode === 0, output, durationMs: res.durationMs };
}

/** `helm lint --strict` of the chart with these values. */
export async function lintChart(runner: Runner, bin: string, input: ChartInput): Promise<ChartRun> {
  const res = await runner.run(lintArgs(bin, input), {
    stdin: new Secret(valuesYaml(input.values)),
    timeoutMs: TIMEOUT_MS,
  });
  // With --strict, helm lint prints its findings on stdout; keep them whether it passed or not.
  return { ...outcome(res), output: redact(`${res.stdout}\n${res.stderr}`.trim()) };
}

/** `helm template` of the chart with these values, parsed into objects. */
export async function renderChart(runner: Runner, bin: string, input: ChartInput): Promise<Render> {
  const res = await runner.run(templateArgs(bin, input), {
    stdin: new Secret(valuesYaml(input.values)),
    timeoutMs: TIMEOUT_MS,
  });
  const run = outcome(res);
  if (!run.ok) return { ...run, objects: [] };
  try {
    return { ...run, objects: parseManifests(res.stdout) };
  } catch (err) {
    return { ...run, ok: false, objects: [], parseError: err instanceof Error ? err.message : String(err) };
  }
}

/** The lines of helm's output worth showing: errors and lint findings, at most `max`. */
export function helmFindings(output: string, max = 8): string[] {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /\[(ERROR|WARNING)\]|^Error:|error|failed|^- /i.test(l))
    .filter((l) => !/^\d+ chart\(s\) linted/.test(l));
  const uniq = [...new Set(lines)];
  return uniq.length > max ? [...uniq.slice(0, max), `… ${uniq.length - max} more`] : uniq;
}
