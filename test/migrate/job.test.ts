import { describe, expect, it } from 'vitest';
import { UsageError } from '../../lib/errors.ts';
import { jobState } from '../../lib/jobs.ts';
import type { KubeObject } from '../../lib/kubectl.ts';
import {
  MANUAL_RUN_LABEL,
  labelJob,
  manualJobName,
  planCleanup,
  podsOfJob,
  renderJobArgs,
} from '../../lib/jobs.ts';
import { parseTargets } from '../../lib/migrate/targets.ts';
import type { Pod } from '../../lib/pod-status.ts';

describe('migration targets', () => {
  it.each([
    [['sso'], ['sso']],
    [['api'], ['api']],
    [['all'], ['sso', 'api']],
  ])('%j runs %j', (args, targets) => expect(parseTargets(args)).toEqual(targets));

  it.each([
    ['ssoo', 'npm run migrate -- sso'],
    ['aip', 'npm run migrate -- api'],
    ['al', 'npm run migrate -- all'],
    ['database', 'npm run migrate -- sso'],
  ])('"%s" is a usage error listing the valid targets (hint: %s)', (arg, hint) => {
    const err = (() => {
      try {
        parseTargets([arg]);
      } catch (e) {
        return e;
      }
    })() as UsageError;
    expect(err).toBeInstanceOf(UsageError);
    expect(err.exitCode).toBe(2);
    expect(err.message).toBe(`unknown migration target "${arg}" (valid targets: sso, api, all)`);
    expect(err.hint).toBe(hint);
  });

  it('a missing target is a usage error too', () => {
    expect(() => parseTargets([])).toThrow('which migrations? give a target: sso, api, all');
  });
});

const job = (name: string, created: string, condition?: 'Complete' | 'Failed'): KubeObject => ({
  kind: 'Job',
  metadata: { name, creationTimestamp: created, labels: { [MANUAL_RUN_LABEL]: 'sso' } },
  status: condition ? { conditions: [{ type: condition, status: 'True', reason: 'R', message: 'm' }] } : {},
});

describe('manual Jobs', () => {
  it('get a unique, sortable DNS name', () => {
    const name = manualJobName('sso-migrate', new Date('2025-03-04T05:06:07.890Z'), 'ab12');
    expect(name).toBe('sso-migrate-manual-20250304-050607-ab12');
    expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(name.length).toBeLessThanOrEqual(63);
  });

  it('are rendered from the CronJob by kubectl itself, without creating anything', () => {
    expect(renderJobArgs('x', 'sso-migrate')).toEqual([
      'create',
      'job',
      'x',
      '--from=cronjob/sso-migrate',
      '--dry-run=client',
      '-o',
      'json',
    ]);
  });

  it('carry the labels cleanup looks for, keeping the template labels and dropping status', () => {
    const rendered: KubeObject = {
      kind: 'Job',
      metadata: { name: 'x', labels: { 'app.kubernetes.io/name': 'taskflow' } },
      spec: { template: {} },
      status: {},
    };
    const out = labelJob(rendered, 'sso', 'rel');
    expect(out.metadata.labels).toEqual({
      'app.kubernetes.io/name': 'taskflow',
      'app.kubernetes.io/instance': 'rel',
      'app.kubernetes.io/component': 'sso-migrate',
      [MANUAL_RUN_LABEL]: 'sso',
    });
    expect(out).not.toHaveProperty('status');
    expect(out.spec).toEqual({ template: {} });
  });

  it.each([
    [[], 'running'],
    [[{ type: 'Complete', status: 'True' }], 'complete'],
    [[{ type: 'SuccessCriteriaMet', status: 'True' }], 'complete'],
    [[{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'm' }], 'failed'],
    [[{ type: 'FailureTarget', status: 'True' }], 'failed'],
    [[{ type: 'Failed', status: 'False' }], 'running'],
  ])('conditions %j mean %s', (conditions, state) => {
    expect(jobState({ kind: 'Job', metadata: { name: 'j' }, status: { conditions } }).state).toBe(state);
  });

  it('cleanup deletes every finished Job but the newest failed one, and never a running one', () => {
    const plan = planCleanup([
      job('a', '2025-01-01T00:00:01Z', 'Failed'),
      job('b', '2025-01-01T00:00:02Z', 'Complete'),
      job('c', '2025-01-01T00:00:03Z', 'Failed'),
      job('d', '2025-01-01T00:00:04Z', 'Complete'),
      job('e', '2025-01-01T00:00:05Z'),
    ]);
    expect(plan).toEqual({ remove: ['a', 'b', 'd'], keep: 'c' });
    expect(planCleanup([job('b', '2025-01-01T00:00:02Z', 'Complete')])).toEqual({
      remove: ['b'],
      keep: undefined,
    });
  });

  it("finds a Job's pods by owner or by label", () => {
    const pod = (name: string, meta: Partial<Pod['metadata']>): Pod => ({
      kind: 'Pod',
      metadata: { name, ...meta },
    });
    const pods = [
      pod('p1', { ownerReferences: [{ kind: 'Job', name: 'j' }] }),
      pod('p2', { labels: { 'batch.kubernetes.io/job-name': 'j' } }),
      pod('p3', { labels: { 'job-name': 'other' } }),
      pod('p4', { ownerReferences: [{ kind: 'ReplicaSet', name: 'j' }] }),
    ];
    expect(podsOfJob(pods, 'j').map((p) => p.metadata.name)).toEqual(['p1', 'p2']);
  });
});
