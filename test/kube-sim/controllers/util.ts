// Helpers the controllers share: pod facts, owner lookups, template hashing, conditions.
import { isObject, nowTimestamp, type JsonObject, type KObject } from '../types.ts';

/** "ns/name" of an object. */
export function keyOf(o: KObject): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

/** Splits "ns/name". */
export function splitKey(key: string): [string | undefined, string] {
  const i = key.indexOf('/');
  const ns = key.slice(0, i);
  return [ns || undefined, key.slice(i + 1)];
}

/** The pod's phase. */
export function phaseOf(pod: KObject): string {
  return String((pod.status as JsonObject | undefined)?.phase ?? 'Pending');
}

/** Is the pod neither finished nor being deleted? */
export function isActive(pod: KObject): boolean {
  const phase = phaseOf(pod);
  return !pod.metadata.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed';
}

/** Does the pod have the Ready condition? */
export function isReady(pod: KObject): boolean {
  const conds = (pod.status as JsonObject | undefined)?.conditions;
  return Array.isArray(conds) && conds.some((c: JsonObject) => c.type === 'Ready' && c.status === 'True');
}

/** The objects among `all` whose controller is `owner`. */
export function ownedBy(all: KObject[], owner: KObject): KObject[] {
  return all.filter((o) =>
    o.metadata.ownerReferences?.some((r) => r.controller && r.uid === owner.metadata.uid),
  );
}

function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (isObject(v)) {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => v[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stable(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

/** A short stable hash of a pod template, spelled like Kubernetes' pod-template-hash. */
export function templateHash(tpl: unknown): string {
  let h = 0x811c9dc5;
  for (const ch of Buffer.from(stable(tpl))) {
    h ^= ch;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return String(h)
    .split('')
    .map((d) => SAFE[Number(d)] ?? 'b')
    .join('');
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  lastUpdateTime?: string;
  lastProbeTime?: string | null;
}

/**
 * Sets a condition in a list, keeping lastTransitionTime unless the status changes, and
 * lastUpdateTime (when `withUpdateTime`) unless something changes.
 */
export function setCondition(
  list: Condition[],
  c: Condition,
  withUpdateTime = false,
  touch = false,
): Condition[] {
  const now = nowTimestamp();
  const old = list.find((x) => x.type === c.type);
  const changed =
    touch || !old || old.status !== c.status || old.reason !== c.reason || old.message !== c.message;
  const next: Condition = {
    ...c,
    ...(withUpdateTime && { lastUpdateTime: changed ? now : (old?.lastUpdateTime ?? now) }),
    lastTransitionTime: old && old.status === c.status ? (old.lastTransitionTime ?? now) : now,
  };
  const idx = list.findIndex((x) => x.type === c.type);
  if (idx < 0) return [...list, next];
  return list.map((x, i) => (i === idx ? next : x));
}

/** Compares JSON values. */
export function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
