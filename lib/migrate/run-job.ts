import { randomBytes } from 'node:crypto';
import { InterruptedError } from '../errors.ts';
import type { KubeObject, Kubectl } from '../kubectl.ts';
import { type Pod, type PodFailure, podFailures } from '../pod-status.ts';
import { describe, failureLogs } from '../rollout.ts';
import { LogFollower } from './follow.ts';
import {
  type JobState,
  MIGRATION_CRONJOBS,
  jobState,
  labelJob,
  manualJobName,
  podsOfJob,
  renderJobArgs,
  withContainerEnv,
} from '../jobs.ts';
import type { MigrateTarget } from './targets.ts';
import { type DefaultOrganization, SeedWatch } from './seed.ts';
import { abortableSleep } from '../time.ts';

/** How one target's migration went. */
export interface TargetResult {
  target: MigrateTarget;
  ok: boolean;
  method: 'job' | 'restart';
  /** `job/<name>` or `deployment/<name>`. */
  object: string;
  durationMs: number;
  /** Why it failed, in one line. */
  reason?: string;
  /** The last lines of the failing container's log. */
  logs?: string;
  /**
   * sso: whether this run's seed created the default organisation or found it (null: its output did
   * not say). Absent for api.
   */
  defaultOrganization?: DefaultOrganization | null;
}

/** What a target run needs: kubectl, where to print, when to give up. */
export interface TargetDeps {
  kubectl: Kubectl;
  release: string;
  /** Give up at this instant (ms since epoch). */
  deadline: number;
  /** The --timeout as the user wrote it, for messages. */
  timeoutText: string;
  signal: AbortSignal;
  /** Prints one line of the target's output (the caller adds the `[sso] ` prefix). */
  onLine: (line: string) => void;
  onDiagnostic?: (line: string) => void;
  pollMs?: number;
  /** An unschedulable pod counts as a failure only after this long (volumes and nodes come late). */
  pendingGraceMs?: number;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Suffix making the Job name unique (random hex by default). */
  suffix?: () => string;
  /** Variables added to the Job's migrate container (TASKFLOW_ACCEPT_DATA_LOSS). */
  env?: Record<string, string>;
}

/**
 * Runs a target's migration once: a Job rendered from its suspended CronJob (the chart's one
 * definition, shared with the init container), labelled for cleanup, its logs streamed, followed
 * until Complete or Failed, or until a pod fails in a way that will not fix itself.
 */
export async function runMigrationJob(deps: TargetDeps, target: MigrateTarget): Promise<TargetResult> {
  const now = deps.now ?? Date.now;
  const started = now();
  const cronJob = MIGRATION_CRONJOBS[target];
  const suffix = deps.suffix?.() ?? randomBytes(2).toString('hex');
  const name = manualJobName(cronJob, new Date(started), suffix);
  const { kubectl } = deps;
  const rendered = JSON.parse(
    await kubectl.ok(renderJobArgs(name, cronJob), `render a Job from cronjob/${cronJob}`),
  ) as KubeObject;
  const labelled = labelJob(rendered, target, deps.release);
  const job = deps.env ? withContainerEnv(labelled, 'migrate', deps.env) : labelled;
  await kubectl.ok(['create', '-f', '-'], `create job/${name}`, { stdin: JSON.stringify(job) });
  deps.onLine(`started job/${name} from cronjob/${cronJob}`);

  const seed = target === 'sso' ? new SeedWatch() : undefined;
  const onLine = (line: string): void => {
    seed?.line(line);
    deps.onLine(line);
  };
  let finished = false;
  const waitSeconds = Math.max(20, Math.ceil((deps.deadline - now()) / 1000));
  const follower = new LogFollower(
    kubectl,
    ['logs', '-f', `job/${name}`, `--pod-running-timeout=${waitSeconds}s`],
    {
      onLine,
      ...(deps.onDiagnostic && { onDiagnostic: deps.onDiagnostic }),
      active: () => !finished,
      signal: deps.signal,
    },
  );
  let outcome: Outcome;
  try {
    outcome = await waitForJob(deps, name);
  } finally {
    finished = true;
    // A completed container's last lines may still be on their way: give the follower a moment.
    await follower.stop(3000);
  }
  const result: TargetResult = {
    target,
    ok: outcome.ok,
    method: 'job',
    object: `job/${name}`,
    durationMs: now() - started,
    ...(seed && { defaultOrganization: seed.outcome ?? null }),
  };
  if (outcome.ok) return result;
  const logs = await failureLogs(kubectl, outcome.pods, outcome.failure);
  return { ...result, reason: outcome.reason, ...(logs && { logs }) };
}

type Outcome = { ok: true } | { ok: false; reason: string; pods: Pod[]; failure?: PodFailure };

async function waitForJob(deps: TargetDeps, name: string): Promise<Outcome> {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? abortableSleep;
  const grace = deps.pendingGraceMs ?? 10_000;
  const pendingSince = new Map<string, number>();
  let errors = 0;
  for (;;) {
    if (deps.signal.aborted) throw new InterruptedError('interrupted');
    let items: KubeObject[] | undefined;
    try {
      items = await deps.kubectl.list(['jobs', 'pods'], undefined, { timeoutMs: 20_000 });
      errors = 0;
    } catch (err) {
      // A single failed poll (API server busy) is not the Job failing.
      if (++errors >= 3) throw err;
    }
    if (items) {
      const job = items.find((o) => o.kind === 'Job' && o.metadata.name === name);
      const pods = podsOfJob(
        items.filter((o): o is Pod => o.kind === 'Pod'),
        name,
      );
      if (!job) return { ok: false, reason: `job/${name} disappeared (deleted by someone else?)`, pods };
      const state: JobState = jobState(job);
      if (state.state === 'complete') return { ok: true };
      if (state.state === 'failed') return { ok: false, reason: `${state.reason}: ${state.message}`, pods };
      const failure = fatalFailure(pods, pendingSince, now(), grace);
      if (failure) return { ok: false, reason: describe(failure), pods, failure };
      if (now() >= deps.deadline) {
        return { ok: false, reason: `job/${name} did not finish within ${deps.timeoutText}`, pods };
      }
    }
    await sleep(deps.pollMs ?? 1000, deps.signal);
  }
}

/** The first pod failure that will not fix itself; an unschedulable pod only after the grace period. */
function fatalFailure(
  pods: Pod[],
  pendingSince: Map<string, number>,
  now: number,
  graceMs: number,
): PodFailure | undefined {
  for (const pod of pods) {
    for (const f of podFailures(pod)) {
      if (f.id !== 'pods.pending') return f;
      const since = pendingSince.get(f.pod) ?? now;
      pendingSince.set(f.pod, since);
      if (now - since >= graceMs) return f;
    }
  }
  return undefined;
}
