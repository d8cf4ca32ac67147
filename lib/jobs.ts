import type { DbName } from './components.ts';
import type { KubeObject } from './kubectl.ts';
import type { Pod } from './pod-status.ts';

/**
 * The state of a Job, decided once for every command (deploy's watch, migrate, doctor). Kubernetes 1.31+
 * sets FailureTarget / SuccessCriteriaMet before the terminal Failed / Complete conditions (while the
 * Job's pods are still being cleaned up): either of each pair decides.
 */

export type JobState =
  { state: 'running' } | { state: 'complete' } | { state: 'failed'; reason: string; message: string };

interface JobCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/** Where a Job is, from its conditions (Complete/SuccessCriteriaMet, Failed/FailureTarget). */
export function jobState(job: KubeObject): JobState {
  const conditions = (job.status?.conditions as JobCondition[] | undefined) ?? [];
  const isTrue = (type: string): JobCondition | undefined =>
    conditions.find((c) => c.type === type && c.status === 'True');
  const failed = isTrue('Failed') ?? isTrue('FailureTarget');
  if (failed) {
    return {
      state: 'failed',
      reason: failed.reason ?? 'Failed',
      message: failed.message ?? 'the Job failed',
    };
  }
  if (isTrue('Complete') ?? isTrue('SuccessCriteriaMet')) return { state: 'complete' };
  return { state: 'running' };
}

/** Whether a Job has finished either way. */
export function isFinished(job: KubeObject): boolean {
  return jobState(job).state !== 'running';
}

// The Jobs `npm run migrate` makes from the chart's suspended CronJobs (doctor reads them too).
/** Label on every Job `npm run migrate` creates (value: the target), so cleanup finds exactly those. */
export const MANUAL_RUN_LABEL = 'taskflow/manual-migration';

/** The suspended CronJob holding each target's migration spec (chart contract). */
export const MIGRATION_CRONJOBS: Record<DbName, string> = { sso: 'sso-migrate', api: 'api-migrate' };

/** A Job name unique per run: `<cronjob>-manual-<utc yyyymmdd-hhmmss>-<suffix>` (a DNS label, < 63 chars). */
export function manualJobName(cronJob: string, now: Date, suffix: string): string {
  const stamp = now
    .toISOString()
    .replace(/\.\d+Z$/, '')
    .replace(/[-:]/g, '')
    .replace('T', '-');
  return `${cronJob}-manual-${stamp}-${suffix}`.toLowerCase();
}

/**
 * argv (after kubectl) that renders the Job `kubectl create job --from=cronjob/...` would create,
 * without creating it: the spec comes from the CronJob in the cluster, exactly as the chart defined it.
 */
export function renderJobArgs(name: string, cronJob: string): string[] {
  return ['create', 'job', name, `--from=cronjob/${cronJob}`, '--dry-run=client', '-o', 'json'];
}

/** The rendered Job with the labels cleanup and `kubectl get jobs -l` rely on. */
export function labelJob(job: KubeObject, target: DbName, release: string): KubeObject {
  const { status: _status, ...rest } = job;
  return {
    ...rest,
    metadata: {
      ...job.metadata,
      labels: {
        ...job.metadata.labels,
        'app.kubernetes.io/instance': release,
        'app.kubernetes.io/component': MIGRATION_CRONJOBS[target],
        [MANUAL_RUN_LABEL]: target,
      },
    },
  };
}

/** The Job with more variables in one of its containers (added after, so they win over the template's). */
export function withContainerEnv(
  job: KubeObject,
  container: string,
  env: Record<string, string>,
): KubeObject {
  const spec = job.spec as { template: { spec: { containers: { name: string; env?: object[] }[] } } };
  const containers = spec.template.spec.containers.map((c) =>
    c.name === container
      ? { ...c, env: [...(c.env ?? []), ...Object.entries(env).map(([name, value]) => ({ name, value }))] }
      : c,
  );
  return {
    ...job,
    spec: { ...spec, template: { ...spec.template, spec: { ...spec.template.spec, containers } } },
  };
}

/** The pods a Job started (by owner reference, else by the job-name labels), oldest first. */
export function podsOfJob(pods: Pod[], jobName: string): Pod[] {
  return pods
    .filter(
      (p) =>
        p.metadata.ownerReferences?.some((o) => o.kind === 'Job' && o.name === jobName) ||
        p.metadata.labels?.['batch.kubernetes.io/job-name'] === jobName ||
        p.metadata.labels?.['job-name'] === jobName,
    )
    .sort(byCreation);
}

/** Orders objects by creation time, then name (names of one run sort by their timestamp). */
export function byCreation(a: KubeObject, b: KubeObject): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  return ta === tb ? a.metadata.name.localeCompare(b.metadata.name) : ta.localeCompare(tb);
}

/** Which finished manual Jobs to delete: all of them except the newest failed one, kept for inspection. */
export function planCleanup(jobs: KubeObject[]): { remove: string[]; keep: string | undefined } {
  const finished = jobs.filter(isFinished).sort(byCreation);
  const keep = finished.filter((j) => jobState(j).state === 'failed').at(-1)?.metadata.name;
  return { remove: finished.map((j) => j.metadata.name).filter((n) => n !== keep), keep };
}
