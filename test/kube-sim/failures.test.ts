// Failure injection from the scenario: each state shows the container statuses, pod STATUS
// and Events a real cluster would, and kubectl's waiters see them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeSim, type KubeSim } from './index.ts';
import { json, waitFor } from './test-helpers.ts';

let sim: KubeSim;
const ns = 'faults';
const k = (args: string[], input?: string) => sim.kubectl(args, input !== undefined ? { input } : {});

interface ContainerStatus {
  name: string;
  ready: boolean;
  restartCount: number;
  state: {
    waiting?: { reason: string; message?: string };
    running?: object;
    terminated?: { reason: string; exitCode: number };
  };
  lastState: { terminated?: { reason: string; exitCode: number } };
}
interface PodStatus {
  phase: string;
  conditions?: { type: string; status: string; reason?: string }[];
  containerStatuses?: ContainerStatus[];
  initContainerStatuses?: ContainerStatus[];
}

const status = async (pod: string): Promise<PodStatus> =>
  json<{ status: PodStatus }>(await k(['get', 'pod', pod, '-n', ns, '-o', 'json'])).status;
const row = async (pod: string): Promise<string> =>
  (await k(['get', 'pod', pod, '-n', ns, '--no-headers'])).stdout;
const events = async (pod: string): Promise<string> =>
  (await k(['get', 'events', '-n', ns, '--field-selector', `involvedObject.name=${pod}`])).stdout;
const pod = (name: string, spec: object) =>
  JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns }, spec });

beforeAll(async () => {
  sim = await startKubeSim({
    scenario: {
      readyAfterMs: 100,
      storageClasses: ['standard', 'slow'],
      images: {
        'taskflow/api': {
          state: 'crash',
          exitCode: 1,
          logs: 'password authentication failed for user "taskflow_user"',
        },
        'taskflow/web-dashboard': { state: 'pull-error' },
        'taskflow/sso-platform-migrations': { state: 'crash', logs: 'error: relation "user" already exists' },
        'taskflow/mcp-server': { state: 'never-ready' },
        'demo/hog': { state: 'oom' },
        'demo/wait-forever': { state: 'hang' },
        'demo/oneshot': { state: 'complete', logs: 'done' },
        'slowdb/postgres': { serverStartMs: 600_000 },
      },
    },
  });
  await k(['create', 'namespace', ns]);
});
afterAll(async () => {
  await sim?.stop();
});

describe('failure injection', () => {
  it('crash: CrashLoopBackOff with growing restart counts, back-off events and --previous logs', async () => {
    await k(['run', 'api', '--image=taskflow/api:1.4.2', '-n', ns]);
    await waitFor(
      async () => (await status('api')).containerStatuses?.[0]?.restartCount === 2,
      10_000,
      'two restarts',
    );
    const s = await waitFor(
      async () => {
        const st = await status('api');
        return st.containerStatuses?.[0]?.state.waiting?.reason === 'CrashLoopBackOff' && st;
      },
      10_000,
      'CrashLoopBackOff',
    );
    const c = s.containerStatuses?.[0];
    expect(s.phase).toBe('Running');
    expect(c?.lastState.terminated).toMatchObject({ reason: 'Error', exitCode: 1 });
    expect(c?.state.waiting?.message).toMatch(
      /^back-off \d+(\.\d+)?s restarting failed container=api pod=api_faults/,
    );
    expect(await row('api')).toMatch(/api\s+0\/1\s+CrashLoopBackOff\s+2 \(\d+s ago\)/);
    expect((await k(['logs', 'api', '-n', ns, '--previous'])).stdout).toBe(
      'password authentication failed for user "taskflow_user"\n',
    );
    expect(await events('api')).toMatch(
      /Warning\s+BackOff\s+pod\/api\s+Back-off restarting failed container api in pod api_faults/,
    );
    const wait = await k(['wait', '--for=condition=Ready', 'pod/api', '-n', ns, '--timeout=1s']);
    expect(wait.code).toBe(1);
  });

  it('pull-error: ErrImagePull then ImagePullBackOff, with Failed and BackOff events', async () => {
    await k(['run', 'web', '--image=taskflow/web-dashboard:2.0', '-n', ns]);
    const seen = new Set<string>();
    await waitFor(
      async () => {
        const reason = (await status('web')).containerStatuses?.[0]?.state.waiting?.reason;
        if (reason) seen.add(reason);
        return seen.has('ImagePullBackOff');
      },
      10_000,
      'ImagePullBackOff',
    );
    expect((await status('web')).phase).toBe('Pending');
    const ev = await events('web');
    expect(ev).toMatch(/Warning\s+Failed\s+pod\/web\s+Failed to pull image "taskflow\/web-dashboard:2.0": /);
    expect(ev).toMatch(/Warning\s+Failed\s+pod\/web\s+Error: ErrImagePull/);
    expect(ev).toMatch(/Normal\s+BackOff\s+pod\/web\s+Back-off pulling image "taskflow\/web-dashboard:2.0"/);
    const logs = await k(['logs', 'web', '-n', ns]);
    expect(logs.stderr).toContain('is waiting to start: trying and failing to pull image');
  });

  it('init containers: a failing one loops as Init:CrashLoopBackOff, a hanging one stays Init:0/1', async () => {
    await k(
      ['apply', '-f', '-'],
      pod('sso', {
        initContainers: [{ name: 'migrate', image: 'taskflow/sso-platform-migrations:1' }],
        containers: [{ name: 'sso', image: 'taskflow/sso-platform:1' }],
      }),
    );
    await k(
      ['apply', '-f', '-'],
      pod('blocked', {
        initContainers: [
          { name: 'wait-for-db', image: 'demo/wait-forever:1' },
          { name: 'second', image: 'demo/x:1' },
        ],
        containers: [{ name: 'app', image: 'demo/app:1' }],
      }),
    );
    await waitFor(
      async () => /Init:CrashLoopBackOff/.test(await row('sso')),
      10_000,
      'Init:CrashLoopBackOff',
    );
    expect((await k(['logs', 'sso', '-n', ns, '-c', 'migrate'])).stdout).toBe(
      'error: relation "user" already exists\n',
    );
    const s = await status('sso');
    expect(s.conditions?.find((c) => c.type === 'Initialized')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotInitialized',
    });
    expect(s.containerStatuses?.[0]?.state.waiting?.reason).toBe('PodInitializing');
    await new Promise((r) => setTimeout(r, 500));
    expect(await row('blocked')).toMatch(/blocked\s+0\/1\s+Init:0\/2\s+0/);
    expect((await status('blocked')).initContainerStatuses?.[0]?.state.running).toBeDefined();
  });

  it('an init container that completes lets the pod start; a run-to-completion pod Succeeds', async () => {
    await k(
      ['apply', '-f', '-'],
      pod('inited', {
        initContainers: [{ name: 'prep', image: 'demo/prep:1' }],
        containers: [{ name: 'app', image: 'demo/app:1' }],
      }),
    );
    await k(
      ['apply', '-f', '-'],
      pod('oneshot', { restartPolicy: 'Never', containers: [{ name: 'job', image: 'demo/oneshot:1' }] }),
    );
    expect((await k(['wait', '--for=condition=Ready', 'pod/inited', '-n', ns, '--timeout=10s'])).code).toBe(
      0,
    );
    expect((await status('inited')).initContainerStatuses?.[0]?.state.terminated).toMatchObject({
      reason: 'Completed',
      exitCode: 0,
    });
    await waitFor(async () => (await status('oneshot')).phase === 'Succeeded', 10_000, 'Succeeded');
    expect(await row('oneshot')).toMatch(/oneshot\s+0\/1\s+Completed\s+0/);
  });

  it('never-ready: Running but not Ready, with Unhealthy events; rollout status does not succeed', async () => {
    await k(['create', 'deployment', 'mcp', '--image=taskflow/mcp-server:1', '-n', ns]);
    const st = await k(['rollout', 'status', 'deployment/mcp', '-n', ns, '--timeout=2s']);
    expect(st.code).toBe(1);
    expect(st.stdout).toContain(
      'Waiting for deployment "mcp" rollout to finish: 0 of 1 updated replicas are available...',
    );
    const name = (
      await k(['get', 'pods', '-n', ns, '-l', 'app=mcp', '-o', 'jsonpath={.items[0].metadata.name}'])
    ).stdout;
    expect(await row(name)).toMatch(/0\/1\s+Running\s+0/);
    expect(await events(name)).toMatch(/Warning\s+Unhealthy\s+pod\/mcp-\S+\s+Readiness probe failed/);
  });

  it('a Deployment that makes no progress gets ProgressDeadlineExceeded (deadline scaled down)', async () => {
    const dep = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'stuck', namespace: ns },
      spec: {
        progressDeadlineSeconds: 100,
        selector: { matchLabels: { app: 'stuck' } },
        template: {
          metadata: { labels: { app: 'stuck' } },
          spec: { containers: [{ name: 'c', image: 'taskflow/mcp-server:1' }] },
        },
      },
    };
    await k(['apply', '-f', '-'], JSON.stringify(dep));
    const st = await k(['rollout', 'status', 'deployment/stuck', '-n', ns, '--timeout=10s']);
    expect(st.code).toBe(1);
    expect(st.stderr).toContain('deployment "stuck" exceeded its progress deadline');
  });

  it('oom: OOMKilled with exit code 137, then back-off', async () => {
    await k(['run', 'hog', '--image=demo/hog:1', '-n', ns]);
    const s = await waitFor(
      async () => {
        const st = await status('hog');
        return st.containerStatuses?.[0]?.lastState.terminated && st;
      },
      10_000,
      'a termination',
    );
    expect(s.containerStatuses?.[0]?.lastState.terminated).toMatchObject({
      reason: 'OOMKilled',
      exitCode: 137,
    });
    await waitFor(
      async () => /hog\s+0\/1\s+(OOMKilled|CrashLoopBackOff)/.test(await row('hog')),
      5_000,
      'OOMKilled row',
    );
    expect((await k(['get', 'events', '-A', '--field-selector', 'reason=OOMKilling'])).stdout).toMatch(
      /Memory cgroup out of memory: Killed process \d+ \(hog\)/,
    );
  });

  it('a claim of a missing storage class stays Pending with ProvisioningFailed; its pod is unschedulable', async () => {
    const pvc = {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data', namespace: ns },
      spec: {
        storageClassName: 'fast-ssd',
        accessModes: ['ReadWriteOnce'],
        resources: { requests: { storage: '1Gi' } },
      },
    };
    await k(['apply', '-f', '-'], JSON.stringify(pvc));
    await k(
      ['apply', '-f', '-'],
      pod('needs-data', {
        containers: [{ name: 'app', image: 'demo/app:1' }],
        volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }],
      }),
    );
    await waitFor(async () => /ProvisioningFailed/.test(await events('data')), 5_000, 'ProvisioningFailed');
    expect(await events('data')).toMatch(
      /Warning\s+ProvisioningFailed\s+persistentvolumeclaim\/data\s+storageclass\.storage\.k8s\.io "fast-ssd" not found/,
    );
    expect((await k(['get', 'pvc', 'data', '-n', ns])).stdout).toMatch(/data\s+Pending\s+fast-ssd/);
    expect((await status('needs-data')).conditions).toEqual([
      expect.objectContaining({ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }),
    ]);
    expect((await k(['describe', 'pod', 'needs-data', '-n', ns])).stdout).toMatch(
      /FailedScheduling\s+.*pod has unbound immediate PersistentVolumeClaims/,
    );
    // The second class of the scenario exists: a claim of it binds, and the default class is the first.
    const slow = {
      ...pvc,
      metadata: { name: 'slow-data', namespace: ns },
      spec: { ...pvc.spec, storageClassName: 'slow' },
    };
    await k(['apply', '-f', '-'], JSON.stringify(slow));
    await waitFor(
      async () => /Bound/.test((await k(['get', 'pvc', 'slow-data', '-n', ns])).stdout),
      5_000,
      'Bound',
    );
    expect((await k(['get', 'storageclass'])).stdout).toMatch(/^slow\s[\s\S]*^standard \(default\)\s/m);
  });

  it('a missing Secret key is CreateContainerConfigError until the Secret appears', async () => {
    await k(
      ['apply', '-f', '-'],
      pod('needs-secret', {
        containers: [
          {
            name: 'app',
            image: 'demo/app:1',
            env: [{ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }],
          },
        ],
      }),
    );
    await waitFor(
      async () => /CreateContainerConfigError/.test(await row('needs-secret')),
      5_000,
      'CreateContainerConfigError',
    );
    expect((await status('needs-secret')).containerStatuses?.[0]?.state.waiting?.message).toBe(
      'secret "db" not found',
    );
    await k(['create', 'secret', 'generic', 'db', '-n', ns, '--from-literal=user=x']);
    await waitFor(
      async () =>
        (await status('needs-secret')).containerStatuses?.[0]?.state.waiting?.message ===
        "couldn't find key password in Secret faults/db",
      5_000,
      'missing key',
    );
    await k([
      'create',
      'secret',
      'generic',
      'db',
      '-n',
      ns,
      '--from-literal=password=s3cret',
      '--dry-run=client',
      '-o',
      'yaml',
    ]).then((r) => k(['apply', '-f', '-'], r.stdout));
    expect(
      (await k(['wait', '--for=condition=Ready', 'pod/needs-secret', '-n', ns, '--timeout=10s'])).code,
    ).toBe(0);
    expect((await k(['exec', 'needs-secret', '-n', ns, '--', 'printenv', 'DB_PASSWORD'])).stdout).toBe(
      's3cret\n',
    );
  });

  it('a postgres container whose server is not up yet has psql, and its connections are refused', async () => {
    await k(['run', 'slowdb', '--image=slowdb/postgres:16', '--env=POSTGRES_PASSWORD=pw', '-n', ns]);
    await waitFor(
      async () => (await status('slowdb')).containerStatuses?.[0]?.state.running !== undefined,
      60_000,
      'the container running',
    );
    const socket = await k(['exec', 'slowdb', '-n', ns, '--', 'psql', '-U', 'postgres', '-c', 'select 1']);
    expect(socket.code, socket.stderr).toBe(2);
    expect(socket.stderr).toMatch(/connection to server on socket .* failed: No such file or directory/);
    const tcp = await k(['exec', 'slowdb', '-n', ns, '--', 'psql', '-h', '127.0.0.1', '-U', 'postgres']);
    expect(tcp.code, tcp.stderr).toBe(2);
    expect(tcp.stderr).toMatch(/Connection refused/);
    expect((await status('slowdb')).containerStatuses?.[0]?.ready).toBe(false);
  });

  it('scenario changes at run time apply to new containers', async () => {
    await sim.setScenario({ readyAfterMs: 100, images: { 'demo/flaky': { state: 'crash' } } });
    await k(['run', 'flaky', '--image=demo/flaky:1', '-n', ns]);
    await waitFor(
      async () => ((await status('flaky')).containerStatuses?.[0]?.restartCount ?? 0) >= 1,
      5_000,
      'a crash',
    );
    await sim.setScenario({ readyAfterMs: 100 });
    expect((await k(['wait', '--for=condition=Ready', 'pod/flaky', '-n', ns, '--timeout=10s'])).code).toBe(0);
  });
});
