import { describe, expect, it } from 'vitest';
import {
  isPodReady,
  pendingInitContainer,
  podFailures,
  type Pod,
  type PodStatus,
} from '../../lib/pod-status.ts';

function pod(status: PodStatus): Pod {
  return { kind: 'Pod', metadata: { name: 'p-1' }, status: status as Pod['status'] };
}

describe('podFailures', () => {
  it.each([
    [
      'CrashLoopBackOff in the main container',
      {
        containerStatuses: [
          {
            name: 'app',
            restartCount: 3,
            state: { waiting: { reason: 'CrashLoopBackOff' } },
            lastState: { terminated: { exitCode: 1, reason: 'Error' } },
          },
        ],
      },
      {
        id: 'pods.crashloop',
        container: 'app',
        reason: 'CrashLoopBackOff',
        previousLogs: true,
        message: 'container keeps crashing (exit code 1); restarted 3 time(s)',
      },
    ],
    [
      'ImagePullBackOff',
      {
        containerStatuses: [
          {
            name: 'app',
            state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "x"' } },
          },
        ],
      },
      {
        id: 'pods.image',
        reason: 'ImagePullBackOff',
        message: 'Back-off pulling image "x"',
        previousLogs: false,
      },
    ],
    [
      'ErrImageNeverPull',
      { containerStatuses: [{ name: 'app', state: { waiting: { reason: 'ErrImageNeverPull' } } }] },
      { id: 'pods.image', reason: 'ErrImageNeverPull' },
    ],
    [
      'CreateContainerConfigError',
      {
        containerStatuses: [
          {
            name: 'app',
            state: {
              waiting: {
                reason: 'CreateContainerConfigError',
                message: "couldn't find key SMTP_PASS in Secret ns/sso-platform",
              },
            },
          },
        ],
      },
      { id: 'pods.config', message: "couldn't find key SMTP_PASS in Secret ns/sso-platform" },
    ],
    [
      'OOMKilled then back-off',
      {
        containerStatuses: [
          {
            name: 'app',
            restartCount: 2,
            state: { waiting: { reason: 'CrashLoopBackOff' } },
            lastState: { terminated: { reason: 'OOMKilled', exitCode: 137 } },
          },
        ],
      },
      { id: 'pods.oom', reason: 'OOMKilled', previousLogs: true },
    ],
    [
      'failed init container',
      {
        initContainerStatuses: [{ name: 'migrate', state: { terminated: { exitCode: 1, reason: 'Error' } } }],
      },
      { id: 'pods.init', container: 'migrate', init: true, reason: 'Error' },
    ],
    [
      'init container crash looping',
      {
        initContainerStatuses: [
          { name: 'migrate', restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff' } } },
        ],
      },
      { id: 'pods.init', container: 'migrate', init: true, previousLogs: true },
    ],
    [
      'unschedulable',
      {
        phase: 'Pending',
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: '0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims.',
          },
        ],
      },
      {
        id: 'pods.pending',
        reason: 'Unschedulable',
        message: '0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims.',
      },
    ],
  ])('%s', (_name, status, expected) => {
    const f = podFailures(pod(status as PodStatus));
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ object: 'pod/p-1', pod: 'p-1', ...expected });
  });

  it.each([
    ['running', { containerStatuses: [{ name: 'app', ready: true, state: { running: {} } }] }],
    [
      'creating',
      { containerStatuses: [{ name: 'app', state: { waiting: { reason: 'ContainerCreating' } } }] },
    ],
    ['init running', { initContainerStatuses: [{ name: 'wait-for-db', state: { running: {} } }] }],
    [
      'init done',
      {
        initContainerStatuses: [
          { name: 'migrate', state: { terminated: { exitCode: 0, reason: 'Completed' } } },
        ],
      },
    ],
    ['pulling', { containerStatuses: [{ name: 'app', state: { waiting: { reason: 'PodInitializing' } } }] }],
  ])('no failure while %s', (_n, status) => {
    expect(podFailures(pod(status as PodStatus))).toEqual([]);
  });
});

describe('pod helpers', () => {
  it('isPodReady reads the Ready condition', () => {
    expect(isPodReady(pod({ conditions: [{ type: 'Ready', status: 'True' }] }))).toBe(true);
    expect(isPodReady(pod({ conditions: [{ type: 'Ready', status: 'False' }] }))).toBe(false);
    expect(isPodReady(pod({}))).toBe(false);
  });
  it('pendingInitContainer names the first init container not done', () => {
    expect(
      pendingInitContainer(
        pod({
          initContainerStatuses: [
            { name: 'wait-for-db', state: { terminated: { exitCode: 0 } } },
            { name: 'migrate', state: { running: {} } },
          ],
        }),
      ),
    ).toBe('migrate');
  });
});
