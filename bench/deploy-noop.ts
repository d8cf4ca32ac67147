/**
 * Benchmark: a no-op `npm run deploy` (a deploy with the same settings as the deploy before it, started
 * through the launcher as npm starts it) against a bare `helm upgrade --reuse-values --wait`, on the
 * same simulated cluster, taken in turn (deploy, helm, deploy, helm, ...). The helm upgrades go to a
 * second release of the same chart (namespace bench-noop-helm), installed by the same deploy: an
 * upgrade of the deploy's own release would make a revision the deploy did not make, and the next
 * deploy would rightly compare by rendering (the second figure).
 *
 * Prints every pair, the medians, the median of the pair ratios, the release revision before and after
 * each no-op deploy, then the render path: a deploy after an outside `helm upgrade --reuse-values` of its
 * release (same chart and values, so still nothing to apply, found by helm's server-side dry run).
 *
 *   npx tsx bench/deploy-noop.ts [--runs N]
 */
import { spawn } from 'node:child_process';
import { startKubeSim } from '../test/kube-sim/index.ts';
import { runScript, scriptEnv } from '../test/support/e2e.ts';
import { ensureToolset, repoRoot } from '../test/support/tools.ts';
import path from 'node:path';

const NS = 'bench-noop';
const HELM_NS = 'bench-noop-helm';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] ?? NaN) : ((s[m - 1] ?? NaN) + (s[m] ?? NaN)) / 2;
}

/** Runs a command to its end: exit code, wall milliseconds, output. */
function timed(
  bin: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<{ code: number | null; ms: number; out: string }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, ms: performance.now() - started, out }));
  });
}

async function main(): Promise<void> {
  const runsArg = process.argv.indexOf('--runs');
  const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 9;
  const tools = ensureToolset('v35');
  const sim = await startKubeSim({ scenario: { readyAfterMs: 200 } });
  const se = scriptEnv({ kubeconfig: sim.kubeconfigPath, envFile: `TASKFLOW_NAMESPACE=${NS}\n` });
  try {
    for (const ns of [NS, HELM_NS]) {
      const first = await runScript('deploy-one-command', ['--json', '-n', ns], se, { timeoutMs: 180_000 });
      if (first.code !== 0) throw new Error(`the first deploy failed (exit ${first.code}):\n${first.stderr}`);
    }
    const revision = async () =>
      (
        JSON.parse(
          (await timed(tools.helm, ['status', 'taskflow', '-n', NS, '-o', 'json'], se.env, se.cwd)).out,
        ) as {
          version: number;
        }
      ).version;
    const helmArgs = (ns: string) => [
      'upgrade',
      'taskflow',
      path.join(repoRoot, 'charts', 'taskflow'),
      '--namespace',
      ns,
      '--reuse-values',
      '--wait',
      '--timeout',
      '300s',
    ];
    const deployArgv = [
      process.execPath,
      ['--', path.join(repoRoot, 'scripts', 'run.mjs'), 'deploy-one-command'],
    ] as const;
    // one of each first, not counted: the launcher's bundle cache and helm's caches are warm after it
    await timed(deployArgv[0], [...deployArgv[1]], se.env, se.cwd);
    await timed(tools.helm, helmArgs(HELM_NS), se.env, se.cwd);
    const deploys: number[] = [];
    const helms: number[] = [];
    const ratios: number[] = [];
    const revDeploy: string[] = [];
    for (let i = 0; i < runs; i++) {
      const before = await revision();
      const d = await timed(deployArgv[0], [...deployArgv[1]], se.env, se.cwd);
      if (d.code !== 0) throw new Error(`deploy failed (exit ${d.code}):\n${d.out}`);
      const after = await revision();
      revDeploy.push(`${before}→${after}`);
      const h = await timed(tools.helm, helmArgs(HELM_NS), se.env, se.cwd);
      if (h.code !== 0) throw new Error(`helm upgrade failed (exit ${h.code}):\n${h.out}`);
      deploys.push(d.ms);
      helms.push(h.ms);
      ratios.push(d.ms / h.ms);
      console.log(
        `run ${i + 1}: deploy ${d.ms.toFixed(0)} ms (revision ${before}→${after}), helm upgrade --reuse-values --wait ${h.ms.toFixed(0)} ms, ratio ${(d.ms / h.ms).toFixed(2)}`,
      );
    }
    console.log('');
    console.log(`runs: ${runs} pairs, taken in turn`);
    console.log(
      `no-op npm run deploy:                median ${median(deploys).toFixed(0)} ms (min ${Math.min(...deploys).toFixed(0)}, max ${Math.max(...deploys).toFixed(0)})`,
    );
    console.log(
      `helm upgrade --reuse-values --wait:  median ${median(helms).toFixed(0)} ms (min ${Math.min(...helms).toFixed(0)}, max ${Math.max(...helms).toFixed(0)})`,
    );
    console.log(`ratio deploy/helm, median of pairs:  ${median(ratios).toFixed(2)}x (target at most 1.5x)`);
    console.log(`deploy's revisions (before→after each no-op deploy): ${revDeploy.join(', ')}`);

    // The render path: an outside upgrade of the deploy's release, then a deploy (timed).
    const rendered: number[] = [];
    const revRendered: string[] = [];
    for (let i = 0; i < runs; i++) {
      const h = await timed(tools.helm, helmArgs(NS), se.env, se.cwd);
      if (h.code !== 0) throw new Error(`helm upgrade failed (exit ${h.code}):\n${h.out}`);
      const before = await revision();
      const d = await timed(deployArgv[0], [...deployArgv[1]], se.env, se.cwd);
      if (d.code !== 0) throw new Error(`deploy failed (exit ${d.code}):\n${d.out}`);
      revRendered.push(`${before}→${await revision()}`);
      rendered.push(d.ms);
    }
    console.log('');
    console.log(
      `deploy after an outside helm upgrade (compared by rendering): median ${median(rendered).toFixed(0)} ms (min ${Math.min(...rendered).toFixed(0)}, max ${Math.max(...rendered).toFixed(0)}), ${(median(rendered) / median(helms)).toFixed(2)}x the helm median`,
    );
    console.log(`its revisions (before→after each deploy): ${revRendered.join(', ')}`);
  } finally {
    se.cleanup();
    await sim.stop();
  }
}

await main();
