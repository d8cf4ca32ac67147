/**
 * Benchmark: how fast deploy stops after a container enters CrashLoopBackOff, and how many kubectl/helm
 * processes one deploy starts for 6 and for 30 components (on the simulated cluster).
 *
 *   npx tsx bench/deploy-failfast.ts [--runs N]
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startKubeSim } from '../test/kube-sim/index.ts';
import { deployEnv, type DeployEnv, type RecordedCall } from '../test/deploy/e2e-support.ts';
import { ensureToolset } from '../test/support/tools.ts';

const CRASH = 'fail/crash';
const POLL = 'pods,replicasets,deployments,statefulsets,jobs,pvc';

/** A chart with `n` Deployments (one component each); the one named in `crash` runs the crashing image. */
function syntheticChart(dir: string, n: number, crash?: number): string {
  const chart = path.join(dir, `bench-${n}`);
  mkdirSync(path.join(chart, 'templates'), { recursive: true });
  writeFileSync(path.join(chart, 'Chart.yaml'), `apiVersion: v2\nname: bench\nversion: 0.1.0\n`);
  const comps = Array.from(
    { length: n },
    (_, i) => `  - { name: c${String(i).padStart(2, '0')}, image: "${i === crash ? CRASH : 'bench/app'}" }`,
  );
  writeFileSync(path.join(chart, 'values.yaml'), `components:\n${comps.join('\n')}\n`);
  writeFileSync(
    path.join(chart, 'templates', 'deployments.yaml'),
    `{{- range .Values.components }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .name }}
  labels: { app.kubernetes.io/instance: {{ $.Release.Name }}, app.kubernetes.io/component: {{ .name }} }
spec:
  replicas: 1
  selector: { matchLabels: { app.kubernetes.io/instance: {{ $.Release.Name }}, app.kubernetes.io/component: {{ .name }} } }
  template:
    metadata:
      labels: { app.kubernetes.io/instance: {{ $.Release.Name }}, app.kubernetes.io/component: {{ .name }} }
    spec:
      containers:
        - { name: {{ .name }}, image: "{{ .image }}:1", ports: [{ containerPort: 8080 }] }
{{- end }}
`,
  );
  return chart;
}

/** Follows the namespace's pods with one `kubectl get --watch` and resolves when a container enters CrashLoopBackOff. */
function watchForCrashLoop(
  se: DeployEnv,
  kubectl: string,
  ns: string,
): { at: Promise<number>; stop(): void } {
  const child = spawn(kubectl, ['get', 'pods', '-n', ns, '--watch', '-o', 'json'], { env: se.env });
  let buf = '';
  const at = new Promise<number>((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      if (/"reason":\s*"CrashLoopBackOff"/.test(buf)) resolve(Date.now());
      if (buf.length > 1_000_000) buf = buf.slice(-100_000);
    });
  });
  return { at, stop: () => child.kill('SIGTERM') };
}

interface Measure {
  label: string;
  components: number;
  code: number | null;
  crashToExitMs?: number;
  totalMs: number;
  processes: number;
  polls: number;
  helm: number;
}

function count(calls: RecordedCall[]): { processes: number; polls: number; helm: number } {
  return {
    processes: calls.length,
    polls: calls.filter((c) => c.args.includes(POLL)).length,
    helm: calls.filter((c) => c.tool === 'helm').length,
  };
}

async function measure(
  sim: { kubeconfigPath: string },
  kubectl: string,
  label: string,
  components: number,
  args: string[],
  ns: string,
  crash: boolean,
): Promise<Measure> {
  const se = deployEnv({ kubeconfig: sim.kubeconfigPath, envFile: `TASKFLOW_NAMESPACE=${ns}\n` });
  try {
    se.kubectl(['create', 'namespace', ns]);
    const w = crash ? watchForCrashLoop(se, kubectl, ns) : undefined;
    const r = await se.deploy(['--json', ...args], { timeoutMs: 120_000 });
    const exited = Date.now();
    w?.stop();
    const crashAt = w
      ? await Promise.race([w.at, new Promise<number>((res) => setTimeout(() => res(NaN), 100))])
      : NaN;
    return {
      label,
      components,
      code: r.code,
      ...(crash && { crashToExitMs: exited - crashAt }),
      totalMs: r.durationMs,
      ...count(se.calls()),
    };
  } finally {
    se.cleanup();
  }
}

async function main(): Promise<void> {
  const runsArg = process.argv.indexOf('--runs');
  const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 3;
  const { kubectl } = ensureToolset('v35');
  ensureToolset('v33');
  const sim = await startKubeSim({
    scenario: { images: { [CRASH]: { state: 'crash', exitCode: 1, logs: 'boom' } }, readyAfterMs: 200 },
  });
  const dir = path.join(process.cwd(), '.cache', 'bench-charts');
  const results: Measure[] = [];
  try {
    const crashValues = path.join(dir, 'crash-api.yaml');
    mkdirSync(dir, { recursive: true });
    writeFileSync(crashValues, `api:\n  image:\n    repository: ${CRASH}\n`);
    let k = 0;
    for (let i = 0; i < runs; i++) {
      results.push(
        await measure(sim, kubectl, 'taskflow chart, api crashing', 6, ['-f', crashValues], `b-${k++}`, true),
      );
    }
    results.push(await measure(sim, kubectl, 'taskflow chart, all ready', 6, [], `b-${k++}`, false));
    for (const n of [6, 30]) {
      for (let i = 0; i < runs; i++) {
        results.push(
          await measure(
            sim,
            kubectl,
            `synthetic chart, one crashing`,
            n,
            ['--chart', syntheticChart(dir, n, n - 1)],
            `b-${k++}`,
            true,
          ),
        );
      }
      results.push(
        await measure(
          sim,
          kubectl,
          `synthetic chart, all ready`,
          n,
          ['--chart', syntheticChart(dir, n)],
          `b-${k++}`,
          false,
        ),
      );
    }
  } finally {
    await sim.stop();
  }
  const rows = results.map((r) => ({
    case: r.label,
    components: r.components,
    exit: r.code,
    'crash→exit ms':
      r.crashToExitMs === undefined ? '-' : Number.isNaN(r.crashToExitMs) ? 'n/a' : r.crashToExitMs,
    'deploy ms': r.totalMs,
    processes: r.processes,
    'poll calls': r.polls,
    'helm calls': r.helm,
    'other kubectl': r.processes - r.polls - r.helm,
  }));
  console.table(rows);
  const crashes = results.filter((r) => r.crashToExitMs !== undefined && !Number.isNaN(r.crashToExitMs));
  const worst = Math.max(...crashes.map((r) => r.crashToExitMs ?? 0));
  console.log(`worst crash→exit: ${worst} ms (target < 3000 ms): ${worst < 3000 ? 'met' : 'MISSED'}`);
  for (const label of ['synthetic chart, one crashing', 'synthetic chart, all ready']) {
    const by = (n: number) => results.filter((r) => r.label === label && r.components === n);
    const fixed = (n: number) => [...new Set(by(n).map((r) => r.processes - r.polls))].join('/');
    console.log(
      `${label}: processes besides the polls: 6 components ${fixed(6)}, 30 components ${fixed(30)}; each poll is 1 kubectl process`,
    );
  }
}

await main();
