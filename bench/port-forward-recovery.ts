/**
 * Benchmark: after the pod behind a forwarded Service is deleted, how long until the local port serves
 * again from the new pod, counted from the moment the new pod is Ready (target: under 1 s) and from the
 * deletion. Runs `npm run port-forward` as a user would, on the simulated cluster.
 *
 *   npx tsx bench/port-forward-recovery.ts [--runs N] [--ready-after MS]
 */
import { spawn } from 'node:child_process';
import { startKubeSim } from '../test/kube-sim/index.ts';
import { freePort } from '../test/support/embedded-pg.ts';
import { scriptEnv, type ScriptEnv } from '../test/support/e2e.ts';
import { ensureToolset } from '../test/support/tools.ts';
import {
  httpGet,
  httpStatus,
  installRelease,
  kubectlOut,
  startScript,
} from '../test/port-forward/e2e-helpers.ts';

const NS = 'bench-pf';
const SELECTOR = 'app.kubernetes.io/component=web';

interface PodEvent {
  metadata: { name: string; deletionTimestamp?: string };
  status?: { conditions?: { type: string; status: string }[] };
}

/** Splits a stream of concatenated JSON documents (`kubectl get --watch -o json`) into objects. */
function jsonSplitter(onDoc: (doc: unknown) => void): (chunk: string) => void {
  let buf = '';
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = -1;
  return (chunk) => {
    const offset = buf.length;
    buf += chunk;
    for (let i = offset; i < buf.length; i++) {
      const ch = buf[i];
      if (inString) {
        if (escaped) escaped = false;
        else if (ch === '\\') escaped = true;
        else if (ch === '"') inString = false;
      } else if (ch === '"') inString = true;
      else if (ch === '{') {
        if (depth++ === 0) start = i;
      } else if (ch === '}' && --depth === 0) {
        onDoc(JSON.parse(buf.slice(start, i + 1)));
        buf = buf.slice(i + 1);
        i = -1;
      }
    }
  };
}

/** Follows the web pods with one `kubectl get --watch` and records when each becomes Ready. */
function watchReady(se: ScriptEnv, kubectlPath: string): { readyAt: Map<string, number>; stop(): void } {
  const readyAt = new Map<string, number>();
  const child = spawn(kubectlPath, ['get', 'pods', '-n', NS, '-l', SELECTOR, '--watch', '-o', 'json'], {
    env: se.env,
  });
  const feed = jsonSplitter((doc) => {
    const pod = doc as PodEvent;
    const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    if (ready && !pod.metadata.deletionTimestamp && !readyAt.has(pod.metadata.name)) {
      readyAt.set(pod.metadata.name, performance.now());
    }
  });
  child.stdout.on('data', (d: Buffer) => feed(d.toString()));
  return { readyAt, stop: () => child.kill('SIGTERM') };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(
  what: string,
  fn: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

interface Run {
  deleteToServeMs: number;
  readyToServeMs: number;
  deleteToReadyMs: number;
  restarts: number;
}

/** One run: a fresh port-forward of web, the pod deleted, the local port polled every 5 ms. */
async function once(se: ScriptEnv, kubectlPath: string): Promise<Run> {
  const port = await freePort();
  const pf = startScript('port-forward-all', ['--only', 'web', '--ports', `web=${port}`], se);
  const watch = watchReady(se, kubectlPath);
  try {
    await until('the forward', () => (pf.output().includes('Forwarding;') ? true : undefined), 60_000);
    const old = await kubectlOut(se, [
      'get',
      'pods',
      '-n',
      NS,
      '-l',
      SELECTOR,
      '-o',
      'jsonpath={.items[0].metadata.name}',
    ]);
    await until(
      'a 200 through the forward',
      async () => ((await httpStatus(port)) === 200 ? true : undefined),
      10_000,
    );
    const t0 = performance.now();
    spawn(kubectlPath, ['delete', 'pod', old, '-n', NS, '--wait=false'], { env: se.env, stdio: 'ignore' });
    let failed = false;
    const served = await until(
      'the port to serve again',
      async () => {
        const res = await httpGet(port, 250);
        const fromNew = res?.status === 200 && !res.body.includes(old);
        if (!fromNew) failed = true;
        return fromNew && failed ? performance.now() : undefined;
      },
      30_000,
    );
    const ready = await until(
      'the new pod to be Ready',
      () => [...watch.readyAt].find(([name]) => name !== old)?.[1],
      10_000,
    );
    const restarts = (pf.output().match(/web http:\S+ reconnecting/g) ?? []).length;
    return {
      deleteToServeMs: Math.round(served - t0),
      readyToServeMs: Math.round(served - ready),
      deleteToReadyMs: Math.round(ready - t0),
      restarts,
    };
  } finally {
    watch.stop();
    await pf.stop('SIGINT');
  }
}

async function main(): Promise<void> {
  const runsArg = process.argv.indexOf('--runs');
  const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;
  const readyArg = process.argv.indexOf('--ready-after');
  const readyAfterMs = readyArg > 0 ? Number(process.argv[readyArg + 1]) : 300;
  const { kubectl: kubectlPath } = ensureToolset('v35');
  const sim = await startKubeSim({ scenario: { readyAfterMs } });
  const se = scriptEnv({ kubeconfig: sim.kubeconfigPath, envFile: `TASKFLOW_NAMESPACE=${NS}\n` });
  const results: Run[] = [];
  try {
    await installRelease(se, NS);
    for (let i = 0; i < runs; i++) results.push(await once(se, kubectlPath));
  } finally {
    se.cleanup();
    await sim.stop();
  }
  console.table(
    results.map((r, i) => ({
      run: i + 1,
      'delete→new pod Ready ms': r.deleteToReadyMs,
      'new pod Ready→serving ms': r.readyToServeMs,
      'delete→serving ms': r.deleteToServeMs,
      'kubectl restarts': r.restarts,
    })),
  );
  const sorted = results.map((r) => r.readyToServeMs).sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? NaN;
  const worst = sorted.at(-1) ?? NaN;
  console.log(`pods become Ready ${readyAfterMs} ms after their container starts`);
  console.log(
    `new pod Ready→local port serving: median ${median} ms, worst ${worst} ms (target < 1000 ms): ${worst < 1000 ? 'met' : 'MISSED'}`,
  );
}

await main();
