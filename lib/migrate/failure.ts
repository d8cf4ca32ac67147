import type { Kubectl } from '../kubectl.ts';
import type { Pod, PodFailure } from '../pod-status.ts';
import { redact } from '../redact.ts';

const LOG_TAIL = 40;

/** One line for a pod failure: what, where, why. */
export function describe(f: PodFailure): string {
  const where = `${f.init ? 'init container' : 'container'} ${f.container ?? ''} of pod ${f.pod}`;
  return `${f.reason} in ${where}: ${f.message}`;
}

/** The last lines of the failing container (its previous run after a restart), else of the newest pod. */
export async function failureLogs(kubectl: Kubectl, pods: Pod[], failure?: PodFailure): Promise<string> {
  if (failure?.container) {
    return kubectl.logs(failure.pod, {
      container: failure.container,
      previous: failure.previousLogs,
      tail: LOG_TAIL,
    });
  }
  const pod = pods.at(-1)?.metadata.name;
  if (!pod) return '';
  const res = await kubectl.run(['logs', pod, '--all-containers=true', `--tail=${LOG_TAIL}`], {
    timeoutMs: 15_000,
  });
  return res.exitCode === 0 ? redact(res.stdout) : '';
}
