// Rollouts of Deployments and StatefulSets, logs, exec and port-forward with the real kubectl
// (1.35 and 1.33) against the simulated cluster.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ToolsetName } from '../support/tools.ts';
import { startKubeSim, type KubeSim } from './index.ts';
import { pattern } from './kubelet/ports.ts';
import { json, startKubectl, waitFor, type Running } from './test-helpers.ts';

let sim: KubeSim;
beforeAll(async () => {
  sim = await startKubeSim({
    scenario: {
      readyAfterMs: 100,
      images: {
        'demo/crash': { state: 'crash', exitCode: 2, logs: 'fatal: cannot connect to database' },
        'demo/slow': { state: 'complete', runMs: 1500, logs: 'working...' },
        'demo/pull': { state: 'pull-error' },
      },
    },
  });
});
afterAll(async () => {
  await sim?.stop();
});

const apply = (ts: ToolsetName, doc: object) =>
  sim.kubectl(['apply', '-f', '-'], { toolset: ts, input: JSON.stringify(doc) });

function request(port: number, path: string, body?: Buffer): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path, method: body ? 'POST' : 'GET', agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function forwardedPort(pf: Running): Promise<number> {
  const m = await waitFor(
    () => /Forwarding from 127\.0\.0\.1:(\d+)/.exec(pf.out()),
    10_000,
    `port-forward to start (${pf.err()})`,
  );
  return Number(m[1]);
}

describe.each<ToolsetName>(['v35', 'v33'])('workloads with kubectl %s', (ts) => {
  const ns = `w-${ts}`;
  const k = (args: string[], input?: string) =>
    sim.kubectl(args, { toolset: ts, ...(input !== undefined && { input }) });

  beforeAll(async () => {
    await k(['create', 'namespace', ns]);
    await apply(ts, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: ns },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [
              {
                name: 'web',
                image: 'demo/web:1',
                ports: [{ name: 'http', containerPort: 8080 }],
                env: [{ name: 'GREETING', value: 'hi' }],
              },
              { name: 'sidecar', image: 'demo/proxy:1' },
            ],
          },
        },
      },
    });
    await apply(ts, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: ns },
      spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http' }] },
    });
  });

  it('rolls out, restarts and lists the history of a Deployment', async () => {
    const st = await k(['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=20s']);
    expect(st.stdout).toContain('deployment "web" successfully rolled out');
    const before = (await k(['get', 'pods', '-n', ns, '-l', 'app=web', '-o', 'name'])).stdout;
    expect((await k(['rollout', 'restart', 'deployment/web', '-n', ns])).stdout).toContain(
      'deployment.apps/web restarted',
    );
    const again = await k(['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=20s']);
    expect(again.stdout).toContain('successfully rolled out');
    const after = (await k(['get', 'pods', '-n', ns, '-l', 'app=web', '-o', 'name'])).stdout;
    expect(after.trim().split('\n')).toHaveLength(2);
    expect(after.split('\n').filter((p) => p && before.includes(p))).toEqual([]);
    const hist = await k(['rollout', 'history', 'deployment/web', '-n', ns]);
    expect(hist.stdout).toMatch(/REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);
    const rev1 = await k(['rollout', 'history', 'deployment/web', '-n', ns, '--revision=2']);
    expect(rev1.stdout).toContain('kubectl.kubernetes.io/restartedAt');
    expect((await k(['rollout', 'undo', 'deployment/web', '-n', ns])).code).toBe(0);
    expect((await k(['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=20s'])).code).toBe(0);
    expect((await k(['rollout', 'history', 'deployment/web', '-n', ns])).stdout).toMatch(
      /\n2\s+<none>\n3\s+<none>/,
    );
  });

  it('rolls out a StatefulSet with its claims, restarts it in reverse order, keeps the claims', async () => {
    await apply(ts, {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db', namespace: ns },
      spec: {
        replicas: 2,
        serviceName: 'db',
        selector: { matchLabels: { app: 'db' } },
        template: {
          metadata: { labels: { app: 'db' } },
          spec: {
            containers: [
              { name: 'db', image: 'demo/store:1', volumeMounts: [{ name: 'data', mountPath: '/data' }] },
            ],
          },
        },
        volumeClaimTemplates: [
          {
            metadata: { name: 'data' },
            spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
          },
        ],
      },
    });
    const st = await k(['rollout', 'status', 'statefulset/db', '-n', ns, '--timeout=20s']);
    expect(st.stdout).toMatch(
      /partitioned roll out complete|rolling update complete 2 pods at revision db-\w+/,
    );
    expect((await k(['get', 'pvc', '-n', ns])).stdout).toMatch(
      /data-db-0\s+Bound\s+pvc-[\w-]+\s+1Gi\s+RWO\s+standard/,
    );
    const uids = async () =>
      json<{ items: { metadata: { name: string; uid: string } }[] }>(
        await k(['get', 'pods', '-n', ns, '-l', 'app=db', '-o', 'json']),
      ).items.map((p) => `${p.metadata.name}/${p.metadata.uid}`);
    const before = await uids();
    expect((await k(['rollout', 'restart', 'statefulset/db', '-n', ns])).code).toBe(0);
    const done = await k(['rollout', 'status', 'statefulset/db', '-n', ns, '--timeout=20s']);
    // Partition defaults to 0, so kubectl reports a partitioned roll out, as on a real cluster.
    expect(done.stdout, done.stderr).toContain('partitioned roll out complete: 2 new pods have been updated');
    expect((await uids()).filter((u) => before.includes(u))).toEqual([]);
    const revisions = (await k(['rollout', 'history', 'statefulset/db', '-n', ns])).stdout;
    expect(revisions).toMatch(/1\s+<none>\n2\s+<none>/);
    const sts = json<{ status: Record<string, unknown>; metadata: { generation: number } }>(
      await k(['get', 'sts', 'db', '-n', ns, '-o', 'json']),
    );
    expect(sts.status).toMatchObject({
      replicas: 2,
      readyReplicas: 2,
      updatedReplicas: 2,
      availableReplicas: 2,
      observedGeneration: sts.metadata.generation,
    });
    expect(sts.status.currentRevision).toBe(sts.status.updateRevision);
    expect((await k(['delete', 'statefulset', 'db', '-n', ns])).code).toBe(0);
    await waitFor(
      async () => (await k(['get', 'pods', '-n', ns, '-l', 'app=db', '-o', 'name'])).stdout === '',
      10_000,
      'sts pods gone',
    );
    expect((await k(['get', 'pvc', '-n', ns, '-o', 'name'])).stdout).toContain(
      'persistentvolumeclaim/data-db-0',
    );
  });

  it('shows logs: by container, by label, tail, previous, and follow ending with the container', async () => {
    const pod = (
      await k(['get', 'pods', '-n', ns, '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}'])
    ).stdout;
    const logs = await k(['logs', pod, '-n', ns, '-c', 'web']);
    expect(logs.stdout).toContain('Network:      http://0.0.0.0:8080');
    expect(
      (await k(['logs', pod, '-n', ns, '-c', 'web', '--tail=1'])).stdout.trim().split('\n'),
    ).toHaveLength(1);
    const byLabel = await k(['logs', '-l', 'app=web', '-n', ns, '-c', 'web', '--prefix']);
    expect(byLabel.stdout.match(/^\[pod\/web-/gm)?.length).toBeGreaterThanOrEqual(4);
    const noPrev = await k(['logs', pod, '-n', ns, '-c', 'web', '--previous']);
    expect(noPrev.code).toBe(1);
    expect(noPrev.stderr).toContain('previous terminated container "web" in pod');
    await k(['run', 'crasher', '--image=demo/crash:1', '-n', ns]);
    await waitFor(
      async () =>
        (
          await k([
            'get',
            'pod',
            'crasher',
            '-n',
            ns,
            '-o',
            'jsonpath={.status.containerStatuses[0].restartCount}',
          ])
        ).stdout >= '1',
      10_000,
      'a restart',
    );
    const prev = await k(['logs', 'crasher', '-n', ns, '--previous']);
    expect(prev.stdout).toBe('fatal: cannot connect to database\n');
    await k(['run', 'slow', '--image=demo/slow:1', '--restart=Never', '-n', ns]);
    await waitFor(
      async () =>
        (await k(['get', 'pod', 'slow', '-n', ns, '-o', 'jsonpath={.status.phase}'])).stdout === 'Running',
      10_000,
      'slow running',
    );
    const started = Date.now();
    const f = await k(['logs', '-f', 'slow', '-n', ns]);
    expect(f.code).toBe(0);
    expect(f.stdout).toBe('working...\n');
    expect(Date.now() - started).toBeGreaterThan(300);
    expect((await k(['get', 'pod', 'slow', '-n', ns, '-o', 'jsonpath={.status.phase}'])).stdout).toBe(
      'Succeeded',
    );
  });

  it('execs with and without stdin and passes exit codes through', async () => {
    const pod = (
      await k(['get', 'pods', '-n', ns, '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}'])
    ).stdout;
    const r = await k([
      'exec',
      pod,
      '-n',
      ns,
      '-c',
      'web',
      '--',
      'sh',
      '-c',
      'echo "$GREETING from $HOSTNAME"; echo oops >&2; exit 3',
    ]);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe(`hi from ${pod}\n`);
    expect(r.stderr).toContain('oops');
    const cat = await k(['exec', '-i', pod, '-n', ns, '-c', 'web', '--', 'cat'], 'line 1\nline 2\n');
    expect(cat.code).toBe(0);
    expect(cat.stdout).toBe('line 1\nline 2\n');
    const bad = await k(['exec', pod, '-n', ns, '-c', 'nope', '--', 'true']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/container nope is not valid for pod/);
    await k(['run', 'unpulled', '--image=demo/pull:1', '-n', ns]);
    await waitFor(
      async () =>
        /ImagePullBackOff|ErrImagePull/.test((await k(['get', 'pod', 'unpulled', '-n', ns])).stdout),
      10_000,
      'pull failure',
    );
    const notRunning = await k(['exec', 'unpulled', '-n', ns, '--', 'true']);
    expect(notRunning.code).toBe(1);
  });

  it('exec sees the environment the container started with: a Secret changed later needs a restart', async () => {
    await apply(ts, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'word', namespace: ns },
      stringData: { w: 'old' },
    });
    await k([
      'run',
      'reader',
      '--image=demo/reader:1',
      '-n',
      ns,
      '--overrides',
      JSON.stringify({
        spec: {
          containers: [
            {
              name: 'reader',
              image: 'demo/reader:1',
              env: [{ name: 'W', valueFrom: { secretKeyRef: { name: 'word', key: 'w' } } }],
            },
          ],
        },
      }),
    ]);
    await waitFor(
      async () =>
        (await k(['get', 'pod', 'reader', '-n', ns, '-o', 'jsonpath={.status.phase}'])).stdout === 'Running',
      10_000,
      'reader running',
    );
    await apply(ts, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'word', namespace: ns },
      stringData: { w: 'new' },
    });
    const r = await k(['exec', 'reader', '-n', ns, '--', 'sh', '-c', 'echo "$W"']);
    expect(r.stdout).toBe('old\n');
  });

  it('port-forwards a service and a pod: several connections, large transfers intact', async () => {
    const svc = startKubectl(sim, ['port-forward', '-n', ns, 'svc/web', ':80'], ts);
    try {
      const port = await forwardedPort(svc);
      const replies = await Promise.all([1, 2, 3, 4, 5].map((i) => request(port, `/item/${i}`)));
      for (const [i, r] of replies.entries()) {
        expect(r.status).toBe(200);
        expect(r.body.toString()).toMatch(new RegExp(`^ok: web-\\S+:8080 GET /item/${i + 1}`));
      }
      const big = await request(port, '/bytes/6000000');
      expect(big.body.length).toBe(6_000_000);
      expect(big.body.equals(pattern(6_000_000))).toBe(true);
      const upload = Buffer.from(Array.from({ length: 3_000_000 }, (_, i) => (i * 7) % 256));
      const echoed = await request(port, '/upload', upload);
      expect(echoed.body.equals(upload)).toBe(true);
    } finally {
      await svc.stop();
    }
    const pod = (
      await k(['get', 'pods', '-n', ns, '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}'])
    ).stdout;
    const pf = startKubectl(sim, ['port-forward', '-n', ns, `pod/${pod}`, ':8080'], ts);
    try {
      const port = await forwardedPort(pf);
      expect((await request(port, '/health')).body.toString()).toBe(`ok: ${pod}:8080 GET /health\n`);
    } finally {
      await pf.stop();
    }
  });
});
