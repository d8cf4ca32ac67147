import type { KubeEvent } from '../events.ts';
import type { KubeObject } from '../kubectl.ts';
import { jobState } from '../jobs.ts';
import { MIGRATION_CRONJOBS, byCreation, podsOfJob } from '../jobs.ts';
import type { Pod, PodFailure, PodFailureId } from '../pod-status.ts';

/** What doctor reports about pods and Jobs: the rollout's failure ids, and two only doctor judges. */
export type DoctorFailureId = PodFailureId | 'pods.not-ready' | 'jobs.failed';

/** A failure doctor found (a pod's, or a Job's with the pod whose logs tell why). */
export type Finding = Omit<PodFailure, 'id'> & { id: DoctorFailureId };

/** How long a running container may stay unready before doctor reports it (probes get this long). */
export const NOT_READY_MS = 120_000;
/** Failed readiness probes that count as "not ready" sooner than NOT_READY_MS. */
export const UNHEALTHY_EVENTS = 3;

/** Failed readiness probes of each pod (the count Kubernetes aggregated into its Unhealthy events). */
function readinessFailures(events: KubeEvent[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of events) {
    const name = e.involvedObject?.name;
    if (!name || e.reason !== 'Unhealthy' || !/^Readiness probe/i.test(e.message ?? '')) continue;
    out.set(name, (out.get(name) ?? 0) + (e.series?.count ?? e.count ?? 1));
  }
  return out;
}

/**
 * Running containers that do not become ready: for NOT_READY_MS since they started, or after
 * UNHEALTHY_EVENTS failed readiness probes. Nothing crashes, so no other check sees them, yet the
 * Service sends them no traffic. Pods already failing for another reason are left to that check.
 */
export function notReady(pods: Pod[], events: KubeEvent[], now: number, failing: Set<string>): Finding[] {
  const probes = readinessFailures(events);
  const out: Finding[] = [];
  for (const pod of pods) {
    const name = pod.metadata.name;
    if (pod.status?.phase !== 'Running' || failing.has(name)) continue;
    if (pod.metadata.deletionTimestamp) continue;
    for (const cs of pod.status.containerStatuses ?? []) {
      const started = Date.parse(cs.state?.running?.startedAt ?? '');
      if (cs.ready !== false || Number.isNaN(started)) continue;
      const secs = Math.round((now - started) / 1000);
      const failed = probes.get(name) ?? 0;
      if (now - started < NOT_READY_MS && failed < UNHEALTHY_EVENTS) continue;
      out.push({
        id: 'pods.not-ready',
        object: `pod/${name}`,
        pod: name,
        container: cs.name,
        init: false,
        reason: 'NotReady',
        message: `running for ${secs}s but not ready${failed > 0 ? ` (${failed} failed readiness probes)` : ''}: it gets no traffic`,
        previousLogs: false,
      });
    }
  }
  return out;
}

/**
 * Migration Jobs whose latest run failed (per CronJob, or per Job when not from one): a later
 * successful run clears an older failure, which migrate keeps only for inspection.
 */
export function failedJobs(objects: KubeObject[], pods: Pod[]): Finding[] {
  const latest = new Map<string, KubeObject>();
  for (const job of objects.filter((o) => o.kind === 'Job').sort(byCreation)) {
    const group = job.metadata.labels?.['app.kubernetes.io/component'] ?? job.metadata.name;
    latest.set(group, job);
  }
  const out: Finding[] = [];
  for (const job of latest.values()) {
    const st = jobState(job);
    if (st.state !== 'failed') continue;
    const pod = podsOfJob(pods, job.metadata.name).at(-1);
    const container = (pod?.status?.containerStatuses ?? []).find(
      (c) => (c.state?.terminated?.exitCode ?? 0) !== 0,
    )?.name;
    out.push({
      id: 'jobs.failed',
      object: `job/${job.metadata.name}`,
      pod: pod?.metadata.name ?? '',
      ...(container !== undefined && { container }),
      init: false,
      reason: st.reason,
      message: st.message,
      previousLogs: false,
    });
  }
  return out;
}

/** `npm run migrate` target of a migration Job or its pod, from the CronJob it was made from. */
export function migrateTargetOf(name: string): string | undefined {
  return Object.entries(MIGRATION_CRONJOBS).find(([, cron]) => name.startsWith(cron))?.[0];
}
