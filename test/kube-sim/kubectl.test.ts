// The real kubectl (1.35 and 1.33) against the simulated cluster: discovery, get in every
// output form, create (protobuf bodies), apply (client- and server-side), wait, delete with
// cascading, namespace termination, watch, describe and events.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ToolsetName } from '../support/tools.ts';
import { startKubeSim, type KubeSim } from './index.ts';
import { json, startKubectl, waitFor } from './test-helpers.ts';

let sim: KubeSim;
beforeAll(async () => {
  sim = await startKubeSim({ scenario: { readyAfterMs: 100 } });
});
afterAll(async () => {
  await sim?.stop();
});

const deployment = (
  ns: string,
  name: string,
  image = 'demo/app:1',
  env = [
    { name: 'A', value: '1' },
    { name: 'B', value: '2' },
  ],
): string =>
  JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns, labels: { app: name } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image, env, ports: [{ containerPort: 8080 }] }] },
      },
    },
  });

describe.each<ToolsetName>(['v35', 'v33'])('kubectl (%s)', (ts) => {
  const ns = `k-${ts}`;
  const k = (args: string[], input?: string) =>
    sim.kubectl(args, { toolset: ts, ...(input !== undefined && { input }) });

  beforeAll(async () => {
    expect((await k(['create', 'namespace', ns])).code).toBe(0);
  });

  it('reports versions and serves discovery', async () => {
    const v = await k(['version', '-o', 'json']);
    expect(v.code, v.stderr).toBe(0);
    expect(json<{ serverVersion: { gitVersion: string } }>(v).serverVersion.gitVersion).toBe('v1.34.2');
    expect(v.stderr).not.toMatch(/skew/);
    const res = await k(['api-resources', '--api-group=apps', '-o', 'name']);
    expect(res.stdout.split('\n')).toEqual(expect.arrayContaining(['deployments.apps', 'statefulsets.apps']));
  });

  it('creates secrets, configmaps and namespaces (protobuf bodies) with the exact data', async () => {
    const password = 'p@ss:w/rd?#%+ ünï';
    expect(
      (
        await k([
          'create',
          'secret',
          'generic',
          'creds',
          '-n',
          ns,
          `--from-literal=password=${password}`,
          '--from-literal=user=app',
        ])
      ).code,
    ).toBe(0);
    const s = json<{ data: Record<string, string>; type: string }>(
      await k(['get', 'secret', 'creds', '-n', ns, '-o', 'json']),
    );
    expect(Buffer.from(s.data.password ?? '', 'base64').toString()).toBe(password);
    expect(s.type).toBe('Opaque');
    expect(
      (await k(['create', 'configmap', 'settings', '-n', ns, '--from-literal=LOG_LEVEL=debug'])).code,
    ).toBe(0);
    expect(
      (await k(['get', 'configmap', 'settings', '-n', ns, '-o', 'jsonpath={.data.LOG_LEVEL}'])).stdout,
    ).toBe('debug');
    const dup = await k(['create', 'configmap', 'settings', '-n', ns]);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/configmaps "settings" already exists/);
  });

  it('gets tables, json, yaml, jsonpath and label-filtered lists', async () => {
    expect((await k(['apply', '-f', '-'], deployment(ns, 'web'))).code).toBe(0);
    expect((await k(['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=20s'])).code).toBe(0);
    const table = await k(['get', 'pods', '-n', ns]);
    expect(table.stdout.split('\n')[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    expect(table.stdout).toMatch(/web-\w+-\w{5}\s+1\/1\s+Running\s+0\s+\d+s/);
    const wide = await k(['get', 'pods', '-n', ns, '-o', 'wide']);
    expect(wide.stdout.split('\n')[0]).toMatch(/IP\s+NODE/);
    expect(wide.stdout).toMatch(/127\.\d+\.\d+\.\d+\s+kube-sim/);
    const list = json<{ kind: string; items: { metadata: { labels: Record<string, string> } }[] }>(
      await k(['get', 'pods', '-n', ns, '-l', 'app=web', '-o', 'json']),
    );
    expect(list.kind).toBe('List');
    expect(list.items).toHaveLength(2);
    expect((await k(['get', 'pods', '-n', ns, '-l', 'app=other', '-o', 'name'])).stdout).toBe('');
    expect((await k(['get', 'deploy', 'web', '-n', ns, '-o', 'yaml'])).stdout).toMatch(
      /kind: Deployment[\s\S]*availableReplicas: 2/,
    );
    const jp = await k([
      'get',
      'deploy',
      'web',
      '-n',
      ns,
      '-o',
      'jsonpath={.status.conditions[?(@.type=="Progressing")].reason}',
    ]);
    expect(jp.stdout).toBe('NewReplicaSetAvailable');
    const missing = await k(['get', 'pod', 'nope', '-n', ns]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('Error from server (NotFound): pods "nope" not found');
    const all = await k(['get', 'all', '-n', ns]);
    expect(all.stdout).toMatch(/deployment\.apps\/web\s+2\/2\s+2\s+2/);
  });

  it('applies client-side (three-way merge drops removed fields) and server-side (field managers)', async () => {
    expect((await k(['apply', '-f', '-'], deployment(ns, 'api'))).code).toBe(0);
    const again = await k(
      ['apply', '-f', '-'],
      deployment(ns, 'api', 'demo/app:2', [{ name: 'A', value: '1' }]),
    );
    expect(again.stdout).toContain('deployment.apps/api configured');
    const env = json<{ spec: { template: { spec: { containers: { image: string; env: unknown[] }[] } } } }>(
      await k(['get', 'deploy', 'api', '-n', ns, '-o', 'json']),
    ).spec.template.spec.containers[0];
    expect(env?.image).toBe('demo/app:2');
    expect(env?.env).toEqual([{ name: 'A', value: '1' }]);
    const cm = (data: Record<string, string>) =>
      JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ssa', namespace: ns }, data });
    expect((await k(['apply', '--server-side', '-f', '-'], cm({ a: '1', b: '2' }))).stdout).toContain(
      'configmap/ssa serverside-applied',
    );
    expect((await k(['apply', '--server-side', '-f', '-'], cm({ a: '1' }))).code).toBe(0);
    const live = json<{
      data: Record<string, string>;
      metadata: { managedFields: { manager: string; operation: string }[] };
    }>(await k(['get', 'cm', 'ssa', '-n', ns, '-o', 'json', '--show-managed-fields']));
    expect(live.data).toEqual({ a: '1' });
    expect(live.metadata.managedFields).toEqual([
      expect.objectContaining({ manager: 'kubectl', operation: 'Apply' }),
    ]);
    const clash = await k(
      ['apply', '--server-side', '--field-manager=other', '-f', '-'],
      cm({ a: 'changed' }),
    );
    expect(clash.code).toBe(1);
    expect(clash.stderr).toMatch(/conflict with "kubectl"[\s\S]*\.data\.a/);
    const forced = await k(
      ['apply', '--server-side', '--field-manager=other', '--force-conflicts', '-f', '-'],
      cm({ a: 'changed' }),
    );
    expect(forced.code, forced.stderr).toBe(0);
    expect((await k(['get', 'cm', 'ssa', '-n', ns, '-o', 'jsonpath={.data.a}'])).stdout).toBe('changed');
  });

  it('creates a Job from a CronJob with its template and waits for completion', async () => {
    const cj = {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'nightly', namespace: ns },
      spec: {
        schedule: '0 3 * * *',
        suspend: true,
        jobTemplate: {
          spec: {
            backoffLimit: 0,
            template: {
              spec: {
                restartPolicy: 'Never',
                containers: [
                  {
                    name: 'task',
                    image: 'demo/task:1',
                    args: ['run'],
                    env: [{ name: 'MODE', value: 'x' }],
                    resources: { limits: { memory: '64Mi' } },
                  },
                ],
              },
            },
          },
        },
      },
    };
    expect((await k(['apply', '-f', '-'], JSON.stringify(cj))).code).toBe(0);
    const created = await k(['create', 'job', 'nightly-manual', '--from=cronjob/nightly', '-n', ns]);
    expect(created.stdout, created.stderr).toContain('job.batch/nightly-manual created');
    expect(
      (await k(['wait', '--for=condition=complete', 'job/nightly-manual', '-n', ns, '--timeout=20s'])).code,
    ).toBe(0);
    const job = json<{
      metadata: { annotations: Record<string, string>; ownerReferences: { kind: string }[] };
      spec: { backoffLimit: number; template: { spec: { containers: Record<string, unknown>[] } } };
    }>(await k(['get', 'job', 'nightly-manual', '-n', ns, '-o', 'json']));
    expect(job.metadata.annotations['cronjob.kubernetes.io/instantiate']).toBe('manual');
    expect(job.metadata.ownerReferences[0]?.kind).toBe('CronJob');
    expect(job.spec.template.spec.containers[0]).toMatchObject({
      name: 'task',
      image: 'demo/task:1',
      args: ['run'],
      env: [{ name: 'MODE', value: 'x' }],
      resources: { limits: { memory: '64Mi' } },
    });
    expect((await k(['get', 'jobs', '-n', ns])).stdout).toMatch(/nightly-manual\s+Complete\s+1\/1/);
  });

  it('waits for conditions and for deletion', async () => {
    expect((await k(['run', 'lone', '--image=demo/app:1', '-n', ns])).code).toBe(0);
    const ready = await k(['wait', '--for=condition=Ready', 'pod/lone', '-n', ns, '--timeout=10s']);
    expect(ready.stdout).toContain('pod/lone condition met');
    expect((await k(['delete', 'pod', 'lone', '-n', ns, '--wait=false'])).code).toBe(0);
    const gone = await k(['wait', '--for=delete', 'pod/lone', '-n', ns, '--timeout=10s']);
    expect(gone.code, gone.stderr).toBe(0);
    const timeout = await k(['wait', '--for=condition=Complete', 'deploy/web', '-n', ns, '--timeout=1s']);
    expect(timeout.code).toBe(1);
    expect(timeout.stderr).toContain('timed out waiting for the condition');
  });

  it('deletes with background, orphan and foreground cascading', async () => {
    const rsOf = async (app: string) =>
      json<{ items: { metadata: { name: string; ownerReferences?: unknown[] } }[] }>(
        await k(['get', 'rs', '-n', ns, '-l', `app=${app}`, '-o', 'json']),
      ).items;
    for (const name of ['bg', 'orph', 'fg']) {
      expect((await k(['apply', '-f', '-'], deployment(ns, name))).code).toBe(0);
      expect((await k(['rollout', 'status', `deploy/${name}`, '-n', ns, '--timeout=20s'])).code).toBe(0);
    }
    expect((await k(['delete', 'deploy', 'bg', '-n', ns])).code).toBe(0);
    await waitFor(
      async () =>
        (await rsOf('bg')).length === 0 &&
        (await k(['get', 'pods', '-n', ns, '-l', 'app=bg', '-o', 'name'])).stdout === '',
      10_000,
      'background cascade',
    );
    expect((await k(['delete', 'deploy', 'orph', '-n', ns, '--cascade=orphan'])).code).toBe(0);
    const orphans = await rsOf('orph');
    expect(orphans).toHaveLength(1);
    expect(orphans[0]?.metadata.ownerReferences).toBeUndefined();
    expect(
      (await k(['get', 'pods', '-n', ns, '-l', 'app=orph', '-o', 'name'])).stdout.trim().split('\n'),
    ).toHaveLength(2);
    const fg = await k(['delete', 'deploy', 'fg', '-n', ns, '--cascade=foreground']);
    expect(fg.code).toBe(0);
    // kubectl waited for the Deployment, which goes only after its pods.
    expect((await k(['get', 'pods', '-n', ns, '-l', 'app=fg', '-o', 'name'])).stdout).toBe('');
  });

  it('deletes a namespace through Terminating', async () => {
    const doomed = `doomed-${ts}`;
    expect((await k(['create', 'namespace', doomed])).code).toBe(0);
    expect((await k(['apply', '-f', '-'], deployment(doomed, 'x'))).code).toBe(0);
    expect((await k(['rollout', 'status', 'deploy/x', '-n', doomed, '--timeout=20s'])).code).toBe(0);
    expect((await k(['delete', 'namespace', doomed, '--wait=false'])).code).toBe(0);
    expect((await k(['get', 'namespace', doomed, '-o', 'jsonpath={.status.phase}'])).stdout).toBe(
      'Terminating',
    );
    const refused = await k(['create', 'configmap', 'late', '-n', doomed]);
    expect(refused.stderr).toContain(`because it is being terminated`);
    expect((await k(['wait', '--for=delete', `namespace/${doomed}`, '--timeout=15s'])).code).toBe(0);
    expect((await k(['get', 'pods', '-n', doomed, '-o', 'name'])).stdout).toBe('');
  });

  it('watches (get -w) and shows a pod going from Pending to Running', async () => {
    const w = startKubectl(sim, ['get', 'pods', '-n', ns, '-l', 'run=watched', '-w'], ts);
    await new Promise((r) => setTimeout(r, 400));
    expect((await k(['run', 'watched', '--image=demo/app:1', '-n', ns])).code).toBe(0);
    await waitFor(() => /watched\s+1\/1\s+Running/.test(w.out()), 10_000, 'Running in the watch');
    await w.stop();
    const lines = w.out().trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+READY\s+STATUS/);
    expect(lines.filter((l) => l.startsWith('NAME'))).toHaveLength(1);
    expect(w.out()).toMatch(/watched\s+0\/1\s+(Pending|ContainerCreating)/);
  });

  it('describes a pod with its Events and lists events', async () => {
    const d = await k(['describe', 'pod', '-n', ns, '-l', 'run=watched']);
    expect(d.stdout).toMatch(/Status:\s+Running/);
    expect(d.stdout).toMatch(/Events:[\s\S]*Scheduled[\s\S]*Successfully assigned/);
    expect(d.stdout).toMatch(/Started\s+.*Started container watched/);
    const ev = await k(['get', 'events', '-n', ns]);
    expect(ev.stdout.split('\n')[0]).toMatch(/^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE/);
    expect(ev.stdout).toMatch(/Normal\s+ScalingReplicaSet\s+deployment\/web/);
  });
});
