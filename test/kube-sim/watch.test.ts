// Unit tests of the store and watch semantics: resourceVersions, conflicts, generation,
// initial events, replay, 410 Gone, filters that objects move in and out of, bookmarks; and of
// label/field selectors.
import { describe, expect, it } from 'vitest';
import { typeByKind } from './resources.ts';
import { KubeSimError } from './runtime.ts';
import { fromLabelSelector, matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors.ts';
import { Store } from './store.ts';
import { makeObject, type KObject } from './types.ts';
import { WatchHub, type WatchEvent } from './watch.ts';

const NS = typeByKind('Namespace');
const CM = typeByKind('ConfigMap');
const DEPLOY = typeByKind('Deployment');

function setup(): { store: Store; hub: WatchHub } {
  const store = new Store();
  const hub = new WatchHub(store);
  store.create(NS, makeObject('v1', 'Namespace', { name: 'a' }));
  store.create(NS, makeObject('v1', 'Namespace', { name: 'b' }));
  return { store, hub };
}
const cm = (
  ns: string,
  name: string,
  labels?: Record<string, string>,
  data: Record<string, string> = {},
): KObject => makeObject('v1', 'ConfigMap', { name, namespace: ns, ...(labels && { labels }) }, { data });
const summary = (events: WatchEvent[]): string[] =>
  events.map((e) => `${e.type} ${e.object.metadata.name ?? ''}`);

describe('store', () => {
  it('assigns increasing resourceVersions and rejects stale updates with 409', () => {
    const { store } = setup();
    const a = store.create(CM, cm('a', 'one'));
    const b = store.update(CM, { ...a, data: { k: 'v' } });
    expect(Number(b.metadata.resourceVersion)).toBeGreaterThan(Number(a.metadata.resourceVersion));
    expect(() => store.update(CM, { ...a, data: { k: 'w' } })).toThrow(/the object has been modified/);
    expect(() => store.create(CM, cm('a', 'one'))).toThrow(/configmaps "one" already exists/);
    expect(() => store.create(CM, cm('nowhere', 'x'))).toThrow(/namespaces "nowhere" not found/);
  });

  it('keeps the resourceVersion on a no-op write and bumps generation only on spec changes', () => {
    const { store } = setup();
    const d = store.create(
      DEPLOY,
      makeObject('apps/v1', 'Deployment', { name: 'd', namespace: 'a' }, { spec: { replicas: 1 } }),
    );
    expect(d.metadata.generation).toBe(1);
    expect(store.update(DEPLOY, d).metadata.resourceVersion).toBe(d.metadata.resourceVersion);
    const labelled = store.update(DEPLOY, { ...d, metadata: { ...d.metadata, labels: { x: 'y' } } });
    expect(labelled.metadata.generation).toBe(1);
    const scaled = store.update(DEPLOY, { ...labelled, spec: { replicas: 3 } });
    expect(scaled.metadata.generation).toBe(2);
    const status = store.update(
      DEPLOY,
      { ...scaled, status: { replicas: 3 }, spec: { replicas: 9 } },
      { subresource: 'status' },
    );
    expect(status.spec).toEqual({ replicas: 3 });
    expect(status.metadata.generation).toBe(2);
    expect(store.update(DEPLOY, { ...status, status: { replicas: 0 } }).status).toEqual({ replicas: 3 });
  });

  it('names objects from generateName', () => {
    const { store } = setup();
    const o = store.create(CM, makeObject('v1', 'ConfigMap', { generateName: 'job-', namespace: 'a' }));
    expect(o.metadata.name).toMatch(/^job-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });
});

describe('watch', () => {
  it('starts with the current state as ADDED events, then streams changes of its namespace', () => {
    const { store, hub } = setup();
    store.create(CM, cm('a', 'one'));
    store.create(CM, cm('b', 'other'));
    const seen: WatchEvent[] = [];
    const stop = hub.watch(CM, { namespace: 'a' }, (e) => seen.push(e));
    const two = store.create(CM, cm('a', 'two'));
    store.update(CM, { ...two, data: { x: '1' } });
    store.create(CM, cm('b', 'ignored'));
    store.remove(CM, 'a', 'one');
    stop();
    store.create(CM, cm('a', 'after-stop'));
    expect(summary(seen)).toEqual(['ADDED one', 'ADDED two', 'MODIFIED two', 'DELETED one']);
  });

  it('replays from a resourceVersion and answers 410 Gone once it is compacted away', () => {
    const { store, hub } = setup();
    const one = store.create(CM, cm('a', 'one'));
    store.create(CM, cm('a', 'two'));
    store.update(CM, { ...one, data: { v: '2' } });
    const seen: WatchEvent[] = [];
    hub.watch(CM, { resourceVersion: one.metadata.resourceVersion }, (e) => seen.push(e))();
    expect(summary(seen)).toEqual(['ADDED two', 'MODIFIED one']);
    hub.compact();
    let err: unknown;
    try {
      hub.watch(CM, { resourceVersion: one.metadata.resourceVersion }, () => undefined);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KubeSimError);
    expect((err as KubeSimError).statusCode).toBe(410);
    expect((err as KubeSimError).reason).toBe('Expired');
    expect(() =>
      hub.watch(CM, { resourceVersion: String(store.currentRv()) }, () => undefined)(),
    ).not.toThrow();
  });

  it('sends the initial-events-end bookmark after the initial events when asked to', () => {
    const { store, hub } = setup();
    store.create(CM, cm('a', 'one'));
    const seen: WatchEvent[] = [];
    hub.watch(CM, { sendInitialEvents: true, resourceVersion: '', allowBookmarks: true }, (e) =>
      seen.push(e),
    )();
    expect(seen.map((e) => e.type)).toEqual(['ADDED', 'BOOKMARK']);
    expect(seen[1]?.object.metadata).toEqual({
      resourceVersion: String(store.currentRv()),
      annotations: { 'k8s.io/initial-events-end': 'true' },
    });
  });

  it('turns objects entering or leaving a label or field filter into ADDED and DELETED', () => {
    const { store, hub } = setup();
    const byLabel: WatchEvent[] = [];
    const byField: WatchEvent[] = [];
    hub.watch(CM, { labels: parseLabelSelector('tier=web') }, (e) => byLabel.push(e));
    hub.watch(CM, { fields: parseFieldSelector('metadata.name=target') }, (e) => byField.push(e));
    const o = store.create(CM, cm('a', 'target', { tier: 'db' }));
    const moved = store.update(CM, { ...o, metadata: { ...o.metadata, labels: { tier: 'web' } } });
    const changed = store.update(CM, { ...moved, data: { a: '1' } });
    store.update(CM, { ...changed, metadata: { ...changed.metadata, labels: { tier: 'db' } } });
    store.remove(CM, 'a', 'target');
    expect(byLabel.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    expect(byField.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'MODIFIED', 'MODIFIED', 'DELETED']);
  });
});

describe('selectors', () => {
  it.each([
    ['app=web', { app: 'web' }, true],
    ['app==web,tier!=db', { app: 'web', tier: 'db' }, false],
    ['app in (web, api),!legacy', { app: 'api' }, true],
    ['app notin (web)', {}, true],
    ['app', {}, false],
    ['', { any: 'x' }, true],
  ])('%s on %j is %s', (sel, labels, want) => {
    expect(matchesLabels(parseLabelSelector(sel), labels)).toBe(want);
  });
  it('reads LabelSelector objects with match expressions', () => {
    const sel = fromLabelSelector({
      matchLabels: { app: 'x' },
      matchExpressions: [
        { key: 'env', operator: 'NotIn', values: ['prod'] },
        { key: 'team', operator: 'Exists' },
      ],
    });
    expect(matchesLabels(sel, { app: 'x', team: 't', env: 'dev' })).toBe(true);
    expect(matchesLabels(sel, { app: 'x', team: 't', env: 'prod' })).toBe(false);
  });
  it('rejects malformed selectors with 400', () => {
    expect(() => parseLabelSelector('a b c')).toThrow(KubeSimError);
    expect(() => parseFieldSelector('nonsense')).toThrow(/invalid field selector/);
  });
});
