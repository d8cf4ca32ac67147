import { describe, expect, it } from 'vitest';
import { judgeSnapshot, progressDeadlineFailures } from '../../lib/deploy/snapshot.ts';
import { progressLine } from '../../lib/deploy/watch.ts';
import type { KubeObject } from '../../lib/kubectl.ts';

const T0 = Date.parse('2025-01-01T00:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const labels = (component: string) => ({
  'app.kubernetes.io/instance': 'tf',
  'app.kubernetes.io/component': component,
});

function deployment(
  name: string,
  component: string,
  o: { gen?: number; observed?: number; rev?: number; ready?: boolean; old?: number } = {},
): KubeObject {
  const ready = o.ready ?? true;
  return {
    kind: 'Deployment',
    metadata: {
      name,
      labels: labels(component),
      generation: o.gen ?? 1,
      annotations: { 'deployment.kubernetes.io/revision': String(o.rev ?? 1) },
    },
    spec: { replicas: 1 },
    status: {
      observedGeneration: o.observed ?? o.gen ?? 1,
      replicas: 1 + (o.old ?? 0),
      updatedReplicas: 1,
      readyReplicas: ready ? 1 : 0,
      availableReplicas: ready ? 1 : 0,
    },
  };
}
const rs = (name: string, dep: string, rev: number, created = 0): KubeObject => ({
  kind: 'ReplicaSet',
  metadata: {
    name,
    ownerReferences: [{ kind: 'Deployment', name: dep }],
    annotations: { 'deployment.kubernetes.io/revision': String(rev) },
    creationTimestamp: at(created),
  },
});
const crashing = {
  name: 'c',
  ready: false,
  restartCount: 3,
  state: { waiting: { reason: 'CrashLoopBackOff' } },
  lastState: { terminated: { exitCode: 1 } },
};
const pod = (
  name: string,
  ownerKind: string,
  owner: string,
  o: { ready?: boolean; containers?: unknown[]; init?: unknown[]; hash?: string } = {},
): KubeObject => ({
  kind: 'Pod',
  metadata: {
    name,
    ownerReferences: [{ kind: ownerKind, name: owner }],
    labels: { ...(o.hash && { 'controller-revision-hash': o.hash }) },
  },
  status: {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }],
    containerStatuses: o.containers ?? [{ name: 'c', ready: o.ready !== false, state: { running: {} } }],
    ...(o.init && { initContainerStatuses: o.init }),
  },
});
const sts = (name: string, o: { ready?: number; current?: string; update?: string } = {}): KubeObject => ({
  kind: 'StatefulSet',
  metadata: { name, labels: labels(name), generation: 1 },
  spec: { replicas: 1 },
  status: {
    observedGeneration: 1,
    replicas: 1,
    readyReplicas: o.ready ?? 1,
    currentRevision: o.current ?? 'r1',
    updateRevision: o.update ?? 'r1',
    updatedReplicas: o.ready ?? 1,
  },
});

const judge = (items: KubeObject[], extra = {}) => judgeSnapshot(items, { since: T0, ...extra });

describe('judgeSnapshot', () => {
  it('everything ready is done', () => {
    const s = judge([
      deployment('web-dashboard', 'web'),
      rs('web-1', 'web-dashboard', 1),
      pod('web-1-a', 'ReplicaSet', 'web-1'),
      sts('sso-postgres'),
    ]);
    expect(s.done).toBe(true);
    expect(s.failures).toEqual([]);
    expect(progressLine(s)).toBe('rollout: 2/2 ready');
  });

  it('a crash in the current ReplicaSet fails, naming pod and container', () => {
    const s = judge([
      deployment('taskflow-api', 'api', { rev: 2, ready: false }),
      rs('api-1', 'taskflow-api', 1),
      rs('api-2', 'taskflow-api', 2),
      pod('api-2-x', 'ReplicaSet', 'api-2', { containers: [crashing] }),
    ]);
    expect(s.failures).toEqual([
      expect.objectContaining({
        id: 'pods.crashloop',
        object: 'pod/api-2-x',
        pod: 'api-2-x',
        container: 'c',
        reason: 'CrashLoopBackOff',
        previousLogs: true,
      }),
    ]);
  });

  it('a crash in an old ReplicaSet being replaced is ignored', () => {
    const s = judge([
      deployment('taskflow-api', 'api', { rev: 2, old: 1 }),
      rs('api-1', 'taskflow-api', 1),
      rs('api-2', 'taskflow-api', 2),
      pod('api-1-x', 'ReplicaSet', 'api-1', { containers: [crashing] }),
      pod('api-2-y', 'ReplicaSet', 'api-2'),
    ]);
    expect(s.failures).toEqual([]);
    expect(s.done).toBe(false); // the old replica is still there
    expect(s.workloads[0]?.waitingFor).toMatch(/old replica/);
  });

  it('a Deployment whose update is not yet observed judges none of its pods', () => {
    const s = judge([
      deployment('taskflow-api', 'api', { gen: 2, observed: 1 }),
      rs('api-1', 'taskflow-api', 1),
      pod('api-1-x', 'ReplicaSet', 'api-1', { containers: [crashing] }),
    ]);
    expect(s.failures).toEqual([]);
    expect(s.done).toBe(false);
  });

  it('StatefulSet pods of the old revision are ignored, the update revision counts', () => {
    const items = [sts('api-postgres', { ready: 0, current: 'r1', update: 'r2' })];
    expect(
      judge([
        ...items,
        pod('api-postgres-0', 'StatefulSet', 'api-postgres', { hash: 'r1', containers: [crashing] }),
      ]).failures,
    ).toEqual([]);
    expect(
      judge([
        ...items,
        pod('api-postgres-0', 'StatefulSet', 'api-postgres', { hash: 'r2', containers: [crashing] }),
      ]).failures,
    ).toHaveLength(1);
  });

  it('a failing init container fails with pods.init and shows in progress', () => {
    const init = [
      {
        name: 'migrate',
        ready: false,
        restartCount: 2,
        state: { waiting: { reason: 'CrashLoopBackOff' } },
        lastState: { terminated: { exitCode: 1 } },
      },
    ];
    const s = judge([
      deployment('sso-platform', 'sso', { ready: false }),
      rs('sso-1', 'sso-platform', 1),
      pod('sso-1-a', 'ReplicaSet', 'sso-1', {
        ready: false,
        init,
        containers: [
          { name: 'sso-platform', ready: false, state: { waiting: { reason: 'PodInitializing' } } },
        ],
      }),
    ]);
    expect(s.failures[0]).toMatchObject({ id: 'pods.init', container: 'migrate' });
    expect(s.workloads[0]).toMatchObject({
      waitingFor: 'init: migrate',
      pod: 'sso-1-a',
      container: 'migrate',
    });
  });

  it.each([
    [{ waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image' } }, 'pods.image'],
    [{ waiting: { reason: 'ErrImageNeverPull' } }, 'pods.image'],
    [
      { waiting: { reason: 'CreateContainerConfigError', message: "couldn't find key X in Secret" } },
      'pods.config',
    ],
    [{ terminated: { reason: 'OOMKilled', exitCode: 137 } }, 'pods.oom'],
  ])('container state %j -> %s', (state, id) => {
    const s = judge([
      deployment('web-dashboard', 'web', { ready: false }),
      rs('w-1', 'web-dashboard', 1),
      pod('w-1-a', 'ReplicaSet', 'w-1', { containers: [{ name: 'web-dashboard', ready: false, state }] }),
    ]);
    expect(s.failures.map((f) => f.id)).toEqual([id]);
  });

  it('Jobs older than this deploy are not judged; new failed ones are', () => {
    const job = (name: string, created: number): KubeObject => ({
      kind: 'Job',
      metadata: { name, labels: labels('sso-migrate'), creationTimestamp: at(created) },
      status: { conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }] },
    });
    expect(judge([job('old', -3600)]).failures).toEqual([]);
    expect(judge([job('new', 1)]).failures).toEqual([
      expect.objectContaining({ id: 'job.failed', object: 'job/new', reason: 'BackoffLimitExceeded' }),
    ]);
  });

  it.each([
    [[{ type: 'FailureTarget', status: 'True', reason: 'BackoffLimitExceeded' }], ['job.failed'], false],
    [[{ type: 'SuccessCriteriaMet', status: 'True' }], [], true],
    [[{ type: 'Complete', status: 'True' }], [], true],
  ])(
    'a Job with conditions %j: failures %j, ready %s (the same answer migrate and doctor give)',
    (conditions, ids, ready) => {
      const j: KubeObject = {
        kind: 'Job',
        metadata: { name: 'j', labels: labels('sso-migrate'), creationTimestamp: at(1) },
        status: { conditions },
      };
      const s = judge([j]);
      expect(s.failures.map((f) => f.id)).toEqual(ids);
      expect(s.workloads.find((w) => w.name === 'j')?.ready).toBe(ready);
    },
  );

  it('a PVC asking for a storage class that does not exist fails at once', () => {
    const pvc: KubeObject = {
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data-sso-postgres-0' },
      spec: { storageClassName: 'gp2' },
      status: { phase: 'Pending' },
    };
    const s = judge([sts('sso-postgres', { ready: 0 }), pvc], { storageClasses: ['standard'] });
    expect(s.failures).toEqual([
      expect.objectContaining({
        id: 'pods.pending',
        object: 'pvc/data-sso-postgres-0',
        reason: 'StorageClassNotFound',
      }),
    ]);
  });

  it('a Deployment past its progress deadline whose pod failed already is that failure only, not a timeout too', () => {
    const d = deployment('web-dashboard', 'web', { ready: false });
    (d.status as { conditions: unknown[] }).conditions = [
      { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'timed out' },
    ];
    const items = [
      d,
      rs('w-1', 'web-dashboard', 1),
      pod('w-1-a', 'ReplicaSet', 'w-1', {
        containers: [
          { name: 'web-dashboard', ready: false, state: { waiting: { reason: 'ImagePullBackOff' } } },
        ],
      }),
    ];
    const s = judge(items);
    expect(s.failures.map((f) => [f.id, f.object])).toEqual([['pods.image', 'pod/w-1-a']]);
    expect(progressDeadlineFailures(items, s)).toEqual([]);
  });

  it('a Deployment past its progress deadline is a rollout.timeout', () => {
    const d = deployment('mcp-server', 'mcp', { ready: false });
    (d.status as { conditions: unknown[] }).conditions = [
      {
        type: 'Progressing',
        status: 'False',
        reason: 'ProgressDeadlineExceeded',
        message: 'ReplicaSet "mcp-1" has timed out progressing.',
      },
    ];
    const s = judge([d]);
    expect(progressDeadlineFailures([d], s)).toEqual([
      expect.objectContaining({
        id: 'rollout.timeout',
        object: 'deployment/mcp-server',
        reason: 'ProgressDeadlineExceeded',
      }),
    ]);
  });
});
