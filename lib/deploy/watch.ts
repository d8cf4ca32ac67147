import { releaseSelector } from '../components.ts';
import { InterruptedError, TaskflowError } from '../errors.ts';
import type { KubeObject, Kubectl } from '../kubectl.ts';
import {
  type RolloutFailure,
  type Snapshot,
  WATCHED_KINDS,
  judgeSnapshot,
  notReady,
  progressDeadlineFailures,
  timeoutFailure,
} from './snapshot.ts';
import { abortableSleep } from '../time.ts';

export interface WatchOptions {
  release: string;
  /** When this deploy's upgrade started (ms since epoch): older Jobs are not this deploy's. */
  since: number;
  /** Give up (rollout.timeout) at this instant. */
  deadline: number;
  /** StatefulSets have no progress deadline of their own: they get this one. */
  statefulSetDeadline: number;
  pollMs?: number;
  /** An unschedulable pod fails only after staying so this long (volumes being provisioned flap briefly). */
  pendingGraceMs?: number;
  storageClasses?: string[];
  signal?: AbortSignal;
  onProgress?: (s: Snapshot) => void;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface WatchResult {
  ok: boolean;
  snapshot: Snapshot;
  failures: RolloutFailure[];
  polls: number;
}

/** Lists every watched kind of the release in one kubectl call. */
export function listRelease(kubectl: Kubectl, release: string): Promise<KubeObject[]> {
  return kubectl.list(WATCHED_KINDS, releaseSelector(release), { timeoutMs: 20_000 });
}

/**
 * Follows the release's rollout with one kubectl call per poll, however many objects it has, and
 * returns at the first failure that will not fix itself, when everything is ready, or at a deadline.
 */
export async function watchRollout(kubectl: Kubectl, opts: WatchOptions): Promise<WatchResult> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? abortableSleep;
  const pollMs = opts.pollMs ?? 500;
  const grace = opts.pendingGraceMs ?? 3000;
  const firstSeen = new Map<string, number>();
  let polls = 0;
  let errors = 0;
  for (;;) {
    if (opts.signal?.aborted) throw new InterruptedError('interrupted');
    let items: KubeObject[];
    try {
      items = await listRelease(kubectl, opts.release);
      polls++;
      errors = 0;
    } catch (err) {
      // One failed listing (an API server hiccup) is not a failed rollout; three in a row are.
      if (++errors >= 3 || !(err instanceof TaskflowError)) throw err;
      await sleep(pollMs, opts.signal);
      continue;
    }
    const snapshot = judgeSnapshot(items, {
      since: opts.since,
      ...(opts.storageClasses && { storageClasses: opts.storageClasses }),
    });
    const t = now();
    const failures = [...snapshot.failures, ...progressDeadlineFailures(items, snapshot)].filter((f) => {
      if (f.id !== 'pods.pending' || f.reason !== 'Unschedulable') return true;
      const key = `${f.object}|${f.reason}`;
      const seen = firstSeen.get(key) ?? t;
      firstSeen.set(key, seen);
      return t - seen >= grace;
    });
    if (failures.length > 0) return { ok: false, snapshot, failures, polls };
    if (snapshot.done) return { ok: true, snapshot, failures: [], polls };
    const late = notReady(snapshot).filter(
      (w) => t >= opts.deadline || (w.kind === 'StatefulSet' && t >= opts.statefulSetDeadline),
    );
    if (late.length > 0) {
      const secs = Math.round((t - opts.since) / 1000);
      return {
        ok: false,
        snapshot,
        failures: late.map((w) => timeoutFailure(w, `not ready after ${secs}s`)),
        polls,
      };
    }
    opts.onProgress?.(snapshot);
    await sleep(pollMs, opts.signal);
  }
}

/** One progress line: which components are ready, which are awaited and why. */
export function progressLine(s: Snapshot): string {
  const ready = s.workloads.filter((w) => w.ready).map((w) => w.component);
  const waiting = notReady(s).map((w) => `${w.component} (${w.waitingFor})`);
  const total = s.workloads.length;
  const head = `rollout: ${ready.length}/${total} ready`;
  return waiting.length > 0 ? `${head}; waiting for ${waiting.join(', ')}` : head;
}
