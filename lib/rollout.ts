import { InterruptedError } from './errors.ts';
import { forEachLine } from './exec.ts';
import type { Kubectl } from './kubectl.ts';
import { type Pod, type PodFailure, podFailures } from './pod-status.ts';
import { abortableSleep } from './time.ts';

/**
 * Waiting for one Deployment's rollout, the same way for every command that waits for one (the add-ons,
 * migrate's API restart, reset-db-password's restarts): `kubectl rollout status` runs while its pods are
 * polled, and a pod failure ends the wait at once with the pod's reason.
 */

/**
 * Any pod failure ends the wait, an unschedulable pod included: the rule deploy's release watch applies
 * to every pod of the release (deploy/snapshot.ts), so all three waits give one answer.
 */
export function rolloutFailure(pods: readonly Pod[]): PodFailure | undefined {
  return pods.filter((p) => !p.metadata.deletionTimestamp).flatMap(podFailures)[0];
}

export interface RolloutWaitOptions {
  /** Give up at this instant (ms since epoch). */
  deadline: number;
  signal: AbortSignal;
  /** The pods that count (e.g. only those of a restarted template). */
  pods: () => Promise<Pod[]>;
  /** Each progress line of `kubectl rollout status`. */
  onLine?: (line: string) => void;
  pollMs?: number;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export type RolloutOutcome =
  | { ok: true }
  | {
      ok: false;
      /** the pod failure that ended the wait, if one did */
      failure?: PodFailure;
      /** the pods at the end (for their logs) */
      pods: Pod[];
      /** the deadline passed before the rollout finished */
      timedOut: boolean;
      /** the first line kubectl rollout status wrote to stderr, if it failed */
      statusError?: string;
    };

/** Waits for a Deployment's rollout, failing fast on its pods; stops its own kubectl by pid. */
export async function waitForDeployment(
  kubectl: Kubectl,
  name: string,
  opts: RolloutWaitOptions,
): Promise<RolloutOutcome> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? abortableSleep;
  const seconds = Math.max(1, Math.ceil((opts.deadline - now()) / 1000));
  const status = kubectl.start(['rollout', 'status', `deployment/${name}`, `--timeout=${seconds}s`]);
  let stderr = '';
  const reading = Promise.all([
    forEachLine(status.stdout, (l) => opts.onLine?.(l)),
    forEachLine(status.stderr, (l) => (stderr += `${l}\n`)),
  ]);
  let exitCode: number | null | undefined;
  void status.exited.then((c) => (exitCode = c));
  try {
    for (;;) {
      if (opts.signal.aborted) throw new InterruptedError('interrupted');
      await Promise.race([status.exited, sleep(opts.pollMs ?? 1000, opts.signal)]);
      if (opts.signal.aborted) throw new InterruptedError('interrupted');
      if (exitCode !== undefined) {
        await reading;
        if (exitCode === 0) return { ok: true };
        const pods = await opts.pods().catch(() => []);
        const failure = rolloutFailure(pods);
        const statusError = firstLine(stderr);
        return {
          ok: false,
          pods,
          timedOut: now() >= opts.deadline,
          ...(failure && { failure }),
          ...(statusError !== undefined && { statusError }),
        };
      }
      const pods = await opts.pods().catch(() => []);
      const failure = rolloutFailure(pods);
      if (failure) return { ok: false, failure, pods, timedOut: false };
      if (now() >= opts.deadline) return { ok: false, pods, timedOut: true };
    }
  } finally {
    await status.stop();
  }
}

function firstLine(text: string): string | undefined {
  return text
    .split('\n')
    .map((l) => l.replace(/^error: /, '').trim())
    .find((l) => l !== '');
}
