import { ExitCode, InterruptedError, OperationError } from '../errors.ts';
import type { Kubectl } from '../kubectl.ts';
import { type Pod, type PodFailure, podFailures } from '../pod-status.ts';

/** Pod failures that waiting will not fix: stop at once instead of sitting out the timeout. */
const HARD = new Set(['pods.crashloop', 'pods.image', 'pods.config', 'pods.oom']);

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

/** The first hard failure among a Deployment's pods, if any. */
export function firstHardFailure(pods: readonly Pod[]): PodFailure | undefined {
  for (const p of pods) {
    if (p.metadata.deletionTimestamp) continue;
    const f = podFailures(p).find((x) => HARD.has(x.id));
    if (f) return f;
  }
  return undefined;
}

/**
 * Waits for each Deployment's rollout (`kubectl rollout status`), stopping early when one of its pods
 * fails in a way that will not fix itself (crash loop, image, config, OOM), with the reason.
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
        hint: `see what the release holds: npm run doctor -n ${opts.namespace}`,
      });
    }
    const seconds = Math.max(1, Math.ceil(opts.timeoutMs / 1000));
    const child = kubectl.start(['rollout', 'status', `deployment/${d}`, `--timeout=${seconds}s`]);
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    let stop = false;
    const poll = (async (): Promise<PodFailure | undefined> => {
      while (!stop && !opts.signal.aborted) {
        await new Promise((r) => setTimeout(r, opts.pollMs ?? 2000).unref());
        if (stop) return undefined;
        const pods = await kubectl.list<Pod>(['pods'], selector, { timeoutMs: 15_000 }).catch(() => []);
        const f = firstHardFailure(pods);
        if (f) return f;
      }
      return undefined;
    })();
    const onAbort = (): void => void child.stop();
    opts.signal.addEventListener('abort', onAbort, { once: true });
    const first = await Promise.race([
      child.exited.then((code) => ({ code })),
      poll.then((failure) => ({ failure })),
    ]);
    stop = true;
    opts.signal.removeEventListener('abort', onAbort);
    await child.stop();
    if (opts.signal.aborted) throw new InterruptedError('interrupted');
    if ('failure' in first && first.failure) {
      const f = first.failure;
      throw new OperationError(
        `${d} does not start: ${f.reason} in ${f.object}${f.container ? ` (container ${f.container})` : ''}: ${f.message}`,
        {
          hint: `details and logs: npm run doctor -n ${opts.namespace}`,
        },
      );
    }
    if ('code' in first && first.code !== ExitCode.Ok) {
      const last = stderr.trim().split('\n').pop() ?? '';
      throw new OperationError(
        `${d} is not ready after ${seconds}s${last ? `: ${last.replace(/^error: /, '')}` : ''}`,
        {
          hint: `see why: npm run doctor -n ${opts.namespace}`,
        },
      );
    }
  }
}
