import type { KubeObject, Kubectl } from '../kubectl.ts';
import { MANUAL_RUN_LABEL, planCleanup } from '../jobs.ts';
import type { MigrateTarget } from './targets.ts';

export interface CleanupResult {
  deleted: string[];
  /** The newest failed Job of each target, kept for inspection. */
  kept: string[];
}

/**
 * Deletes the finished Jobs `npm run migrate` created for these targets (found by their label),
 * keeping each target's newest failed one. Running Jobs are never touched. One list, one delete.
 */
export async function cleanupManualJobs(kubectl: Kubectl, targets: MigrateTarget[]): Promise<CleanupResult> {
  const jobs = await kubectl.list<KubeObject>(['jobs'], MANUAL_RUN_LABEL, { timeoutMs: 20_000 });
  const deleted: string[] = [];
  const kept: string[] = [];
  for (const target of targets) {
    const plan = planCleanup(jobs.filter((j) => j.metadata.labels?.[MANUAL_RUN_LABEL] === target));
    deleted.push(...plan.remove);
    if (plan.keep) kept.push(plan.keep);
  }
  if (deleted.length > 0) {
    // The Jobs' pods go with them (background propagation); nothing to wait for.
    await kubectl.ok(
      ['delete', 'job', ...deleted, '--ignore-not-found', '--wait=false'],
      'delete finished migration Jobs',
      { timeoutMs: 30_000 },
    );
  }
  return { deleted, kept };
}
