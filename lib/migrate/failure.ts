import type { Kubectl } from '../kubectl.ts';
import type { Pod, PodFailure } from '../pod-status.ts';
import { redact } from '../redact.ts';

const LOG_TAIL = 40;

/** One line for a pod failure: what, where, why. */
export function describe(f: PodFailure): string {
  const where = `${f.init ? 'init container' : 'container'} ${f.container ?? ''} of pod ${f.pod}`;
  return `${f.reason} in ${where}: ${f.message}`;
}

/** The container of a pod that exited non-zero (init containers first: they run first), if any. */
export function exitedWithError(pod: Pod): string | undefined {
  const st = pod.status ?? {};
  for (const cs of [...(st.initContainerStatuses ?? []), ...(st.containerStatuses ?? [])]) {
    const code = cs.state?.terminated?.exitCode;
    if (code !== undefined && code !== 0) return cs.name;
  }
  return undefined;
}

/**
 * The last lines of the failing container (its previous run after a restart); else of the newest
 * pod's container that exited with an error; else of all that pod's containers.
 */
export async function failureLogs(kubectl: Kubectl, pods: Pod[], failure?: PodFailure): Promise<string> {
  if (failure?.container) {
    return kubectl.logs(failure.pod, {
      container: failure.container,
      previous: failure.previousLogs,
      tail: LOG_TAIL,
    });
  }
  const pod = pods.at(-1);
  if (!pod) return '';
  const container = exitedWithError(pod);
  if (container) return kubectl.logs(pod.metadata.name, { container, tail: LOG_TAIL });
  const res = await kubectl.run(['logs', pod.metadata.name, '--all-containers=true', `--tail=${LOG_TAIL}`], {
    timeoutMs: 15_000,
  });
  return res.exitCode === 0 ? redact(res.stdout) : '';
}
