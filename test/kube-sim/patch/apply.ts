// Server-side apply, simplified: each manager's fields are tracked in metadata.managedFields;
// an apply merges the configuration (lists by their merge keys), removes the fields the same
// manager applied before and no longer does (unless someone else also owns them), and reports
// conflicts with other managers' differing values unless forced. Updates (PUT/PATCH/POST)
// transfer ownership of the fields they change to their manager.
import { KubeSimError } from '../runtime.ts';
import {
  clone,
  isObject,
  nowTimestamp,
  type JsonObject,
  type KObject,
  type ManagedFieldsEntry,
} from '../types.ts';
import {
  addPath,
  deleteAt,
  fieldsOf,
  fromFieldsV1,
  hasPath,
  leaves,
  removePath,
  toFieldsV1,
  valueAt,
  type FieldSet,
} from './fieldset.ts';
import { applyStrategicPatch } from './strategic.ts';

interface Entry {
  meta: ManagedFieldsEntry;
  set: FieldSet;
}

function entriesOf(obj: KObject | undefined): Entry[] {
  return (obj?.metadata.managedFields ?? []).map((m) => ({ meta: m, set: fromFieldsV1(m.fieldsV1) }));
}

function store(obj: KObject, entries: Entry[]): void {
  const kept = entries.filter((e) => e.set.size > 0);
  if (kept.length) {
    obj.metadata.managedFields = kept.map((e) => ({
      ...e.meta,
      fieldsType: 'FieldsV1',
      fieldsV1: toFieldsV1(e.set),
    }));
  } else delete obj.metadata.managedFields;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
const render = (path: string[]): string =>
  path
    .filter((p) => p !== '.')
    .map((p) => (p.startsWith('f:') ? `.${p.slice(2)}` : `[${p.slice(2)}]`))
    .join('');

/** Applies a configuration for `manager`; `live` is undefined when the object does not exist yet. */
export function serverSideApply(
  kind: string,
  live: KObject | undefined,
  applied: JsonObject,
  manager: string,
  force: boolean,
): KObject {
  const base: KObject = live
    ? clone(live)
    : ({ apiVersion: applied.apiVersion, kind: applied.kind, metadata: {} } as unknown as KObject);
  const newSet = fieldsOf(kind, applied);
  const entries = entriesOf(live);
  let mine = entries.find(
    (e) => e.meta.manager === manager && e.meta.operation === 'Apply' && !e.meta.subresource,
  );
  const prevSet: FieldSet = mine?.set ?? new Map();
  const others = entries.filter((e) => e !== mine && !e.meta.subresource);

  const conflicts: { entry: Entry; path: string[] }[] = [];
  if (live) {
    for (const leaf of leaves(newSet)) {
      if (leaf[leaf.length - 1] === '.') continue;
      for (const e of others) {
        if (hasPath(e.set, leaf) && !same(valueAt(live, leaf), valueAt(applied, leaf)))
          conflicts.push({ entry: e, path: leaf });
      }
    }
  }
  if (conflicts.length && !force) {
    const lines = conflicts.map(
      (c) =>
        `- conflict with "${c.entry.meta.manager}"${c.entry.meta.operation === 'Update' ? ' using ' + c.entry.meta.apiVersion : ''}: ${render(c.path)}`,
    );
    const err = new KubeSimError(
      409,
      `Apply failed with ${conflicts.length} conflict${conflicts.length > 1 ? 's' : ''}: ${conflicts.map((c) => `conflict with "${c.entry.meta.manager}": ${render(c.path)}`).join('\n')}`,
      'Conflict',
    );
    Object.assign(err, {
      causes: lines.map((l, i) => ({
        type: 'FieldManagerConflict',
        message: l.slice(2),
        field: render(conflicts[i]?.path ?? []),
      })),
    });
    throw err;
  }
  for (const c of conflicts) removePath(c.entry.set, c.path);

  const merged = applyStrategicPatch(kind, base, applied) as KObject;
  // Fields this manager applied before and no longer applies go away unless someone else owns them.
  const gone = leaves(prevSet).filter((l) => !hasPath(newSet, l));
  for (const leaf of gone.sort((a, b) => b.length - a.length)) {
    const owner = leaf[leaf.length - 1] === '.' ? leaf.slice(0, -1) : leaf;
    if (others.some((e) => hasPath(e.set, owner))) continue;
    deleteAt(merged, leaf);
  }
  if (!mine) {
    mine = {
      meta: {
        manager,
        operation: 'Apply',
        apiVersion: String(applied.apiVersion),
        time: '',
        fieldsType: 'FieldsV1',
        fieldsV1: {},
      },
      set: new Map(),
    };
    entries.push(mine);
  }
  mine.set = newSet;
  mine.meta = { ...mine.meta, apiVersion: String(applied.apiVersion), time: nowTimestamp() };
  store(merged, entries);
  return merged;
}

/** Records an update's changes (old → next, in place on next) as owned by `manager`. */
export function recordUpdate(kind: string, old: KObject | undefined, next: KObject, manager: string): void {
  const entries = entriesOf(old);
  const nextSet = fieldsOf(kind, next as unknown as JsonObject);
  const changed = leaves(nextSet).filter((l) => !old || !same(valueAt(old, l), valueAt(next, l)));
  for (const e of entries) {
    for (const l of leaves(e.set)) if (valueAt(next, l) === undefined) removePath(e.set, l);
  }
  if (changed.length) {
    let mine = entries.find(
      (e) => e.meta.manager === manager && e.meta.operation === 'Update' && !e.meta.subresource,
    );
    if (!mine) {
      mine = {
        meta: {
          manager,
          operation: 'Update',
          apiVersion: next.apiVersion,
          time: '',
          fieldsType: 'FieldsV1',
          fieldsV1: {},
        },
        set: new Map(),
      };
      entries.push(mine);
    }
    for (const l of changed) {
      for (const e of entries) if (e !== mine && !e.meta.subresource) removePath(e.set, l);
      addPath(mine.set, l);
    }
    mine.meta = { ...mine.meta, time: nowTimestamp() };
  }
  store(next, entries);
}

/** The managedFields of an object that arrived without a usable value are the server's to set. */
export function sanitizeManagedFields(obj: KObject): void {
  const mf = obj.metadata.managedFields;
  if (mf !== undefined && (!Array.isArray(mf) || mf.some((e) => !isObject(e))))
    delete obj.metadata.managedFields;
}
