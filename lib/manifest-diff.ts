import { splitManifest } from './chart.ts';
import { isObject } from './values.ts';

/**
 * What a helm upgrade would change, from two rendered manifests (pure): objects added, removed and
 * changed (field paths), Secrets by key name only, the workloads whose pods would be replaced and why,
 * and the changes Kubernetes refuses to apply in place.
 */

/** One object of a rendered manifest. */
export interface ManifestObject {
  kind: string;
  name: string;
  namespace?: string;
  /** The chart template it came from (`# Source:` line), when known. */
  source?: string;
  body: Record<string, unknown>;
}

export type Change = 'added' | 'removed' | 'changed';

/** A Secret's key whose value would change (the value itself is never kept in a diff). */
export interface KeyChange {
  key: string;
  change: Change;
}

export interface ObjectChange {
  kind: string;
  name: string;
  change: Change;
  /** Changed field paths (changed objects; for Secrets, never under data/stringData). */
  fields?: string[];
  /** Secrets: the keys of data/stringData added, removed or changed. */
  keys?: KeyChange[];
}

/** A workload whose pods would be replaced, and why. */
export interface Roll {
  kind: string;
  name: string;
  reasons: string[];
}

/** A change Kubernetes refuses to make to an existing object (the upgrade would fail on it). */
export interface ImmutableChange {
  kind: string;
  name: string;
  fields: string[];
}

/** A workload that reads a ConfigMap/Secret that changes, while its pod template does not: it keeps the old values. */
export interface StaleReader {
  kind: string;
  name: string;
  /** `ConfigMap name` / `Secret name` */
  reads: string[];
}

export interface ManifestDiff {
  changed: boolean;
  objects: ObjectChange[];
  rolls: Roll[];
  immutable: ImmutableChange[];
  stale: StaleReader[];
}

/** The parts of a helm release document (`helm status -o json`, `helm upgrade --dry-run -o json`) compared. */
export interface ReleaseDocument {
  manifest?: string;
  hooks?: { manifest?: string; events?: string[] }[] | null;
}

/** Kinds whose pod template is rolled out by replacing the pods. */
const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

/** The StatefulSet spec fields an update may change; any other is refused by the API server. */
export const STATEFULSET_MUTABLE = [
  'replicas',
  'template',
  'updateStrategy',
  'persistentVolumeClaimRetentionPolicy',
  'minReadySeconds',
  'ordinals',
];

/** The objects of a multi-document manifest (lib/chart.ts's splitManifest; documents without a kind or name skipped). */
export function parseManifest(text: string): ManifestObject[] {
  return splitManifest(text).flatMap(({ source, object }) => {
    const body = object as unknown;
    if (!isObject(body) || typeof body.kind !== 'string') return [];
    const meta = isObject(body.metadata) ? body.metadata : {};
    if (typeof meta.name !== 'string') return [];
    return [
      {
        kind: body.kind,
        name: meta.name,
        ...(typeof meta.namespace === 'string' && { namespace: meta.namespace }),
        ...(source !== '' && { source }),
        body,
      },
    ];
  });
}

/**
 * The objects helm manages for a release document: its manifest, and its hooks other than test hooks
 * (`helm test` runs those; an upgrade does not touch them).
 */
export function releaseObjects(doc: ReleaseDocument): ManifestObject[] {
  const hooks = (doc.hooks ?? []).filter((h) => !(h.events ?? []).every((e) => e === 'test'));
  return [
    ...parseManifest(doc.manifest ?? ''),
    ...hooks.flatMap((h) => (h.manifest === undefined ? [] : parseManifest(h.manifest))),
  ];
}

const key = (o: Pick<ManifestObject, 'kind' | 'name' | 'namespace'>): string =>
  `${o.kind}/${o.namespace ?? ''}/${o.name}`;

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * How an array element is named in a path: its `name` (containers, env, volumes, ports) or
 * `metadata.name` (volumeClaimTemplates), else its index.
 */
function named(items: unknown[]): Map<string, unknown> | undefined {
  const m = new Map<string, unknown>();
  for (const it of items) {
    if (!isObject(it)) return undefined;
    const name = typeof it.name === 'string' ? it.name : get(it, 'metadata', 'name');
    if (typeof name !== 'string' || m.has(name)) return undefined;
    m.set(name, it);
  }
  return m;
}

/**
 * The paths at which two values differ: the deepest object path where a side is missing or a leaf
 * differs; arrays of named objects are matched by name (`containers[api]`), other arrays of objects by
 * index, arrays of scalars as a whole.
 */
export function changedPaths(a: unknown, b: unknown, path = ''): string[] {
  if (same(a, b)) return [];
  const at = (k: string) => (path === '' ? k : `${path}.${k}`);
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => changedPaths(a[k], b[k], at(k)));
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const na = named(a);
    const nb = named(b);
    if (na && nb && (na.size > 0 || nb.size > 0)) {
      const names = [...new Set([...na.keys(), ...nb.keys()])];
      return names.flatMap((n) => changedPaths(na.get(n), nb.get(n), `${path}[${n}]`));
    }
    if (a.some(isObject) || b.some(isObject)) {
      const n = Math.max(a.length, b.length);
      return Array.from({ length: n }, (_, i) => changedPaths(a[i], b[i], `${path}[${i}]`)).flat();
    }
  }
  return [path === '' ? '(whole object)' : path];
}

/** A Secret's effective data (stringData over data), as comparable strings: kept in memory only. */
function secretData(o: Record<string, unknown>): Map<string, string> {
  const out = new Map<string, string>();
  if (isObject(o.data))
    for (const [k, v] of Object.entries(o.data)) out.set(k, Buffer.from(String(v), 'base64').toString());
  if (isObject(o.stringData)) for (const [k, v] of Object.entries(o.stringData)) out.set(k, String(v));
  return out;
}

/** Which keys of a Secret are added, removed or changed between two versions (names only). */
export function secretKeyChanges(
  before: Record<string, unknown> | undefined,
  after: Record<string, unknown> | undefined,
): KeyChange[] {
  const a = before ? secretData(before) : new Map<string, string>();
  const b = after ? secretData(after) : new Map<string, string>();
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  const out: KeyChange[] = [];
  for (const k of keys) {
    const x = a.get(k);
    const y = b.get(k);
    if (x === y) continue;
    out.push({ key: k, change: x === undefined ? 'added' : y === undefined ? 'removed' : 'changed' });
  }
  return out;
}

/** The field paths of a change; for a Secret, none under data/stringData (those are compared by key). */
function objectFields(kind: string, a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  if (kind !== 'Secret') return changedPaths(a, b);
  const strip = (o: Record<string, unknown>) => ({ ...o, data: undefined, stringData: undefined });
  return changedPaths(strip(a), strip(b));
}

const get = (o: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((cur, p) => (isObject(cur) ? cur[p] : undefined), o);

const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

type Refs = { configMaps: Set<string>; secrets: Set<string> };

/** The ConfigMaps and Secrets a pod spec reads (env, envFrom, volumes, projected volumes). */
export function podRefs(podSpec: unknown): Refs {
  const refs: Refs = { configMaps: new Set(), secrets: new Set() };
  const add = (set: Set<string>, v: unknown) => {
    if (typeof v === 'string' && v !== '') set.add(v);
  };
  const containers = ['initContainers', 'containers'].flatMap((k) => asArray(get(podSpec, k)));
  for (const c of containers) {
    for (const e of asArray(get(c, 'envFrom'))) {
      add(refs.configMaps, get(e, 'configMapRef', 'name'));
      add(refs.secrets, get(e, 'secretRef', 'name'));
    }
    for (const e of asArray(get(c, 'env'))) {
      add(refs.configMaps, get(e, 'valueFrom', 'configMapKeyRef', 'name'));
      add(refs.secrets, get(e, 'valueFrom', 'secretKeyRef', 'name'));
    }
  }
  for (const v of asArray(get(podSpec, 'volumes'))) {
    add(refs.configMaps, get(v, 'configMap', 'name'));
    add(refs.secrets, get(v, 'secret', 'secretName'));
    for (const s of asArray(get(v, 'projected', 'sources'))) {
      add(refs.configMaps, get(s, 'configMap', 'name'));
      add(refs.secrets, get(s, 'secret', 'name'));
    }
  }
  return refs;
}

const IMAGE_PATH = /^spec\.(initContainers|containers)\[[^\]]+\]\.image$/;

/** Container images by container name (init containers too). */
function images(podSpec: unknown): Map<string, string> {
  const m = new Map<string, string>();
  for (const k of ['initContainers', 'containers'])
    for (const c of asArray(get(podSpec, k))) {
      const name = get(c, 'name');
      const image = get(c, 'image');
      if (typeof name === 'string' && typeof image === 'string') m.set(name, image);
    }
  return m;
}

/**
 * Why a workload's pods would be replaced: changed images (from → to), changed checksum annotations
 * (naming the changed ConfigMaps/Secrets the pods read), then every other pod template field by path.
 */
export function rollReasons(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  changedConfig: { configMaps: Set<string>; secrets: Set<string> },
): string[] {
  const ta = get(before, 'spec', 'template');
  const tb = get(after, 'spec', 'template');
  if (same(ta, tb)) return [];
  const reasons: string[] = [];
  const ia = images(get(ta, 'spec'));
  const ib = images(get(tb, 'spec'));
  for (const [name, image] of ib) {
    const was = ia.get(name);
    if (was !== undefined && was !== image) reasons.push(`image of container ${name}: ${was} → ${image}`);
  }
  const refs = podRefs(get(tb, 'spec'));
  const readChanged = (kind: 'ConfigMap' | 'Secret') => {
    const pool = kind === 'ConfigMap' ? changedConfig.configMaps : changedConfig.secrets;
    const mine = kind === 'ConfigMap' ? refs.configMaps : refs.secrets;
    return [...mine].filter((n) => pool.has(n)).map((n) => `${kind} ${n}`);
  };
  const annA = get(ta, 'metadata', 'annotations');
  const annB = get(tb, 'metadata', 'annotations');
  const checksums = [
    ...new Set([...Object.keys(isObject(annA) ? annA : {}), ...Object.keys(isObject(annB) ? annB : {})]),
  ]
    .filter((k) => k.startsWith('checksum/'))
    .sort();
  for (const k of checksums) {
    if (get(annA, k) === get(annB, k)) continue;
    const kinds: ('ConfigMap' | 'Secret')[] = /config/.test(k)
      ? ['ConfigMap']
      : /secret/.test(k)
        ? ['Secret']
        : ['ConfigMap', 'Secret'];
    const which = kinds.flatMap(readChanged);
    reasons.push(`annotation ${k} changed${which.length ? ` (${which.join(', ')} changed)` : ''}`);
  }
  const rest = changedPaths(ta, tb).filter(
    (p) => !p.startsWith('metadata.annotations.checksum/') && !IMAGE_PATH.test(p),
  );
  for (const p of rest) reasons.push(`pod template ${p} changed`);
  return reasons;
}

/** The spec fields of a change that Kubernetes refuses to update in place. */
export function immutableFields(
  kind: string,
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): string[] {
  const sa = get(before, 'spec');
  const sb = get(after, 'spec');
  const specA = isObject(sa) ? sa : {};
  const specB = isObject(sb) ? sb : {};
  const at = (paths: string[]) => paths.map((p) => `spec.${p}`);
  if (kind === 'StatefulSet') {
    const strip = (s: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(s).filter(([k]) => !STATEFULSET_MUTABLE.includes(k)));
    return at(changedPaths(strip(specA), strip(specB)));
  }
  if (kind === 'Deployment' || kind === 'DaemonSet' || kind === 'ReplicaSet')
    return at(changedPaths({ selector: specA.selector }, { selector: specB.selector }));
  if (kind === 'Job') {
    const pick = (s: Record<string, unknown>) => ({
      selector: s.selector,
      template: s.template,
      completions: s.completions,
    });
    return at(changedPaths(pick(specA), pick(specB)));
  }
  return [];
}

const order = (a: { kind: string; name: string }, b: { kind: string; name: string }) =>
  a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name);

/** Everything that differs between the objects a release has and the ones an upgrade would apply. */
export function diffManifests(current: ManifestObject[], next: ManifestObject[]): ManifestDiff {
  const before = new Map(current.map((o) => [key(o), o]));
  const after = new Map(next.map((o) => [key(o), o]));
  const objects: ObjectChange[] = [];
  // ConfigMaps/Secrets whose content is new or changes; `modified` only those that exist already
  const changedConfig = { configMaps: new Set<string>(), secrets: new Set<string>() };
  const modified = { configMaps: new Set<string>(), secrets: new Set<string>() };
  const pairs: [ManifestObject, ManifestObject][] = [];
  for (const [k, o] of after) {
    const was = before.get(k);
    if (!was) {
      objects.push({
        kind: o.kind,
        name: o.name,
        change: 'added',
        ...(o.kind === 'Secret' && { keys: secretKeyChanges(undefined, o.body) }),
      });
      if (o.kind === 'ConfigMap') changedConfig.configMaps.add(o.name);
      if (o.kind === 'Secret') changedConfig.secrets.add(o.name);
      continue;
    }
    if (same(was.body, o.body)) continue;
    pairs.push([was, o]);
    const fields = objectFields(o.kind, was.body, o.body);
    const keys = o.kind === 'Secret' ? secretKeyChanges(was.body, o.body) : [];
    if (fields.length === 0 && keys.length === 0) continue;
    objects.push({
      kind: o.kind,
      name: o.name,
      change: 'changed',
      ...(fields.length > 0 && { fields }),
      ...(o.kind === 'Secret' && { keys }),
    });
    const content =
      o.kind === 'Secret'
        ? keys.length > 0
        : !same(was.body.data, o.body.data) || !same(was.body.binaryData, o.body.binaryData);
    if (content && o.kind === 'ConfigMap') changedConfig.configMaps.add(o.name);
    if (content && o.kind === 'Secret') changedConfig.secrets.add(o.name);
    if (content && o.kind === 'ConfigMap') modified.configMaps.add(o.name);
    if (content && o.kind === 'Secret') modified.secrets.add(o.name);
  }
  for (const [k, o] of before) {
    if (!after.has(k)) objects.push({ kind: o.kind, name: o.name, change: 'removed' });
  }
  const rolls: Roll[] = [];
  const immutable: ImmutableChange[] = [];
  for (const [was, o] of pairs) {
    const fields = immutableFields(o.kind, was.body, o.body);
    if (fields.length > 0) immutable.push({ kind: o.kind, name: o.name, fields });
    if (!WORKLOADS.has(o.kind)) continue;
    const reasons = rollReasons(was.body, o.body, changedConfig);
    if (reasons.length > 0) rolls.push({ kind: o.kind, name: o.name, reasons });
  }
  const rolling = new Set(rolls.map((r) => `${r.kind}/${r.name}`));
  const stale: StaleReader[] = [];
  for (const o of next) {
    if (!WORKLOADS.has(o.kind) || rolling.has(`${o.kind}/${o.name}`) || !before.has(key(o))) continue;
    const refs = podRefs(get(o.body, 'spec', 'template', 'spec'));
    const reads = [
      ...[...refs.configMaps].filter((n) => modified.configMaps.has(n)).map((n) => `ConfigMap ${n}`),
      ...[...refs.secrets].filter((n) => modified.secrets.has(n)).map((n) => `Secret ${n}`),
    ];
    if (reads.length > 0) stale.push({ kind: o.kind, name: o.name, reads });
  }
  return {
    changed: objects.length > 0,
    objects: objects.sort(order),
    rolls: rolls.sort(order),
    immutable: immutable.sort(order),
    stale: stale.sort(order),
  };
}
