// Programs as containers and the pod network of the simulated cluster: a real program runs with its
// pod's env, logs through kubectl, is Ready by its readinessProbe, reaches other pods by Service name
// (ClusterIP through the kube-proxy, headless by pod IP), is reached through the API server's proxy
// and port-forward, restarts when it exits, and is stopped by pid with its pod.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { startKubeSim, type KubeSim } from './index.ts';
import { canMountHosts } from './kubelet/program.ts';
import { hostsFor } from './network/dns.ts';
import { startKubectl } from './test-helpers.ts';

const WEB = fileURLToPath(new URL('./fixtures/programs/web.mjs', import.meta.url));
const ns = 'sim-net';
let sim: KubeSim;
const k = (args: string[], input?: string) =>
  sim.kubectl([...args, '-n', ns], input === undefined ? {} : { input });

const manifests = [
  { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'web' }, stringData: { token: 'from-the-secret' } },
  {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'web',
              image: 'demo/web:1',
              env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'web', key: 'token' } } }],
              ports: [{ name: 'http', containerPort: 8080 }],
              readinessProbe: { httpGet: { path: '/healthz', port: 'http' } },
            },
          ],
        },
      },
    },
  },
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web' },
    spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http' }] },
  },
  {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'plain' },
    spec: {
      selector: { matchLabels: { app: 'plain' } },
      template: {
        metadata: { labels: { app: 'plain' } },
        spec: { containers: [{ name: 'plain', image: 'demo/plain:1', ports: [{ containerPort: 9000 }] }] },
      },
    },
  },
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'plain' },
    spec: { selector: { app: 'plain' }, ports: [{ port: 90, targetPort: 9000 }] },
  },
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'plain-headless' },
    spec: { clusterIP: 'None', selector: { app: 'plain' }, ports: [{ port: 9000 }] },
  },
]
  .map((o) => YAML.stringify(o))
  .join('---\n');

/** GET through the API server's service proxy to the program (what kubectl get --raw does). */
const viaProxy = async (path: string): Promise<string> => {
  const r = await sim.kubectl(['get', '--raw', `/api/v1/namespaces/${ns}/services/web:80/proxy${path}`]);
  return r.code === 0 ? r.stdout.trim() : `error: ${r.stderr.trim()}`;
};
const webPod = async (): Promise<string> =>
  (await k(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}'])).stdout;
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

beforeAll(async () => {
  sim = await startKubeSim({
    scenario: {
      readyAfterMs: 50,
      images: { 'demo/web': { program: { command: [process.execPath, WEB] } } },
    },
  });
  await sim.kubectl(['create', 'namespace', ns]);
  const applied = await k(['apply', '-f', '-'], manifests);
  expect(applied.code, applied.stderr).toBe(0);
  for (const d of ['web', 'plain']) {
    const r = await k(['rollout', 'status', `deployment/${d}`, '--timeout=60s']);
    expect(r.code, r.stderr).toBe(0);
  }
}, 120_000);
afterAll(async () => {
  await sim?.stop();
});

describe('programs as containers on the simulated pod network', () => {
  it('runs with the pod’s env, on its pod IP, logs through kubectl, Ready by its probe', async () => {
    expect(await viaProxy('/env/TOKEN')).toBe('from-the-secret');
    const pod = await webPod();
    const ip = (await k(['get', 'pod', pod, '-o', 'jsonpath={.status.podIP}'])).stdout;
    expect(ip).toMatch(/^127\.\d+\.\d+\.\d+$/);
    const logs = await k(['logs', pod]);
    expect(logs.stdout).toContain(`listening on ${ip}:8080`);
    expect((await k(['get', 'pod', pod, '-o', 'jsonpath={.status.containerStatuses[0].ready}'])).stdout).toBe(
      'true',
    );
  });

  it.runIf(canMountHosts())(
    'reaches other pods by Service name: ClusterIP (short and qualified), headless, none for an unknown one',
    async () => {
      const plain = (await k(['get', 'pods', '-l', 'app=plain', '-o', 'jsonpath={.items[0].metadata.name}']))
        .stdout;
      const fetchVia = (url: string) => viaProxy(`/fetch?url=${encodeURIComponent(url)}`);
      expect(await fetchVia('http://plain:90/a')).toBe(`200 ok: ${plain}:9000 GET /a`);
      expect(await fetchVia(`http://plain.${ns}.svc.cluster.local:90/b`)).toBe(
        `200 ok: ${plain}:9000 GET /b`,
      );
      expect(await fetchVia('http://plain-headless:9000/c')).toBe(`200 ok: ${plain}:9000 GET /c`);
      expect(await fetchVia('http://nothing-here:80/')).toMatch(
        /^error: .*fetch failed: (ENOTFOUND|EAI_AGAIN)/s,
      );
    },
  );

  it('is reached through port-forward', async () => {
    const pf = startKubectl(sim, ['port-forward', '-n', ns, 'service/web', ':80']);
    try {
      await expect
        .poll(() => /127\.0\.0\.1:(\d+) ->/.test(pf.out()), { timeout: 30_000, interval: 50 })
        .toBe(true);
      const port = Number(/127\.0\.0\.1:(\d+) ->/.exec(pf.out())?.[1]);
      const res = await fetch(`http://127.0.0.1:${port}/env/TOKEN`);
      expect((await res.text()).trim()).toBe('from-the-secret');
    } finally {
      await pf.stop();
    }
  });

  it('restarts when the program exits, and its pid is gone once the pod is deleted', async () => {
    const pod = await webPod();
    expect(await viaProxy('/exit?code=3')).toBe('bye');
    await expect
      .poll(
        async () =>
          (
            await k([
              'get',
              'pod',
              pod,
              '-o',
              'jsonpath={.status.containerStatuses[0].lastState.terminated.exitCode}',
            ])
          ).stdout,
        { timeout: 30_000, interval: 100 },
      )
      .toBe('3');
    await expect.poll(() => viaProxy('/healthz'), { timeout: 30_000, interval: 100 }).toBe('ok');
    const pid = Number(await viaProxy('/pid'));
    expect(alive(pid)).toBe(true);
    const del = await k(['delete', 'pod', pod, '--wait=true']);
    expect(del.code, del.stderr).toBe(0);
    await expect.poll(() => alive(pid), { timeout: 30_000, interval: 50 }).toBe(false);
  });
});

describe('hosts files (in-process simulator)', () => {
  it('names ClusterIP and headless Services as cluster DNS does', async () => {
    const s = await startKubeSim({ inProcess: true, scenario: { readyAfterMs: 20 } });
    try {
      await s.kubectl(['create', 'namespace', 'a']);
      const r = await s.kubectl(['apply', '-n', 'a', '-f', '-'], { input: manifests });
      expect(r.code, r.stderr).toBe(0);
      await s.kubectl(['rollout', 'status', '-n', 'a', 'deployment/plain', '--timeout=60s']);
      const svcIp = (await s.kubectl(['get', 'svc', '-n', 'a', 'plain', '-o', 'jsonpath={.spec.clusterIP}']))
        .stdout;
      const podIp = (
        await s.kubectl([
          'get',
          'pods',
          '-n',
          'a',
          '-l',
          'app=plain',
          '-o',
          'jsonpath={.items[0].status.podIP}',
        ])
      ).stdout;
      const inA = hostsFor(s.cluster!, 'a');
      expect(inA).toContain(`${svcIp}\tplain plain.a plain.a.svc plain.a.svc.cluster.local\n`);
      expect(inA).toContain(`${podIp}\tplain-headless plain-headless.a plain-headless.a.svc`);
      const elsewhere = hostsFor(s.cluster!, 'b');
      expect(elsewhere).toContain(`${svcIp}\tplain.a plain.a.svc plain.a.svc.cluster.local\n`);
      expect(elsewhere).not.toMatch(/\tplain /);
    } finally {
      await s.stop();
    }
  });
});
