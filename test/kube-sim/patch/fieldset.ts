// Field sets of server-side apply: tries of path elements in the FieldsV1 notation
// (f:<field>, k:<list item key as JSON>, v:<set value as JSON>, "." for the item itself).
import { isObject, type JsonObject } from '../types.ts';
import { itemKey, listStrategy } from './merge-keys.ts';

/** A set of field paths, as a trie. */
export type FieldSet = Map<string, FieldSet>;

// Fields the server owns: never tracked in managedFields.
const META_SKIP = new Set([
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'managedFields',
  'selfLink',
]);

/** The fields an object (or applied configuration) sets; status only when `withStatus`. */
export function fieldsOf(kind: string, value: JsonObject, path: string[] = [], withStatus = false): FieldSet {
  const set: FieldSet = new Map();
  for (const [k, v] of Object.entries(value)) {
    if (path.length === 0 && (k === 'apiVersion' || k === 'kind' || (k === 'status' && !withStatus)))
      continue;
    if (path.length === 1 && path[0] === 'metadata' && META_SKIP.has(k)) continue;
    if (v === null || v === undefined) continue;
    const childPath = [...path, k];
    if (isObject(v) && Object.keys(v).length > 0) {
      const child = fieldsOf(kind, v, childPath, true);
      // metadata holding only server-owned fields (name, namespace...) is not a field of its own.
      if (child.size > 0 || !(path.length === 0 && k === 'metadata')) set.set(`f:${k}`, child);
    } else if (Array.isArray(v)) {
      const s = listStrategy(kind, childPath);
      const node: FieldSet = new Map();
      if (s.kind === 'map') {
        for (const item of v) {
          const key = itemKey(s, item);
          if (!key || !isObject(item)) continue;
          const itemSet = fieldsOf(kind, item, childPath, true);
          node.set(`k:${JSON.stringify(key)}`, new Map([['.', new Map()], ...itemSet]));
        }
      } else if (s.kind === 'set') {
        for (const item of v) node.set(`v:${JSON.stringify(item)}`, new Map());
      }
      set.set(`f:${k}`, node);
    } else set.set(`f:${k}`, new Map());
  }
  return set;
}

/** Every path from the root to a leaf. */
export function leaves(set: FieldSet, prefix: string[] = []): string[][] {
  const out: string[][] = [];
  for (const [k, child] of set) {
    const p = [...prefix, k];
    if (child.size === 0) out.push(p);
    else out.push(...leaves(child, p));
  }
  return out;
}

/** Does the set hold this path, or anything below it? */
export function hasPath(set: FieldSet, path: readonly string[]): boolean {
  let cur: FieldSet | undefined = set;
  for (const p of path) {
    cur = cur.get(p);
    if (!cur) return false;
  }
  return true;
}

/** Adds a path to a set. */
export function addPath(set: FieldSet, path: readonly string[]): void {
  let cur = set;
  for (const p of path) {
    let next = cur.get(p);
    if (!next) cur.set(p, (next = new Map()));
    cur = next;
  }
}

/** Removes a path (and anything below it) from a set, pruning empty parents. */
export function removePath(set: FieldSet, path: readonly string[]): void {
  const [head, ...rest] = path;
  if (head === undefined) return;
  const child = set.get(head);
  if (!child) return;
  if (rest.length === 0) {
    set.delete(head);
    return;
  }
  removePath(child, rest);
  if (child.size === 0) set.delete(head);
}

/** The set as FieldsV1 JSON. */
export function toFieldsV1(set: FieldSet): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of set) out[k] = toFieldsV1(v);
  return out;
}

/** A set from FieldsV1 JSON. */
export function fromFieldsV1(json: unknown): FieldSet {
  const set: FieldSet = new Map();
  if (isObject(json)) for (const [k, v] of Object.entries(json)) set.set(k, fromFieldsV1(v));
  return set;
}

function matchesKey(item: unknown, key: JsonObject): boolean {
  if (!isObject(item)) return false;
  return Object.entries(key).every(([k, v]) => (item[k] ?? (k === 'protocol' ? 'TCP' : undefined)) === v);
}

/** The value at a field path in an object (undefined when absent). */
export function valueAt(obj: unknown, path: readonly string[]): unknown {
  let cur = obj;
  for (const p of path) {
    if (p === '.') continue;
    if (p.startsWith('f:')) cur = isObject(cur) ? cur[p.slice(2)] : undefined;
    else if (p.startsWith('k:')) {
      const key = JSON.parse(p.slice(2)) as JsonObject;
      cur = Array.isArray(cur) ? cur.find((x) => matchesKey(x, key)) : undefined;
    } else if (p.startsWith('v:')) {
      const want = p.slice(2);
      cur = Array.isArray(cur) ? cur.find((x) => JSON.stringify(x) === want) : undefined;
    }
    if (cur === undefined) return undefined;
  }
  return cur;
}

/** Deletes the field, list item or set value at a path from an object (in place). */
export function deleteAt(obj: unknown, path: readonly string[]): void {
  const p = path[path.length - 1] === '.' ? path.slice(0, -1) : path;
  const last = p[p.length - 1];
  if (last === undefined) return;
  const parent = valueAt(obj, p.slice(0, -1));
  if (last.startsWith('f:') && isObject(parent)) delete parent[last.slice(2)];
  else if (Array.isArray(parent)) {
    const idx = last.startsWith('k:')
      ? parent.findIndex((x) => matchesKey(x, JSON.parse(last.slice(2)) as JsonObject))
      : parent.findIndex((x) => JSON.stringify(x) === last.slice(2));
    if (idx >= 0) parent.splice(idx, 1);
  }
}
