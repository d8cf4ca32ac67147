// What a started container does, by the scenario state of its image: get ready, crash or get
// OOM-killed after a short run, complete, hang, never pass readiness, or (postgres images)
// become ready once the backing database accepts connections. Image pull failures loop
// between ErrImagePull and ImagePullBackOff.
import { typeByKind } from '../resources.ts';
import { isPostgresImage, type ImageBehaviour } from '../scenario.ts';
import { startupLines } from './app-logs.ts';
import type { Container } from './container.ts';
import { ProgramProcess, type ProgramSpec } from './program.ts';
import { probeOnce } from './probe.ts';
import { backoff, NODE_NAME } from './node.ts';
import type { PodWorker } from './pod-worker.ts';

const NODE = typeByKind('Node');

function markReady(w: PodWorker, c: Container): void {
  if (!c.running()) return;
  c.ready = true;
  w.sync();
}

function unhealthy(w: PodWorker, c: Container): void {
  if (!c.running() || w.stopping) return;
  const http = (c.spec.readinessProbe as { httpGet?: unknown } | undefined)?.httpGet;
  const msg = http
    ? 'Readiness probe failed: HTTP probe failed with statuscode: 503'
    : 'Readiness probe failed: connection refused';
  w.event('Warning', 'Unhealthy', msg, c);
  w.sync();
  w.later(1000, () => unhealthy(w, c));
}

function oomKill(w: PodWorker, c: Container): void {
  // The kernel's OOM report lands on the node, as node-problem-detector records it.
  const node = w.host.cluster.store.get(NODE, undefined, NODE_NAME);
  const msg = `Memory cgroup out of memory: Killed process 4242 (${c.name}) total-vm:1048576kB, anon-rss:524288kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:1200kB oom_score_adj:999`;
  if (node) w.host.cluster.events.record(node, 'Warning', 'OOMKilling', msg, 'kernel-monitor');
  w.exited(c, 137, 'OOMKilled');
}

/** Lets a just-started container behave as its image's scenario says. */
export function runAs(w: PodWorker, c: Container, b: ImageBehaviour, env: Record<string, string>): void {
  const readyAfter = w.host.cluster.scenario.readyAfterMs ?? 300;
  const out = c.log.current();
  const state = b.state ?? 'ready';
  const toCompletion = c.kind === 'init' || (c.kind === 'main' && w.restartPolicy !== 'Always');
  const write = (lines: string[]): void => {
    for (const l of b.logs ? [b.logs] : lines) out?.write(l);
  };
  if (b.program && state === 'ready') return runProgram(w, c, b.program, env, toCompletion);
  if (state === 'crash' || state === 'oom') {
    if (b.logs) out?.write(b.logs);
    w.later(b.runMs ?? 100, () => (state === 'oom' ? oomKill(w, c) : w.exited(c, b.exitCode ?? 1, 'Error')));
    return;
  }
  if (state === 'hang' || (state === 'never-ready' && toCompletion)) {
    out?.write(b.logs ?? `Waiting for dependencies of ${c.name}...`);
    return;
  }
  // Init containers and the containers of run-to-completion pods finish at once by default.
  if (state === 'complete' || (toCompletion && (c.kind === 'init' || !isPostgresImage(c.image)))) {
    write(startupLines(c.spec, true));
    w.later(b.runMs ?? (c.kind === 'init' ? 50 : Math.min(readyAfter, 300)), () =>
      w.exited(c, 0, 'Completed'),
    );
    return;
  }
  if (state === 'never-ready') {
    write(startupLines(c.spec, false));
    unhealthy(w, c);
    return;
  }
  if (isPostgresImage(c.image)) {
    const run = c.containerID;
    const start = (): void => {
      if (c.containerID !== run || !c.running()) return;
      w.host.startPostgres(w, c, env).then(
        () => w.later(readyAfter / 3, () => c.containerID === run && markReady(w, c)),
        (err: unknown) => {
          if (c.containerID !== run || !c.running()) return;
          out?.write(err instanceof Error ? err.message : String(err));
          w.exited(c, 1, 'Error');
        },
      );
    };
    if (b.serverStartMs) w.later(b.serverStartMs, start);
    else start();
    return;
  }
  write(startupLines(c.spec, false));
  if (b.chatty) chatter(w, c, b.chatty);
  w.later(readyAfter, () => markReady(w, c));
}

/**
 * Keeps printing numbered lines, `perSecond` a second in batches every 10 ms, while this run lasts. A batch
 * is at most 2,000 lines: when the simulator cannot keep up, the rate drops instead of a backlog growing.
 */
function chatter(w: PodWorker, c: Container, perSecond: number): void {
  const run = c.containerID;
  const out = c.log.current();
  let last = Date.now();
  let owed = 0;
  let n = 0;
  const tick = (): void => {
    if (c.containerID !== run || !c.running() || !out) return;
    const now = Date.now();
    owed = Math.min(owed + ((now - last) * perSecond) / 1000, 2000);
    last = now;
    const lines: string[] = [];
    for (; owed >= 1; owed--) lines.push(`chatter ${++n} from ${c.name}`);
    if (lines.length) out.write(lines.join('\n'));
    w.later(10, tick);
  };
  w.later(10, tick);
}

/** An image that cannot be pulled: ErrImagePull, then ImagePullBackOff, retried with back-off. */
export function failPull(w: PodWorker, c: Container, attempt: number): void {
  const ref = `docker.io/${c.image.includes('/') ? c.image : `library/${c.image}`}`;
  const why = `failed to pull and unpack image "${ref}": failed to resolve reference "${ref}": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed`;
  w.event('Normal', 'Pulling', `Pulling image "${c.image}"`, c);
  w.event('Warning', 'Failed', `Failed to pull image "${c.image}": ${why}`, c);
  w.event('Warning', 'Failed', 'Error: ErrImagePull', c);
  c.markWaiting('ErrImagePull', `rpc error: code = Unknown desc = ${why}`);
  w.sync();
  w.later(150, () => {
    c.markWaiting('ImagePullBackOff', `Back-off pulling image "${c.image}": ErrImagePull: ${why}`);
    w.event('Normal', 'BackOff', `Back-off pulling image "${c.image}"`, c);
    w.event('Warning', 'Failed', 'Error: ImagePullBackOff', c);
    w.sync();
    w.later(backoff(attempt + 1), () => failPull(w, c, attempt + 1));
  });
}

/**
 * Runs the scenario's program as the container: its exit ends the run (restarted as the pod's policy
 * says), and a long-running one is Ready while its readinessProbe passes (no probe: once started).
 */
function runProgram(
  w: PodWorker,
  c: Container,
  spec: ProgramSpec,
  env: Record<string, string>,
  toCompletion: boolean,
): void {
  const run = c.containerID;
  const out = c.log.current();
  const p = new ProgramProcess(spec, {
    env,
    podIp: w.podIP,
    podName: w.name,
    hostsFile: w.host.hostsFile(w.namespace),
    onLine: (line) => out?.write(line),
  });
  c.program = p;
  void p.exited.then(({ code }) => {
    if (c.containerID !== run) return;
    c.program = undefined;
    w.exited(c, code, code === 0 ? 'Completed' : 'Error');
  });
  if (toCompletion) return;
  const tick = async (): Promise<void> => {
    if (c.containerID !== run || !c.running()) return;
    const ok = await probeOnce(w.podIP, c.spec);
    if (c.containerID !== run || !c.running()) return;
    if (ok !== c.ready) {
      c.ready = ok;
      w.sync();
    }
    w.later(ok ? 500 : 100, () => void tick());
  };
  void tick();
}
