import type { KubeObject } from './kubectl.ts';

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
