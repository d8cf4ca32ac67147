import { InterruptedError, OperationError } from '../errors.ts';
import type { Kubectl } from '../kubectl.ts';
import type { Pod } from '../pod-status.ts';
import { waitForDeployment } from '../rollout.ts';
import { npmRun } from '../suggest.ts';

export interface WaitOptions {
  timeoutMs: number;
  signal: AbortSignal;
  namespace: string;
  pollMs?: number;
}

/** The label selector of a Deployment's pods (`a=b,c=d`), or undefined when it does not exist. */
async function podSelector(kubectl: Kubectl, deployment: string): Promise<string | undefined> {
  const d = await kubectl.getOptional<{ spec?: { selector?: { matchLabels?: Record<string, string> } } }>(
    'deployment',
    deployment,
  );
  if (!d) return undefined;
  return Object.entries(d.spec?.selector?.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/**
 * Waits for each Deployment's rollout (lib/rollout.ts), stopping early when one of its pods fails in a
 * way that will not fix itself, with the reason.
 */
export async function waitForRollouts(
  kubectl: Kubectl,
  deployments: readonly string[],
  opts: WaitOptions,
): Promise<void> {
  for (const d of deployments) {
    const selector = await podSelector(kubectl, d);
    if (selector === undefined) {
      throw new OperationError(`deployment ${d} not found after the upgrade`, {
        hint: `see what the release holds: ${npmRun('doctor', '-n', opts.namespace)}`,
      });
    }
    const seconds = Math.max(1, Math.ceil(opts.timeoutMs / 1000));
    const outcome = await waitForDeployment(kubectl, d, {
      deadline: Date.now() + opts.timeoutMs,
      signal: opts.signal,
      pods: () => kubectl.list<Pod>(['pods'], selector, { timeoutMs: 15_000 }),
      pollMs: opts.pollMs ?? 2000,
    }).catch((err: unknown) => {
      if (opts.signal.aborted) throw new InterruptedError('interrupted');
      throw err;
    });
    if (outcome.ok) continue;
    const f = outcome.failure;
    if (f) {
      throw new OperationError(
        `${d} does not start: ${f.reason} in ${f.object}${f.container ? ` (container ${f.container})` : ''}: ${f.message}`,
        { hint: `details and logs: ${npmRun('doctor', '-n', opts.namespace)}` },
      );
    }
    throw new OperationError(
      `${d} is not ready after ${seconds}s${outcome.statusError ? `: ${outcome.statusError}` : ''}`,
      { hint: `see why: ${npmRun('doctor', '-n', opts.namespace)}` },
    );
  }
}
