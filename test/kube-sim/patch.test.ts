// Unit tests of the patch formats: JSON Patch, JSON Merge Patch, strategic merge patch (the
// directives kubectl sends) and server-side apply with field managers.
import { describe, expect, it } from 'vitest';
import { recordUpdate, serverSideApply } from './patch/apply.ts';
import { applyJsonPatch } from './patch/json-patch.ts';
import { applyMergePatch } from './patch/merge-patch.ts';
import { applyStrategicPatch } from './patch/strategic.ts';
import { KubeSimError } from './runtime.ts';
import type { JsonObject, KObject } from './types.ts';

const pod = (containers: JsonObject[]): JsonObject => ({ spec: { template: { spec: { containers } } } });

describe('JSON Patch', () => {
  const doc = { a: { b: [1, 2, 3] }, 'x/y': 1, '~t': 2 };
  it.each([
    ['add to a list', [{ op: 'add', path: '/a/b/1', value: 9 }], { a: { b: [1, 9, 2, 3] } }],
    ['append with -', [{ op: 'add', path: '/a/b/-', value: 4 }], { a: { b: [1, 2, 3, 4] } }],
    ['remove', [{ op: 'remove', path: '/a/b/0' }], { a: { b: [2, 3] } }],
    ['replace', [{ op: 'replace', path: '/a', value: 'v' }], { a: 'v' }],
    [
      'escaped keys',
      [
        { op: 'replace', path: '/x~1y', value: 5 },
        { op: 'remove', path: '/~0t' },
      ],
      { 'x/y': 5 },
    ],
    ['move', [{ op: 'move', from: '/a/b', path: '/c' }], { a: {}, c: [1, 2, 3] }],
    ['copy', [{ op: 'copy', from: '/a/b/2', path: '/d' }], { d: 3 }],
  ])('%s', (_name, ops, expected) => {
    expect(applyJsonPatch(doc, ops)).toMatchObject(expected);
  });
  it('fails a test operation and a missing path, leaving the input alone', () => {
    expect(() => applyJsonPatch(doc, [{ op: 'test', path: '/a/b/0', value: 7 }])).toThrow(/test failed/);
    expect(() => applyJsonPatch(doc, [{ op: 'remove', path: '/nope' }])).toThrow(KubeSimError);
    expect(doc.a.b).toEqual([1, 2, 3]);
  });
});

describe('JSON Merge Patch', () => {
  it('merges objects, deletes with null, replaces lists whole', () => {
    expect(applyMergePatch({ a: 1, b: { c: 2, d: 3 }, l: [1, 2] }, { a: null, b: { c: 5 }, l: [3] })).toEqual(
      { b: { c: 5, d: 3 }, l: [3] },
    );
  });
});

describe('strategic merge patch', () => {
  const live = pod([
    {
      name: 'app',
      image: 'app:1',
      env: [
        { name: 'A', value: '1' },
        { name: 'B', value: '2' },
      ],
      ports: [{ containerPort: 80 }],
      args: ['x', 'y'],
    },
    { name: 'side', image: 'side:1' },
  ]);

  it('merges containers, env and ports by key; replaces plain lists', () => {
    const out = applyStrategicPatch(
      'Deployment',
      live,
      pod([
        {
          name: 'app',
          image: 'app:2',
          env: [
            { name: 'B', value: 'two' },
            { name: 'C', value: '3' },
          ],
          ports: [{ containerPort: 81 }],
          args: ['z'],
        },
      ]),
    );
    expect(out).toEqual(
      pod([
        {
          name: 'app',
          image: 'app:2',
          env: [
            { name: 'A', value: '1' },
            { name: 'B', value: 'two' },
            { name: 'C', value: '3' },
          ],
          ports: [{ containerPort: 80 }, { containerPort: 81 }],
          args: ['z'],
        },
        { name: 'side', image: 'side:1' },
      ]),
    );
  });

  it('honours $patch delete/replace, $setElementOrder, $deleteFromPrimitiveList, $retainKeys and null', () => {
    const out = applyStrategicPatch('Deployment', live, {
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'side' }, { name: 'app' }],
            containers: [{ name: 'app', env: [{ name: 'A', $patch: 'delete' }], ports: null }],
          },
        },
      },
    }) as JsonObject;
    expect(out).toEqual(
      pod([
        { name: 'side', image: 'side:1' },
        { name: 'app', image: 'app:1', env: [{ name: 'B', value: '2' }], args: ['x', 'y'] },
      ]),
    );
    expect(
      applyStrategicPatch('Deployment', live, pod([{ $patch: 'replace' }, { name: 'only', image: 'o:1' }])),
    ).toEqual(pod([{ name: 'only', image: 'o:1' }]));
    expect(
      applyStrategicPatch(
        'Pod',
        { metadata: { finalizers: ['a', 'b'] } },
        { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'], finalizers: ['c'] } },
      ),
    ).toEqual({ metadata: { finalizers: ['b', 'c'] } });
    const strategy = { spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } } };
    expect(
      applyStrategicPatch('Deployment', strategy, {
        spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } },
      }),
    ).toEqual({ spec: { strategy: { type: 'Recreate' } } });
    expect(
      applyStrategicPatch(
        'Deployment',
        { spec: { a: { $patch: 'x' }, b: 1 } },
        { spec: { $patch: 'replace', c: 2 } },
      ),
    ).toEqual({ spec: { c: 2 } });
  });

  it('is what kubectl rollout restart sends: an annotation added to the template', () => {
    const out = applyStrategicPatch('Deployment', live, {
      spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': 'now' } } } },
    });
    expect(out).toMatchObject({
      spec: {
        template: {
          metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': 'now' } },
          spec: { containers: [{ name: 'app' }, { name: 'side' }] },
        },
      },
    });
  });

  it('merges Service ports by port number', () => {
    const svc = { spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443 }] } };
    expect(
      applyStrategicPatch('Service', svc, { spec: { ports: [{ port: 80, targetPort: 9090 }] } }),
    ).toEqual({ spec: { ports: [{ port: 80, targetPort: 9090 }, { port: 443 }] } });
  });
});

describe('server-side apply', () => {
  const cm = (data: Record<string, string>, labels?: Record<string, string>): JsonObject => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'c', namespace: 'ns', ...(labels && { labels }) },
    data,
  });
  const managers = (o: KObject): string[] =>
    (o.metadata.managedFields ?? []).map((m) => `${m.manager}/${m.operation}`);

  it('creates, then removes what the same manager stops applying', () => {
    const first = serverSideApply('ConfigMap', undefined, cm({ a: '1', b: '2' }, { x: 'y' }), 'helm', false);
    expect(first.data).toEqual({ a: '1', b: '2' });
    expect(first.metadata.managedFields?.[0]?.fieldsV1).toEqual({
      'f:data': { 'f:a': {}, 'f:b': {} },
      'f:metadata': { 'f:labels': { 'f:x': {} } },
    });
    const second = serverSideApply('ConfigMap', first, cm({ a: '1' }), 'helm', false);
    expect(second.data).toEqual({ a: '1' });
    expect(second.metadata.labels).toEqual({});
  });

  it('keeps fields another manager owns, and reports conflicts on differing values unless forced', () => {
    const mine = serverSideApply('ConfigMap', undefined, cm({ a: '1', b: '2' }), 'helm', false);
    const theirs = serverSideApply('ConfigMap', mine, cm({ b: '2', c: '3' }), 'other', false);
    expect(managers(theirs)).toEqual(['helm/Apply', 'other/Apply']);
    const dropped = serverSideApply('ConfigMap', theirs, cm({ a: '1' }), 'helm', false);
    expect(dropped.data).toEqual({ a: '1', b: '2', c: '3' });
    let err: unknown;
    try {
      serverSideApply('ConfigMap', theirs, cm({ a: '1', c: 'mine' }), 'helm', false);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KubeSimError);
    expect((err as KubeSimError).statusCode).toBe(409);
    expect((err as Error).message).toBe('Apply failed with 1 conflict: conflict with "other": .data.c');
    const forced = serverSideApply('ConfigMap', theirs, cm({ a: '1', c: 'mine' }), 'helm', true);
    expect((forced.data as Record<string, string>).c).toBe('mine');
    expect(forced.metadata.managedFields?.find((m) => m.manager === 'other')?.fieldsV1).toEqual({
      'f:data': { 'f:b': {} },
    });
  });

  it('merges lists of containers by name, removing the ones no longer applied', () => {
    const dep = (containers: JsonObject[]): JsonObject => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd' },
      ...pod(containers),
    });
    const a = serverSideApply(
      'Deployment',
      undefined,
      dep([
        { name: 'a', image: 'a:1' },
        { name: 'b', image: 'b:1' },
      ]),
      'helm',
      false,
    );
    const b = serverSideApply('Deployment', a, dep([{ name: 'a', image: 'a:2' }]), 'helm', false);
    expect((b.spec as JsonObject).template).toEqual({ spec: { containers: [{ name: 'a', image: 'a:2' }] } });
  });

  it('gives updates ownership of what they change (kubectl edit, rollout restart)', () => {
    const applied = serverSideApply('ConfigMap', undefined, cm({ a: '1' }), 'helm', false);
    const next = { ...applied, data: { a: '2' } } as KObject;
    recordUpdate('ConfigMap', applied, next, 'kubectl-edit');
    expect(managers(next)).toEqual(['kubectl-edit/Update']);
    expect(() => serverSideApply('ConfigMap', next, cm({ a: '3' }), 'helm', false)).toThrow(
      /conflict with "kubectl-edit"/,
    );
  });
});
