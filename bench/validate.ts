/**
 * Benchmark: wall time of an offline `npm run validate -- --json` (no cluster reachable), median of N
 * runs, against `helm template` alone on the same chart with the same values, the runs of each taken in
 * turn. Also shows where the time goes: npm's own start-up (an empty npm script), the same command
 * without npm (the launcher directly), and the checks in-process (no process start at all): validate's
 * own work, whose target is 1.5x one `helm template` (validate renders the chart once and lints that
 * render, so a second helm process would already cost more).
 *
 *   npx tsx bench/validate.ts [--runs N]
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { parseArgs } from 'node:util';
import { runCommand } from '../lib/cli.ts';
import { valuesStdin } from '../lib/helm.ts';
import { createPreflight } from '../lib/preflight/context.ts';
import { VALIDATE_SPEC } from '../lib/preflight/spec.ts';
import { runValidate } from '../lib/preflight/validate.ts';
import { Runner } from '../lib/exec.ts';
import { ensureToolset, repoRoot } from '../test/support/tools.ts';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '10' } } });
const RUNS = Number(args.runs);
const tools = ensureToolset('v35');
const dir = mkdtempSync(path.join(os.tmpdir(), 'tf-bench-validate-'));
const envFile = path.join(dir, 'clean.env');
copyFileSync(path.join(repoRoot, 'test', 'fixtures', 'env', 'clean.env'), envFile);
const env: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  HOME: dir,
  CI: 'true',
  NO_COLOR: '1',
  KUBECTL: tools.kubectl,
  HELM: tools.helm,
  KUBECONFIG: path.join(dir, 'no-kubeconfig'),
  KUBECACHEDIR: path.join(dir, '.kube-cache'),
  HELM_CACHE_HOME: path.join(dir, '.helm', 'cache'),
  HELM_CONFIG_HOME: path.join(dir, '.helm', 'config'),
  HELM_DATA_HOME: path.join(dir, '.helm', 'data'),
};

/** Runs a command to completion and returns its wall time in ms (throws on an unexpected exit code). */
function timed(argv: string[], opts: { stdin?: string; cwd?: string; ok?: number[] } = {}): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] ?? '', argv.slice(1), {
      cwd: opts.cwd ?? repoRoot,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stdout.resume();
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.end(opts.stdin ?? '');
    child.on('error', reject);
    child.on('close', (code) => {
      if (!(opts.ok ?? [0]).includes(code ?? -1))
        reject(new Error(`${argv.join(' ')} exited ${code}: ${stderr}`));
      else resolve(performance.now() - started);
    });
  });
}

/**
 * Runs every measurement once per round, in turn (after one warm-up round: tsx's compile cache, helm's
 * and the OS's file caches, the tool versions validate remembers), so that a machine busy with something
 * else slows them all alike and the ratios compare runs made side by side.
 */
async function rounds<K extends string>(
  measure: Record<K, () => Promise<number>>,
): Promise<Record<K, number[]>> {
  const names = Object.keys(measure) as K[];
  for (const n of names) await measure[n]();
  const out = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<K, number[]>;
  for (let i = 0; i < RUNS; i++) {
    for (const n of names) out[n].push(await measure[n]());
    process.stderr.write(`  round ${i + 1}/${RUNS}\n`);
  }
  return out;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
};
const fmt = (xs: number[]) =>
  `median ${median(xs).toFixed(0)} ms (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)})`;

try {
  const validateArgs = ['--json', '--env-file', envFile];
  // The same values validate sends to helm, so helm renders the same manifests.
  const pre = await createPreflight({
    envFile,
    explicitEnvFile: true,
    env,
    valuesFiles: [],
    chart: path.join(repoRoot, 'charts', 'taskflow'),
    cwd: dir,
    offline: true,
    requireCluster: false,
    runner: new Runner({ env }),
  });
  const values = valuesStdin(pre.values).reveal();
  const chart = path.join(repoRoot, 'charts', 'taskflow');

  // npm's floor: the same npm running a script that does nothing.
  const emptyPkg = path.join(dir, 'empty-package');
  mkdirSync(emptyPkg);
  writeFileSync(
    path.join(emptyPkg, 'package.json'),
    JSON.stringify({ name: 'empty', scripts: { noop: 'true' } }),
  );
  process.stderr.write(`validate benchmark, ${RUNS} rounds (after one warm-up round):\n`);
  const { helm, inProcess, npm, direct, npmFloor } = await rounds({
    helm: () =>
      timed([tools.helm, 'template', 'taskflow', chart, '--namespace', 'taskflow', '-f', '-'], {
        stdin: values,
      }),
    inProcess: async () => {
      const started = performance.now();
      await runCommand(VALIDATE_SPEC, runValidate, {
        argv: validateArgs,
        env,
        stdout: new PassThrough().resume(),
        stderr: new PassThrough().resume(),
        exit: () => undefined,
      });
      return performance.now() - started;
    },
    npm: () => timed(['npm', 'run', '-s', 'validate', '--', ...validateArgs], { ok: [0, 1] }),
    direct: () =>
      timed(
        [process.execPath, '--', path.join(repoRoot, 'scripts', 'run.mjs'), 'preflight', ...validateArgs],
        {
          ok: [0, 1],
        },
      ),
    npmFloor: () => timed(['npm', 'run', '-s', 'noop'], { cwd: emptyPkg }),
  });

  const ratio = median(npm) / median(helm);
  const directRatio = median(direct) / median(helm);
  const ownRatio = median(inProcess) / median(helm);
  const lines = [
    '',
    `helm template alone:                    ${fmt(helm)}`,
    `npm run validate -- --json:             ${fmt(npm)}`,
    `  without npm (node -- scripts/run.mjs): ${fmt(direct)}`,
    `  checks in-process (no start-up):       ${fmt(inProcess)}`,
    `  npm run of an empty script:            ${fmt(npmFloor)}`,
    '',
    `validate's own work (checks in-process) / helm template: ${ownRatio.toFixed(2)}x (target <= 1.5x: ${ownRatio <= 1.5 ? 'met' : 'not met'})`,
    `validate / helm template: ${ratio.toFixed(2)}x (target < 2x: ${ratio < 2 ? 'met' : 'not met'}); without npm ${directRatio.toFixed(2)}x`,
    `npm's own start-up / helm template: ${(median(npmFloor) / median(helm)).toFixed(2)}x (the floor of any npm script)`,
    `validate under 2 s: ${median(npm) < 2000 ? 'met' : 'not met'} (${median(npm).toFixed(0)} ms)`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
