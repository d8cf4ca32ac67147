import { InterruptedError } from './errors.ts';
import { forEachLine } from './exec.ts';
import type { KubeObject, Kubectl } from './kubectl.ts';
import { type Pod, type PodFailure, podFailures } from './pod-status.ts';
import { redact } from './redact.ts';
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

// Failures, described and with their logs (migrate's Jobs, the restarts below).
const LOG_TAIL = 40;

/** One line for a pod failure: what, where, why. */
export function describe(f: PodFailure): string {
  const where = `${f.init ? 'init container' : 'container'} ${f.container ?? ''} of pod ${f.pod}`;
  return `${f.reason} in ${where}: ${f.message}`;
}

/** The container of a pod that exited non-zero (init containers first: they run first), if any. */
export function exitedWithError(pod: Pod): string | undefined {
  const st = pod.status ?? {};
  for (const cs of [...(st.initContainerStatuses ?? []), ...(st.containerStatuses ?? [])]) {
    const code = cs.state?.terminated?.exitCode;
    if (code !== undefined && code !== 0) return cs.name;
  }
  return undefined;
}

/**
 * The last lines of the failing container (its previous run after a restart); else of the newest
 * pod's container that exited with an error; else of all that pod's containers.
 */
export async function failureLogs(kubectl: Kubectl, pods: Pod[], failure?: PodFailure): Promise<string> {
  if (failure?.container) {
    return kubectl.logs(failure.pod, {
      container: failure.container,
      previous: failure.previousLogs,
      tail: LOG_TAIL,
    });
  }
  const pod = pods.at(-1);
  if (!pod) return '';
  const container = exitedWithError(pod);
  if (container) return kubectl.logs(pod.metadata.name, { container, tail: LOG_TAIL });
  const res = await kubectl.run(['logs', pod.metadata.name, '--all-containers=true', `--tail=${LOG_TAIL}`], {
    timeoutMs: 15_000,
  });
  return res.exitCode === 0 ? redact(res.stdout) : '';
}

// Restarting a Deployment and waiting for it (migrate api, reset-db-password's consumers).
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
