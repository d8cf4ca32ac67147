// Strategic merge patch for built-in types: lists of containers, env, ports, volumes... merge by
// their key; the $patch (replace/delete/merge), $retainKeys, $setElementOrder and
// $deleteFromPrimitiveList directives kubectl apply and rollout send are honoured.
import { KubeSimError } from '../runtime.ts';
import { clone, isObject, type JsonObject } from '../types.ts';
import { listStrategy, type ListStrategy } from './merge-keys.ts';

const ORDER = '$setElementOrder/';
const DELETE_PRIMITIVE = '$deleteFromPrimitiveList/';

/** Applies a strategic merge patch to a copy of `target`, an object of kind `kind`. */
export function applyStrategicPatch(kind: string, target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) throw new KubeSimError(400, 'strategic merge patch must be an object');
  return mergeMap(kind, isObject(target) ? clone(target) : {}, patch, []);
}

function mergeMap(
  kind: string,
  target: JsonObject,
  patch: JsonObject,
  path: string[],
): JsonObject | undefined {
  const directive = patch.$patch;
  if (directive === 'delete') return undefined;
  if (directive === 'replace') {
    const { $patch: _d, ...rest } = patch;
    return stripDirectives(rest) as JsonObject;
  }
  const out = target;
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith(ORDER)) continue;
    if (k.startsWith(DELETE_PRIMITIVE)) {
      const field = k.slice(DELETE_PRIMITIVE.length);
      const cur = out[field];
      if (Array.isArray(cur) && Array.isArray(v)) {
        const drop = new Set(v.map((x) => JSON.stringify(x)));
        out[field] = cur.filter((x) => !drop.has(JSON.stringify(x)));
      }
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    const childPath = [...path, k];
    if (Array.isArray(v)) {
      const merged = mergeList(kind, out[k], v, childPath);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    } else if (isObject(v)) {
      const merged = mergeMap(kind, isObject(out[k]) ? (out[k] as JsonObject) : {}, v, childPath);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    } else out[k] = v;
  }
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith(ORDER) && Array.isArray(v)) {
      const field = k.slice(ORDER.length);
      const list = out[field];
      if (Array.isArray(list)) out[field] = reorder(listStrategy(kind, [...path, field]), list, v);
    }
  }
  const retain = patch.$retainKeys;
  if (Array.isArray(retain)) {
    for (const k of Object.keys(out)) if (!retain.includes(k)) delete out[k];
  }
  return out;
}

function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.filter((x) => !(isObject(x) && x.$patch === 'delete')).map(stripDirectives);
  if (!isObject(v)) return v;
  const out: JsonObject = {};
  for (const [k, x] of Object.entries(v)) if (!k.startsWith('$')) out[k] = stripDirectives(x);
  return out;
}

function mergeList(kind: string, target: unknown, patch: unknown[], path: string[]): unknown[] | undefined {
  const strategy = listStrategy(kind, path);
  const replaceAll = patch.some((x) => isObject(x) && x.$patch === 'replace');
  if (replaceAll) return patch.filter((x) => !(isObject(x) && x.$patch === 'replace')).map(stripDirectives);
  const cur = Array.isArray(target) ? clone(target) : [];
  if (strategy.kind === 'set') {
    for (const x of patch) if (!cur.some((c) => JSON.stringify(c) === JSON.stringify(x))) cur.push(x);
    return cur;
  }
  if (strategy.kind === 'atomic') return patch.map(stripDirectives);
  const key = strategy.key;
  for (const item of patch) {
    if (!isObject(item)) {
      cur.push(item);
      continue;
    }
    const idx = cur.findIndex((c) => isObject(c) && c[key] === item[key]);
    if (item.$patch === 'delete') {
      if (idx >= 0) cur.splice(idx, 1);
      continue;
    }
    if (idx >= 0) {
      const existing = cur[idx];
      cur[idx] = mergeMap(kind, isObject(existing) ? existing : {}, item, path);
    } else cur.push(mergeMap(kind, {}, item, path));
  }
  return cur;
}

function reorder(strategy: ListStrategy, list: unknown[], order: unknown[]): unknown[] {
  const id = (x: unknown): string =>
    strategy.kind === 'map' && isObject(x) ? JSON.stringify(x[strategy.key]) : JSON.stringify(x);
  const rank = new Map(order.map((o, i) => [id(o), i]));
  const indexed = list.map((x, i) => ({ x, i, r: rank.get(id(x)) }));
  // Items the order names come in that order; others keep their place after them.
  indexed.sort((a, b) => (a.r ?? order.length + a.i) - (b.r ?? order.length + b.i));
  return indexed.map((e) => e.x);
}
