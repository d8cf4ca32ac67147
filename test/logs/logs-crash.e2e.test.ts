// `npm run logs -- api` on a crash-looping API (the simulated cluster's `crash` state, real kubectl and
// helm): piped, it shows the container's previous run (named so) beside its current one, not just the
// init container's lines; --previous names its lines too, --json marks them; following (what a terminal
// gets) shows the previous run first and then each new run as it starts. stdout holds log lines only.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeSim } from '../kube-sim/index.ts';
import { waitFor } from '../kube-sim/test-helpers.ts';
import { type ScriptEnv, scriptEnv } from '../support/e2e.ts';
import { repoRoot, toolset } from '../support/tools.ts';
import { kubectlOut, run, startScript, tool } from '../port-forward/e2e-helpers.ts';

const NS = 'tf-crash';
const ERROR = 'psycopg.OperationalError: password authentication failed for user "taskflow_user"';
const TRACEBACK = [
  'Traceback (most recent call last):',
  '  File "/app/main.py", line 12, in <module>',
  ERROR,
];

interface Record {
  component: string;
  container: string;
  line: string;
  previous?: boolean;
}

describe('npm run logs on a crash-looping container', () => {
  let sim: Awaited<ReturnType<typeof startKubeSim>>;
  let se: ScriptEnv;
  let suffix = '';

  beforeAll(async () => {
    sim = await startKubeSim({
      scenario: {
        readyAfterMs: 100,
        // Each run prints its traceback and keeps running 1.5 s before it exits: the container is
        // sometimes running (a current run to read) and sometimes waiting in CrashLoopBackOff.
        images: { 'taskflow/api': { state: 'crash', exitCode: 1, runMs: 1500, logs: TRACEBACK.join('\n') } },
      },
    });
    se = scriptEnv({ kubeconfig: sim.kubeconfigPath, envFile: `TASKFLOW_NAMESPACE=${NS}\n` });
    // No --wait: the API never gets ready.
    const r = await tool(
      se.env.HELM ?? toolset('v35').helm,
      [
        'upgrade',
        '--install',
        'taskflow',
        path.join(repoRoot, 'charts', 'taskflow'),
        '-n',
        NS,
        '--create-namespace',
      ],
      se,
    );
    if (r.code !== 0) throw new Error(`helm install failed:\n${r.stdout}\n${r.stderr}`);
    const apiRestarts = async (): Promise<number> =>
      Number(
        (await kubectlOut(se, [
          'get',
          'pods',
          '-n',
          NS,
          '-l',
          'app.kubernetes.io/component=api',
          '-o',
          'jsonpath={.items[0].status.containerStatuses[0].restartCount}',
        ])) || 0,
      );
    await waitFor(async () => (await apiRestarts()) >= 2, 90_000, 'two restarts of the API');
    const name = await kubectlOut(se, [
      'get',
      'pods',
      '-n',
      NS,
      '-l',
      'app.kubernetes.io/component=api',
      '-o',
      'name',
    ]);
    suffix = name.replace('pod/taskflow-api-', '');
  }, 120_000);
  afterAll(async () => {
    se?.cleanup();
    await sim?.stop();
  });

  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

  it('piped: the previous run named as such, the current run when there is one, log lines only on stdout', async () => {
    const seen = { previous: false, current: false };
    // The container alternates between running and waiting: read until both kinds of run were shown.
    await expect
      .poll(
        async () => {
          const r = await run('logs', ['api'], se);
          expect(r.code, r.stderr).toBe(0);
          // Only log lines on stdout: the context line and notes go to stderr.
          for (const l of r.stdout.trimEnd().split('\n')) expect(l).toMatch(/^api\/\S+( \(previous\))? +\| /);
          expect(r.stdout).toMatch(new RegExp(`^api/${esc(suffix)}:wait-for-db +\\| Running sh -c`, 'm'));
          if (new RegExp(`^api/${esc(suffix)} \\(previous\\) +\\| ${esc(ERROR)}$`, 'm').test(r.stdout))
            seen.previous = true;
          else throw new Error(`no previous run in:\n${r.stdout}\n${r.stderr}`);
          if (new RegExp(`^api/${esc(suffix)} +\\| ${esc(ERROR)}$`, 'm').test(r.stdout)) seen.current = true;
          // The lines of one run keep their order.
          const prev = [
            ...r.stdout.matchAll(new RegExp(`^api/${esc(suffix)} \\(previous\\) +\\| (.*)$`, 'gm')),
          ];
          expect(prev.map((m) => m[1])).toEqual(TRACEBACK);
          return seen.previous && seen.current;
        },
        { timeout: 60_000, interval: 200 },
      )
      .toBe(true);
  }, 120_000);

  it('--previous: only the previous runs, named as such; --json marks their records', async () => {
    const r = await run('logs', ['api', '--previous'], se);
    expect(r.code, r.stderr).toBe(0);
    const main = r.stdout.split('\n').filter((l) => l.startsWith(`api/${suffix} `));
    expect(main.map((l) => l.replace(/^\S+ \(previous\) +\| /, ''))).toEqual(TRACEBACK);
    const j = await run('logs', ['api', '--json'], se);
    expect(j.code, j.stderr).toBe(0);
    const records = j.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record);
    const previous = records.filter((x) => x.previous === true);
    expect(previous.map((x) => [x.container, x.line])).toEqual(TRACEBACK.map((l) => ['taskflow-api', l]));
    for (const x of records.filter((x) => x.previous === undefined)) {
      expect(Object.keys(x)).toEqual(['time', 'component', 'pod', 'container', 'line']);
    }
  });

  it('following (a terminal’s default): the previous run first, then each new run as it starts', async () => {
    const f = startScript('logs', ['api', '--follow'], se);
    try {
      await expect
        .poll(() => f.output(), { timeout: 30_000, interval: 100 })
        .toMatch(new RegExp(`^api/${esc(suffix)} \\(previous\\) +\\| ${esc(ERROR)}$`, 'm'));
      // A restart within the back-off (2 s at most): its traceback arrives as the current run.
      await expect
        .poll(() => f.output(), { timeout: 30_000, interval: 100 })
        .toMatch(new RegExp(`^api/${esc(suffix)} +\\| ${esc(ERROR)}$`, 'm'));
      const out = f.output();
      expect(out.indexOf(`api/${suffix} (previous)`)).toBeLessThan(
        out.search(new RegExp(`^api/${esc(suffix)} +\\|`, 'm')),
      );
    } finally {
      expect(await f.stop('SIGINT')).toBe(130);
    }
  }, 90_000);
});
