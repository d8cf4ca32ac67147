import { InterruptedError } from '../errors.ts';
import type { KubeObject, Kubectl } from '../kubectl.ts';
import type { Pod, PodFailure } from '../pod-status.ts';
import { podFailures } from '../pod-status.ts';
import { forEachLine } from './follow.ts';
import { describe, failureLogs } from './failure.ts';
import { abortableSleep } from '../time.ts';

export interface RestartOptions {
  /** Give up at this instant (ms since epoch). */
  deadline: number;
  timeoutText: string;
  signal: AbortSignal;
  /** Each progress line of `kubectl rollout status`. */
  onLine: (line: string) => void;
  pollMs?: number;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface RestartOutcome {
  ok: boolean;
  reason?: string;
  logs?: string;
}

const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

/**
 * `kubectl rollout restart` a Deployment, then wait for `kubectl rollout status` while polling the
 * new pods, so a crash loop or an image that cannot be pulled fails at once instead of at the
 * Deployment's progress deadline.
 */
export async function restartDeployment(
  kubectl: Kubectl,
  name: string,
  opts: RestartOptions,
): Promise<RestartOutcome> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? abortableSleep;
  await kubectl.ok(['rollout', 'restart', `deployment/${name}`], `restart deployment/${name}`);
  const dep = await kubectl.getOptional<KubeObject>('deployment', name);
  const template = dep?.spec?.template as { metadata?: { annotations?: Record<string, string> } } | undefined;
  const stamp = template?.metadata?.annotations?.[RESTARTED_AT];
  const seconds = Math.max(1, Math.ceil((opts.deadline - now()) / 1000));
  const status = kubectl.start(['rollout', 'status', `deployment/${name}`, `--timeout=${seconds}s`]);
  let stderr = '';
  const reading = Promise.all([
    forEachLine(status.stdout, opts.onLine),
    forEachLine(status.stderr, (l) => (stderr += `${l}\n`)),
  ]);
  let exitCode: number | null | undefined;
  void status.exited.then((c) => (exitCode = c));
  try {
    for (;;) {
      if (opts.signal.aborted) throw new InterruptedError('interrupted');
      await Promise.race([status.exited, sleep(opts.pollMs ?? 1000, opts.signal)]);
      if (exitCode !== undefined) {
        await reading;
        if (exitCode === 0) return { ok: true };
        const pods = await newPods(kubectl, name, stamp);
        const failure = pods.flatMap(podFailures).find((f) => f.id !== 'pods.pending');
        return failed(kubectl, pods, failure, firstLine(stderr) ?? `rollout of deployment/${name} failed`);
      }
      const pods = await newPods(kubectl, name, stamp).catch(() => []);
      const failure = pods.flatMap(podFailures).find((f) => f.id !== 'pods.pending');
      if (failure) return failed(kubectl, pods, failure, describe(failure));
      if (now() >= opts.deadline) {
        return failed(
          kubectl,
          pods,
          undefined,
          `deployment/${name} was not ready within ${opts.timeoutText}`,
        );
      }
    }
  } finally {
    await status.stop();
  }
}

async function failed(
  kubectl: Kubectl,
  pods: Pod[],
  failure: PodFailure | undefined,
  reason: string,
): Promise<RestartOutcome> {
  const logs = await failureLogs(kubectl, pods, failure);
  return { ok: false, reason, ...(logs && { logs }) };
}

/** Pods of the restarted template: they carry its restartedAt annotation. */
async function newPods(kubectl: Kubectl, deployment: string, stamp: string | undefined): Promise<Pod[]> {
  const pods = await kubectl.list<Pod>(['pods'], undefined, { timeoutMs: 20_000 });
  return pods.filter(
    (p) =>
      p.metadata.name.startsWith(`${deployment}-`) &&
      !p.metadata.deletionTimestamp &&
      (stamp === undefined || p.metadata.annotations?.[RESTARTED_AT] === stamp),
  );
}

function firstLine(text: string): string | undefined {
  return text
    .split('\n')
    .map((l) => l.replace(/^error: /, '').trim())
    .find((l) => l !== '');
}
