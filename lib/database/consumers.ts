import { npmRun } from '../suggest.ts';
import { InterruptedError, OperationError } from '../errors.ts';
import type { KubeObject, Kubectl } from '../kubectl.ts';
import type { Logger } from '../log.ts';
import type { Pod } from '../pod-status.ts';
import { describe, waitForDeployment } from '../rollout.ts';
import { abortableSleep } from '../time.ts';

/** A Deployment scaled down by the restore, and the replicas it goes back to. */
export interface Scaled {
  name: string;
  replicas: number;
}

export interface ScaleLimits {
  deadline: number;
  timeoutText: string;
  signal: AbortSignal;
  log: Logger;
  pollMs?: number;
}

type Deployment = KubeObject & {
  spec?: { replicas?: number; selector?: { matchLabels?: Record<string, string> } };
};

/** The `-l` selector of a Deployment's pods (its matchLabels). */
export function podSelector(dep: Deployment): string | undefined {
  const labels = dep.spec?.selector?.matchLabels ?? {};
  const parts = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
  return parts.length ? parts.join(',') : undefined;
}

/** kubectl arguments that scale a Deployment. */
export function scaleArgs(name: string, replicas: number): string[] {
  return ['scale', `deployment/${name}`, `--replicas=${replicas}`];
}

async function podsOf(kubectl: Kubectl, name: string): Promise<Pod[]> {
  const dep = await kubectl.getOptional<Deployment>('deployment', name);
  const sel = dep && podSelector(dep);
  if (!sel) return [];
  return kubectl.list<Pod>(['pods'], sel, { timeoutMs: 20_000 });
}

/**
 * Scales each Deployment to zero (those not deployed, or already at zero, are left alone) and waits
 * until their pods are gone. Each one is added to `scaled` before it is scaled, so the caller can always
 * bring back exactly what was stopped.
 */
export async function scaleDown(
  kubectl: Kubectl,
  names: readonly string[],
  scaled: Scaled[],
  limits: ScaleLimits,
): Promise<void> {
  for (const name of names) {
    const dep = await kubectl.getOptional<Deployment>('deployment', name);
    if (!dep) {
      limits.log.info(`deployment/${name} is not deployed: nothing to stop`);
      continue;
    }
    const replicas = dep.spec?.replicas ?? 1;
    if (replicas === 0) {
      limits.log.info(`deployment/${name} is already scaled to zero`);
      continue;
    }
    scaled.push({ name, replicas });
    limits.log.step(`stopping deployment/${name} (${replicas} replica${replicas === 1 ? '' : 's'} → 0)`);
    await kubectl.ok(scaleArgs(name, 0), `scale deployment/${name} to 0`);
  }
  for (const { name } of scaled) {
    for (;;) {
      const pods = await podsOf(kubectl, name);
      if (pods.length === 0) break;
      if (Date.now() >= limits.deadline) {
        throw new OperationError(
          `the pods of deployment/${name} did not stop within ${limits.timeoutText}: ${pods.map((p) => p.metadata.name).join(', ')}`,
          { hint: `see what holds them: kubectl get pods -n ${kubectl.target.namespace}` },
        );
      }
      await abortableSleep(limits.pollMs ?? 500, limits.signal);
    }
  }
}

/** What scaling back up gave: the Deployments that did not come back, with why, and those not waited for. */
export interface ScaleUpOutcome {
  failed: { name: string; reason: string }[];
  /** scaled back, but not waited for (Ctrl+C) */
  unwaited: string[];
}

/**
 * Scales each Deployment back to its replicas, then waits for each rollout (not after Ctrl+C: the scale
 * is then only asked for). Never throws: every one is tried, and the failures are returned.
 */
export async function scaleUp(
  kubectl: Kubectl,
  scaled: readonly Scaled[],
  limits: ScaleLimits,
): Promise<ScaleUpOutcome> {
  const failed: ScaleUpOutcome['failed'] = [];
  const unwaited: string[] = [];
  const asked: Scaled[] = [];
  for (const s of scaled) {
    limits.log.step(
      `starting deployment/${s.name} again (${s.replicas} replica${s.replicas === 1 ? '' : 's'})`,
    );
    const res = await kubectl.run(scaleArgs(s.name, s.replicas)).catch((e: unknown) => e as Error);
    if (res instanceof Error || res.exitCode !== 0) {
      const why =
        res instanceof Error ? res.message : res.stderr.trim().split('\n')[0] || `exit ${res.exitCode}`;
      failed.push({ name: s.name, reason: `scale back to ${s.replicas} failed: ${why}` });
    } else asked.push(s);
  }
  if (limits.signal.aborted) {
    return { failed, unwaited: asked.map((s) => s.name) };
  }
  for (const s of asked) {
    try {
      const outcome = await waitForDeployment(kubectl, s.name, {
        deadline: limits.deadline,
        signal: limits.signal,
        pods: () => podsOf(kubectl, s.name),
        onLine: (line) => limits.log.raw(`[${s.name}] ${line}`),
        ...(limits.pollMs !== undefined && { pollMs: limits.pollMs }),
      });
      if (!outcome.ok) {
        const reason = outcome.failure
          ? describe(outcome.failure)
          : outcome.timedOut
            ? `not ready within ${limits.timeoutText}`
            : (outcome.statusError ?? 'rollout failed');
        failed.push({ name: s.name, reason });
      }
    } catch (err) {
      if (err instanceof InterruptedError) unwaited.push(s.name);
      else failed.push({ name: s.name, reason: (err as Error).message });
    }
  }
  return { failed, unwaited };
}

/** The error when applications did not come back: each one with why, and what to run. */
export function scaleUpError(namespace: string, failed: ScaleUpOutcome['failed']): string {
  return `${failed.map((f) => `deployment/${f.name}: ${f.reason}`).join('; ')} (see why: ${npmRun('doctor', '-n', namespace)})`;
}
