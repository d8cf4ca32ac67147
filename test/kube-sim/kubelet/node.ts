// Facts of the one simulated node.

/** The node every pod runs on. */
export const NODE_NAME = 'kube-sim';

/** The node's address (status.hostIP of its pods). */
export const HOST_IP = '10.89.0.2';

/** Restart back-off: 0.2 s doubling up to 2 s (10 s up to 5 min on a real node). */
export function backoff(restarts: number): number {
  return Math.min(2000, 200 * 2 ** restarts);
}
