import { APP } from '../components.ts';
import type { Kubectl } from '../kubectl.ts';
import { type Values, getPath } from '../values.ts';

/**
 * The API's first start. Each API replica creates the tables and the chat schema at start-up without a
 * lock (app contract: api, startup), so the chart starts one replica until the Deployment has a Ready
 * one. After such a start this says how far to scale: a second upgrade, whose lookup now sees the Ready
 * replica, renders the count the values ask for.
 */
export async function apiScaleUp(
  kubectl: Kubectl,
  values: Values,
): Promise<{ from: number; to: number } | undefined> {
  const want = Number(getPath(values, 'api.replicaCount') ?? 1);
  if (getPath(values, 'api.enabled') === false || !(want > 1)) return undefined;
  const live = await kubectl.getOptional<{
    spec?: { replicas?: number };
    status?: { readyReplicas?: number };
  }>('deployment', APP.api.name);
  const now = live?.spec?.replicas ?? 0;
  if (!live || now >= want || (live.status?.readyReplicas ?? 0) < 1) return undefined;
  return { from: now, to: want };
}
