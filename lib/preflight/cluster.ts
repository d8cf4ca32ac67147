import { TaskflowError } from '../errors.ts';
import type { Runner } from '../exec.ts';
import type { HelmTarget } from '../helm.ts';
import { Kubectl } from '../kubectl.ts';
import { type ToolInfo, type ToolName, detectTool } from '../tools.ts';

/** A tool found (with its version) or why not. */
export interface ToolProbe {
  info?: ToolInfo;
  error?: { message: string; hint?: string };
}

/** Finds a tool and reads its version; a missing or old tool is an answer, not an exception. */
export async function probeTool(name: ToolName, runner: Runner, env: NodeJS.ProcessEnv): Promise<ToolProbe> {
  try {
    return { info: await detectTool(name, runner, env) };
  } catch (err) {
    const hint = err instanceof TaskflowError ? err.hint : undefined;
    return {
      error: {
        message: err instanceof Error ? err.message : String(err),
        ...(hint !== undefined && { hint }),
      },
    };
  }
}

/** Whether the cluster checks can run, and kubectl bound to the target when they can. */
export interface ClusterState {
  status: 'reachable' | 'unreachable' | 'offline' | 'no-kubectl';
  kubectl?: Kubectl;
  detail: string;
  hint?: string;
}

/** Probes the target's API server (`kubectl.assertReachable`), unless offline or kubectl is missing. */
export async function probeCluster(
  opts: { offline: boolean; runner: Runner },
  target: HelmTarget,
  kubectl: ToolProbe,
): Promise<ClusterState> {
  if (opts.offline) return { status: 'offline', detail: 'skipped: --offline' };
  if (!kubectl.info) {
    return {
      status: 'no-kubectl',
      detail: `skipped: ${kubectl.error?.message ?? 'kubectl not found'}`,
      ...(kubectl.error?.hint !== undefined && { hint: kubectl.error.hint }),
    };
  }
  const k = new Kubectl(opts.runner, kubectl.info.path, target);
  try {
    await k.assertReachable();
  } catch (err) {
    const hint = err instanceof TaskflowError ? err.hint : undefined;
    return {
      status: 'unreachable',
      detail: err instanceof Error ? err.message : String(err),
      ...(hint !== undefined && { hint }),
    };
  }
  const where = target.context ? `context "${target.context}"` : 'the current kube context';
  return { status: 'reachable', kubectl: k, detail: `${where} answers` };
}
