// Job controller: runs pods until `completions` succeed or more than `backoffLimit` fail
// (with a short, growing back-off between failed attempts), then sets the Complete or Failed
// condition; honours suspend, activeDeadlineSeconds and ttlSecondsAfterFinished.
import type { Cluster } from '../cluster.ts';
import { typeByKind } from '../resources.ts';
import type { StoreEvent } from '../store.ts';
import { controllerOf, nowTimestamp, type JsonObject, type KObject } from '../types.ts';
import { createPodFromTemplate } from './pods.ts';
import { WorkQueue } from './queue.ts';
import {
  isActive,
  isReady,
  keyOf,
  ownedBy,
  phaseOf,
  sameJson,
  setCondition,
  splitKey,
  type Condition,
} from './util.ts';

const JOB = typeByKind('Job');
const POD = typeByKind('Pod');
const num = (v: unknown, d: number): number => (typeof v === 'number' ? v : d);

/** Runs the Job controller. */
export class JobController {
  readonly queue: WorkQueue;

  constructor(private readonly cluster: Cluster) {
    this.queue = new WorkQueue((k) => this.reconcile(k));
  }

  /** Reacts to Jobs and their pods. */
  onEvent(e: StoreEvent): void {
    if (e.rt === JOB) this.queue.add(keyOf(e.object));
    else if (e.rt === POD) {
      const owner = controllerOf(e.object);
      if (owner?.kind === 'Job') this.queue.add(`${e.object.metadata.namespace ?? ''}/${owner.name}`);
    }
  }

  private reconcile(key: string): void {
    const [ns, name] = splitKey(key);
    const job = this.cluster.store.get(JOB, ns, name);
    if (!job || job.metadata.deletionTimestamp) return;
    const spec = job.spec as JsonObject;
    const old = (job.status ?? {}) as JsonObject;
    let conditions = (Array.isArray(old.conditions) ? old.conditions : []) as Condition[];
    const finished = conditions.some(
      (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
    );
    const pods = ownedBy(this.cluster.store.list(POD, { namespace: ns }), job);
    const active = pods.filter(isActive);
    const succeeded = pods.filter((p) => phaseOf(p) === 'Succeeded').length;
    const failed = pods.filter((p) => phaseOf(p) === 'Failed').length + restartsOf(pods, spec);
    const completions = num(spec.completions, 1);
    const status: JsonObject = { ...old };
    if (!status.startTime && spec.suspend !== true) status.startTime = nowTimestamp();

    if (finished) {
      for (const p of active) this.cluster.delete(POD, ns, p.metadata.name, {});
      this.scheduleTtl(job, key);
    } else if (spec.suspend === true) {
      conditions = setCondition(conditions, {
        type: 'Suspended',
        status: 'True',
        reason: 'JobSuspended',
        message: 'Job suspended',
      });
      for (const p of active) this.cluster.delete(POD, ns, p.metadata.name, {});
    } else if (succeeded >= completions) {
      conditions = setCondition(conditions, {
        type: 'SuccessCriteriaMet',
        status: 'True',
        reason: 'CompletionsReached',
        message: 'Reached expected number of succeeded pods',
        lastProbeTime: nowTimestamp(),
      });
      conditions = setCondition(conditions, {
        type: 'Complete',
        status: 'True',
        reason: 'CompletionsReached',
        message: 'Reached expected number of succeeded pods',
        lastProbeTime: nowTimestamp(),
      });
      status.completionTime = nowTimestamp();
      this.cluster.events.record(job, 'Normal', 'Completed', 'Job completed', 'job-controller');
      this.scheduleTtl(job, key);
    } else if (failed > num(spec.backoffLimit, 6) || this.pastDeadline(job, status)) {
      const deadline = failed <= num(spec.backoffLimit, 6);
      const reason = deadline ? 'DeadlineExceeded' : 'BackoffLimitExceeded';
      const message = deadline
        ? 'Job was active longer than specified deadline'
        : 'Job has reached the specified backoff limit';
      conditions = setCondition(conditions, {
        type: 'FailureTarget',
        status: 'True',
        reason,
        message,
        lastProbeTime: nowTimestamp(),
      });
      conditions = setCondition(conditions, {
        type: 'Failed',
        status: 'True',
        reason,
        message,
        lastProbeTime: nowTimestamp(),
      });
      for (const p of active) this.cluster.delete(POD, ns, p.metadata.name, {});
      this.cluster.events.record(job, 'Warning', reason, message, 'job-controller');
      this.scheduleTtl(job, key);
    } else {
      const want = Math.min(num(spec.parallelism, 1), completions - succeeded);
      const lastFailure = Math.max(0, ...pods.filter((p) => phaseOf(p) === 'Failed').map(finishedAt));
      // Failed attempts are retried after a back-off (10 s doubling on a real cluster; scaled down here).
      const backoff = failed > 0 ? Math.min(2000, 200 * 2 ** (failed - 1)) : 0;
      const wait = lastFailure + backoff - Date.now();
      if (active.length < want && wait > 0) this.queue.addAfter(key, wait + 5);
      else
        for (let i = active.length; i < want; i++)
          createPodFromTemplate(this.cluster, job, spec.template as JsonObject, {
            component: 'job-controller',
          });
      if (typeof spec.activeDeadlineSeconds === 'number')
        this.queue.addAfter(key, spec.activeDeadlineSeconds * 1000);
    }
    const nowPods = ownedBy(this.cluster.store.list(POD, { namespace: ns }), job);
    const nowActive = nowPods.filter(isActive);
    Object.assign(status, {
      active: nowActive.length,
      ready: nowActive.filter(isReady).length,
      succeeded,
      failed,
      terminating: nowPods.filter((p) => p.metadata.deletionTimestamp).length,
      uncountedTerminatedPods: {},
      conditions,
    });
    for (const k of ['active', 'succeeded', 'failed']) if (status[k] === 0) delete status[k];
    if (!conditions.length) delete status.conditions;
    if (sameJson(status, job.status)) return;
    job.status = status;
    this.cluster.update(JOB, job, { subresource: 'status' });
  }

  private pastDeadline(job: KObject, status: JsonObject): boolean {
    const d = (job.spec as JsonObject).activeDeadlineSeconds;
    return (
      typeof d === 'number' &&
      typeof status.startTime === 'string' &&
      Date.now() - Date.parse(status.startTime) > d * 1000
    );
  }

  private scheduleTtl(job: KObject, key: string): void {
    const ttl = (job.spec as JsonObject).ttlSecondsAfterFinished;
    if (typeof ttl !== 'number') return;
    const finishedSince =
      Date.now() -
      Date.parse(String((job.status as JsonObject | undefined)?.completionTime ?? nowTimestamp()));
    if (finishedSince >= ttl * 1000) {
      this.cluster.delete(JOB, job.metadata.namespace, job.metadata.name, {
        propagationPolicy: 'Background',
      });
    } else this.queue.addAfter(key, ttl * 1000 - finishedSince);
  }
}

function finishedAt(pod: KObject): number {
  const cs = ((pod.status as JsonObject | undefined)?.containerStatuses ?? []) as JsonObject[];
  const times = cs.map(
    (c) =>
      Date.parse(
        String(((c.state as JsonObject | undefined)?.terminated as JsonObject | undefined)?.finishedAt ?? ''),
      ) || 0,
  );
  return Math.max(Date.parse(pod.metadata.creationTimestamp), ...times);
}

// With restartPolicy OnFailure, container restarts count as failures towards backoffLimit.
function restartsOf(pods: KObject[], spec: JsonObject): number {
  const policy = ((spec.template as JsonObject | undefined)?.spec as JsonObject | undefined)?.restartPolicy;
  if (policy !== 'OnFailure') return 0;
  return pods.reduce(
    (n, p) =>
      n +
      (((p.status as JsonObject | undefined)?.containerStatuses ?? []) as JsonObject[]).reduce(
        (m, c) => m + num(c.restartCount, 0),
        0,
      ),
    0,
  );
}
