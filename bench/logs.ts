/**
 * Benchmark of `npm run logs`, run as a user runs it, on the simulated cluster:
 *
 * 1. join latency: after `kubectl rollout restart` of the MCP server, the time from the new pod's container
 *    starting to its first line printed by `npm run logs -- mcp --follow --json` (target: under 1 s). The
 *    container's start is the timestamp of its first log line: the simulated kubelet writes the start-up
 *    lines in the same tick as it marks the container running (status `startedAt` has whole seconds only).
 * 2. throughput: lines per second through `npm run logs -- chatty --follow` for a container that prints
 *    faster than that (the scenario's `chatty` option), next to a bare `kubectl logs -f` of the same
 *    container as the yardstick.
 *
 *   npx tsx bench/logs.ts [--runs N] [--window-ms MS] [--rate LINES_PER_S]
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { startKubeSim } from '../test/kube-sim/index.ts';
import { scriptArgv, scriptEnv, type ScriptEnv } from '../test/support/e2e.ts';
import { ensureToolset } from '../test/support/tools.ts';
import { installRelease, startScript } from '../test/port-forward/e2e-helpers.ts';

const NS = 'bench-logs';
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '7' },
    'window-ms': { type: 'string', default: '5000' },
    rate: { type: 'string', default: '50000' },
  },
});
const RUNS = Number(values.runs);
const WINDOW_MS = Number(values['window-ms']);
const RATE = Number(values.rate);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function stats(xs: number[]): { min: number; median: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { min: s[0]!, median, max: s[s.length - 1]! };
}

/** Runs kubectl to completion (no stdin: a kubectl that exits at once must not break a pipe of ours). */
function ok(se: ScriptEnv, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(se.env.KUBECTL!, [...args, '-n', NS], {
      env: se.env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`kubectl ${args.join(' ')}: ${stderr}`)),
    );
  });
}

/** Join latency of new pods, one rollout at a time. */
async function joinLatency(se: ScriptEnv): Promise<number[]> {
  const f = startScript('logs', ['mcp', '--follow', '--json'], se);
  /** first line of each pod: when it arrived here, and its own timestamp */
  const first = new Map<string, { printedAt: number; time: string }>();
  let rest = '';
  const out = f.output;
  let seen = 0;
  const poll = setInterval(() => {
    const text = out();
    const chunk = rest + text.slice(seen);
    seen = text.length;
    const lines = chunk.split('\n');
    rest = lines.pop() ?? '';
    const now = Date.now();
    for (const l of lines) {
      if (!l.startsWith('{')) continue;
      const r = JSON.parse(l) as { pod: string; time: string };
      if (!first.has(r.pod)) first.set(r.pod, { printedAt: now, time: r.time });
    }
  }, 1);
  const samples: number[] = [];
  try {
    await until('the first pod', () => (first.size > 0 ? true : undefined));
    for (let i = 0; i < RUNS; i++) {
      const known = new Set(first.keys());
      await ok(se, ['rollout', 'restart', 'deployment/mcp-server']);
      const pod = await until('a new pod', () => [...first.keys()].find((p) => !known.has(p)));
      const { printedAt, time } = first.get(pod)!;
      samples.push(printedAt - Date.parse(time));
      await ok(se, ['rollout', 'status', 'deployment/mcp-server', '--timeout=60s']);
      await sleep(1100); // restartedAt has whole seconds: kubectl refuses a second restart within one
    }
  } finally {
    clearInterval(poll);
    await f.stop('SIGINT');
  }
  return samples;
}

/** Lines a second a command's stdout delivers over the window (after its first line). */
function throughput(argv: [string, string[]], se: ScriptEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv[1], { cwd: se.cwd, env: se.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let lines = 0;
    let startedAt: number | undefined;
    let startLines = 0;
    child.stdout.on('data', (d: Buffer) => {
      let n = 0;
      for (let i = d.indexOf(10); i !== -1; i = d.indexOf(10, i + 1)) n++;
      lines += n;
      if (startedAt === undefined && /chatter \d+/.test(d.toString())) {
        // count from the first chatter line on, once the command is up
        startedAt = Date.now();
        startLines = lines;
        setTimeout(() => {
          const rate = ((lines - startLines) * 1000) / (Date.now() - startedAt!);
          child.kill('SIGINT');
          resolve(rate);
        }, WINDOW_MS);
      }
    });
    child.on('error', reject);
  });
}

const tools = ensureToolset('v35');
const sim = await startKubeSim({
  scenario: { readyAfterMs: 100, images: { 'bench/chatty': { chatty: RATE } } },
});
const se = scriptEnv({ kubeconfig: sim.kubeconfigPath, envFile: `TASKFLOW_NAMESPACE=${NS}\n` });
try {
  await installRelease(se, NS);
  const latency = await joinLatency(se);
  const l = stats(latency);
  console.log(
    `join latency (container start -> first line printed), ${latency.length} rollouts: median ${l.median} ms (min ${l.min}, max ${l.max}); samples ${latency.join(', ')} ms`,
  );
  await ok(se, [
    'run',
    'chatty',
    '--image=bench/chatty:1',
    '--labels=app.kubernetes.io/instance=taskflow,app.kubernetes.io/component=chatty',
  ]);
  await sleep(1000);
  const bare = await throughput([tools.kubectl, ['logs', '-f', 'chatty', '-n', NS, '--tail=0']], se);
  const text = await throughput(scriptArgv('logs', ['chatty', '--follow', '--tail', '0']), se);
  const json = await throughput(scriptArgv('logs', ['chatty', '--follow', '--tail', '0', '--json']), se);
  console.log(
    `throughput of a chatty container (asked for ${RATE} lines/s), over ${WINDOW_MS} ms: kubectl logs -f alone ${Math.round(bare)} lines/s; npm run logs ${Math.round(text)} lines/s; with --json ${Math.round(json)} lines/s`,
  );
} finally {
  se.cleanup();
  await sim.stop();
}
