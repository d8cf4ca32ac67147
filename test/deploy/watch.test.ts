import { describe, expect, it } from 'vitest';
import { watchRollout } from '../../lib/deploy/watch.ts';
import { collectDetails } from '../../lib/deploy/failure-details.ts';
import { warningsByObject } from '../../lib/events.ts';
import { Kubectl } from '../../lib/kubectl.ts';
import { hintFor } from '../../lib/deploy/report.ts';
import { FakeRunner, json } from '../support/fake-runner.ts';

const labels = (c: string) => ({ 'app.kubernetes.io/instance': 'tf', 'app.kubernetes.io/component': c });
const dep = (name: string, ready: boolean) => ({
  kind: 'Deployment',
  metadata: { name, labels: labels(name), generation: 1 },
  spec: { replicas: 1 },
  status: {
    observedGeneration: 1,
    replicas: 1,
    updatedReplicas: 1,
    readyReplicas: ready ? 1 : 0,
    availableReplicas: ready ? 1 : 0,
  },
});
const stsObj = (name: string, ready: boolean) => ({
  kind: 'StatefulSet',
  metadata: { name, labels: labels(name), generation: 1 },
  spec: { replicas: 1 },
  status: { observedGeneration: 1, readyReplicas: ready ? 1 : 0 },
});
const unschedulable = {
  kind: 'Pod',
  metadata: { name: 'p' },
  status: {
    phase: 'Pending',
    conditions: [
      { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available' },
    ],
  },
};

/** A fake cluster whose listing changes with each poll; a fake clock that advances by the sleeps. */
function setup(listings: unknown[][]) {
  let i = 0;
  const runner = new FakeRunner((args) => {
    if (args[0] === 'get' && args[1] === 'pods,replicasets,deployments,statefulsets,jobs,pvc') {
      return json({ items: listings[Math.min(i++, listings.length - 1)] });
    }
    throw new Error(`unexpected ${args.join(' ')}`);
  });
  let now = 0;
  return {
    runner,
    kubectl: new Kubectl(runner, 'kubectl', { namespace: 'tf' }),
    clock: { now: () => now, sleep: async (ms: number) => void (now += ms) },
  };
}
const base = { release: 'tf', since: 0, deadline: 60_000, statefulSetDeadline: 30_000, pollMs: 500 };

describe('watchRollout', () => {
  it('one kubectl call per poll, whatever the number of objects', async () => {
    const many = Array.from({ length: 30 }, (_, k) => dep(`d${k}`, false));
    const ready = many.map((d) => dep(d.metadata.name, true));
    const { runner, kubectl, clock } = setup([many, many, ready]);
    const r = await watchRollout(kubectl, { ...base, ...clock });
    expect(r.ok).toBe(true);
    expect(r.polls).toBe(3);
    expect(runner.recorded).toHaveLength(3);
    expect(runner.recorded[0]?.argv).toEqual([
      'kubectl',
      '--namespace',
      'tf',
      'get',
      'pods,replicasets,deployments,statefulsets,jobs,pvc',
      '-l',
      'app.kubernetes.io/instance=tf',
      '-o',
      'json',
    ]);
  });

  it('an unschedulable pod fails only after the grace period', async () => {
    const { kubectl, clock } = setup([[dep('a', false), unschedulable]]);
    const r = await watchRollout(kubectl, { ...base, ...clock, pendingGraceMs: 2000 });
    expect(r.ok).toBe(false);
    expect(r.failures[0]).toMatchObject({ id: 'pods.pending', reason: 'Unschedulable' });
    expect(r.polls).toBe(5); // seen at 0 ms, failed at 2000 ms
  });

  it('a StatefulSet gets its own deadline; the rest the overall one', async () => {
    const { kubectl, clock } = setup([[dep('a', false), stsObj('api-postgres', false)]]);
    const r = await watchRollout(kubectl, { ...base, ...clock });
    expect(r.failures).toEqual([
      expect.objectContaining({ id: 'rollout.timeout', object: 'statefulset/api-postgres' }),
    ]);
    expect(clock.now()).toBe(30_000);
    const late = setup([[dep('web-dashboard', false)]]);
    const r2 = await watchRollout(late.kubectl, { ...base, ...late.clock });
    expect(r2.failures[0]).toMatchObject({
      id: 'rollout.timeout',
      object: 'deployment/web-dashboard',
      message: 'not ready after 60s (0/1 ready)',
    });
  });

  it('survives two failed listings, not three', async () => {
    let n = 0;
    const runner = new FakeRunner(() =>
      ++n <= 2 ? { exitCode: 1, stderr: 'etcdserver: request timed out' } : json({ items: [dep('a', true)] }),
    );
    const clock = setup([]).clock;
    expect(
      (await watchRollout(new Kubectl(runner, 'kubectl', { namespace: 'tf' }), { ...base, ...clock })).ok,
    ).toBe(true);
    n = -10;
    await expect(
      watchRollout(new Kubectl(runner, 'kubectl', { namespace: 'tf' }), { ...base, ...clock }),
    ).rejects.toThrow(/request timed out/);
  });

  it('stops at once when interrupted', async () => {
    const { kubectl } = setup([[dep('a', false)]]);
    const ac = new AbortController();
    const p = watchRollout(kubectl, {
      ...base,
      deadline: Date.now() + 60_000,
      statefulSetDeadline: Date.now() + 60_000,
      since: Date.now(),
      signal: ac.signal,
      pollMs: 10_000,
    });
    setTimeout(() => ac.abort(), 20);
    await expect(p).rejects.toThrow(/interrupted/);
  });
});

describe('failure details', () => {
  it('reads the previous logs of a restarted container and the Warning events in one call', async () => {
    const runner = new FakeRunner((args) => {
      if (args[0] === 'logs') return { stdout: args.includes('--previous') ? 'boom\n' : '' };
      if (args[0] === 'get' && args[1] === 'events') {
        return json({
          items: [
            {
              involvedObject: { name: 'api-x' },
              reason: 'BackOff',
              message: 'Back-off restarting failed container',
              count: 4,
              lastTimestamp: '2025-01-01T00:00:02Z',
            },
            {
              involvedObject: { name: 'api-x' },
              reason: 'Pulled',
              message: 'ok',
              lastTimestamp: '2025-01-01T00:00:01Z',
            },
            { involvedObject: { name: 'other' }, reason: 'X', message: 'y' },
          ],
        });
      }
      throw new Error(args.join(' '));
    });
    const [d] = await collectDetails(new Kubectl(runner, 'kubectl', { namespace: 'tf' }), [
      {
        id: 'pods.crashloop',
        object: 'pod/api-x',
        pod: 'api-x',
        container: 'taskflow-api',
        reason: 'CrashLoopBackOff',
        message: 'm',
        previousLogs: true,
      },
    ]);
    expect(d?.logs).toBe('boom\n');
    expect(d?.events).toEqual(['Pulled: ok', 'BackOff: Back-off restarting failed container (x4)']);
    const argvs = runner.recorded.map((c) => c.argv.slice(3).join(' '));
    expect(argvs).toContain('logs api-x -c taskflow-api --previous --tail=30');
    expect(argvs).toContain('get events --field-selector type=Warning -o json');
  });

  it('image failures fetch no logs', async () => {
    const runner = new FakeRunner(() => json({ items: [] }));
    await collectDetails(new Kubectl(runner, 'kubectl', { namespace: 'tf' }), [
      {
        id: 'pods.image',
        object: 'pod/w',
        pod: 'w',
        container: 'web',
        reason: 'ImagePullBackOff',
        message: 'm',
        previousLogs: false,
      },
    ]);
    expect(runner.recorded.map((c) => c.argv[3])).toEqual(['get']);
  });

  it('hints name the database of the failing pod; a crash alone says nothing of passwords (its logs decide)', () => {
    expect(hintFor('db.auth', 'pod/taskflow-api-5d9f-x')).toMatch(/reset-db-password -- api$/);
    expect(hintFor('db.auth', 'pod/sso-postgres-0')).toMatch(/reset-db-password -- sso$/);
    expect(hintFor('pods.crashloop', 'taskflow-api-5d9f-x')).not.toMatch(/password/);
  });

  it('warningsByObject groups and orders', () => {
    expect(
      warningsByObject([{ involvedObject: { name: 'a' }, reason: 'R', message: ' m ' }]).get('a'),
    ).toEqual(['R: m']);
  });
});
