import { existsSync } from 'node:fs';
import path from 'node:path';
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

/**
 * Finds a tool and reads its version; a missing or old tool is an answer, not an exception. The
 * version of a binary already asked is remembered (lib/tool-cache.ts, through detectTool).
 */
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

/**
 * Why no kubeconfig can exist, when that is certain from the environment alone: KUBECONFIG names only
 * missing files, or it is unset and $HOME/.kube/config is missing, and no in-cluster service account
 * applies. Then kubectl could only try localhost:8080; saying so is clearer and spares a process.
 */
export function missingKubeconfig(env: NodeJS.ProcessEnv): string | undefined {
  if (env.KUBERNETES_SERVICE_HOST) return undefined;
  if (env.KUBECONFIG !== undefined && env.KUBECONFIG !== '') {
    const files = env.KUBECONFIG.split(path.delimiter).filter((f) => f !== '');
    return files.some((f) => existsSync(f))
      ? undefined
      : `no kubeconfig: KUBECONFIG names ${files.join(path.delimiter)}, which does not exist`;
  }
  if (!env.HOME) return undefined;
  const file = path.join(env.HOME, '.kube', 'config');
  return existsSync(file) ? undefined : `no kubeconfig: ${file} does not exist and KUBECONFIG is not set`;
}

/** Probes the target's API server (`kubectl.assertReachable`), unless offline or kubectl is missing. */
export async function probeCluster(
  opts: { offline: boolean; runner: Runner; env: NodeJS.ProcessEnv },
  target: HelmTarget,
  kubectl: ToolProbe,
): Promise<ClusterState> {
  if (opts.offline) return { status: 'offline', detail: 'skipped: --offline' };
  const noConfig = missingKubeconfig(opts.env);
  if (noConfig !== undefined) {
    return {
      status: 'unreachable',
      detail: noConfig,
      hint: "start your cluster (minikube start writes ~/.kube/config), or point KUBECONFIG at your cluster's kubeconfig",
    };
  }
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
