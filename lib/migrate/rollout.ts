import type { KubeObject, Kubectl } from '../kubectl.ts';
import type { Pod } from '../pod-status.ts';
import { waitForDeployment } from '../rollout.ts';
import { describe, failureLogs } from './failure.ts';

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
 * `kubectl rollout restart` a Deployment, then wait for its rollout (lib/rollout.ts) on the new pods, so
 * a crash loop or an image that cannot be pulled fails at once instead of at the progress deadline.
 */
export async function restartDeployment(
  kubectl: Kubectl,
  name: string,
  opts: RestartOptions,
): Promise<RestartOutcome> {
  await kubectl.ok(['rollout', 'restart', `deployment/${name}`], `restart deployment/${name}`);
  const dep = await kubectl.getOptional<KubeObject>('deployment', name);
  const template = dep?.spec?.template as { metadata?: { annotations?: Record<string, string> } } | undefined;
  const stamp = template?.metadata?.annotations?.[RESTARTED_AT];
  const outcome = await waitForDeployment(kubectl, name, {
    deadline: opts.deadline,
    signal: opts.signal,
    onLine: opts.onLine,
    pods: () => newPods(kubectl, name, stamp),
    ...(opts.pollMs !== undefined && { pollMs: opts.pollMs }),
    ...(opts.now && { now: opts.now }),
    ...(opts.sleep && { sleep: opts.sleep }),
  });
  if (outcome.ok) return { ok: true };
  const reason = outcome.failure
    ? describe(outcome.failure)
    : outcome.timedOut && outcome.statusError === undefined
      ? `deployment/${name} was not ready within ${opts.timeoutText}`
      : (outcome.statusError ?? `rollout of deployment/${name} failed`);
  const logs = await failureLogs(kubectl, outcome.pods, outcome.failure);
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
