import { afterEach, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../lib/checks.ts';
import { CLUSTER_CHECKS } from '../../lib/preflight/checks-cluster.ts';
import {
  FakeRunner,
  type Reply,
  json,
  kubeconfigReply,
  notFound,
  versionReply,
} from '../support/fake-runner.ts';
import { check, options, tempEnv } from './support.ts';
import { CHART_PATH } from '../../lib/context.ts';
import { missingKubeconfig } from '../../lib/preflight/cluster.ts';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

const SSO_PW = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6';
const TOOLS = { KUBECTL: '/bin/true', HELM: '/bin/true', PATH: '' };
const sc = (name: string, isDefault = false) => ({
  kind: 'StorageClass',
  metadata: { name, annotations: isDefault ? { 'storageclass.kubernetes.io/is-default-class': 'true' } : {} },
});
const runningDb = {
  kind: 'Pod',
  metadata: { name: 'sso-postgres-0' },
  status: { phase: 'Running', containerStatuses: [{ name: 'postgres', state: { running: {} } }] },
};

/** A cluster answering like a real one; `over` replaces single answers. */
function cluster(over: (args: string[]) => Reply | undefined = () => undefined): FakeRunner {
  return new FakeRunner((args) => {
    const o = over(args);
    if (o) return o;
    const v = versionReply(args) ?? kubeconfigReply(args);
    if (v) return v;
    const line = args.join(' ');
    if (line.startsWith('get --raw /version')) return json({ gitVersion: 'v1.35.0' });
    if (line.startsWith('get storageclasses')) return json({ items: [sc('standard', true)] });
    if (line.startsWith('get nodes')) return json({ items: [node('minikube', TASKFLOW_IMAGES)] });
    if (line.startsWith('get values')) return { exitCode: 1, stderr: 'Error: release: not found' };
    if (line.startsWith('get pvc')) return { stdout: '' };
    if (line.startsWith('get secret')) return { stdout: '' };
    return notFound(line);
  });
}

/** The five TaskFlow images with the chart's default tag, as a node lists them. */
const TASKFLOW_IMAGES = [
  'taskflow/sso-platform',
  'taskflow/sso-platform-migrations',
  'taskflow/api',
  'taskflow/mcp-server',
  'taskflow/web-dashboard',
].map((r) => `docker.io/${r}:0.1.0`);
/** A Node with these images in status.images (undefined: no list at all). */
const node = (name: string, images: string[] | undefined) => ({
  kind: 'Node',
  metadata: { name },
  status: images && {
    images: images.map((i) => ({ names: [i, `${i.split(':')[0]}@sha256:${'0'.repeat(64)}`] })),
  },
});

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
});

async function run(
  runner: FakeRunner,
  envText = '',
  over: Parameters<typeof options>[1] = {},
): Promise<CheckResult[]> {
  const t = tempEnv(envText);
  cleanups.push(t.cleanup);
  return check(CLUSTER_CHECKS, options(t.dir, { env: TOOLS, offline: false, runner, ...over }));
}
const byId = (rs: CheckResult[], id: string) => rs.find((r) => r.id === id);

describe('cluster checks', () => {
  it('pass against a healthy cluster with no data yet', async () => {
    const rs = await run(cluster());
    expect(rs.map((r) => [r.id, r.status])).toEqual([
      ['tools.kubectl', 'pass'],
      ['tools.helm', 'pass'],
      ['cluster.reachable', 'pass'],
      ['cluster.context', 'pass'],
      ['cluster.storageclass', 'pass'],
      ['cluster.images', 'pass'],
      ['db.password-drift', 'pass'],
    ]);
    expect(byId(rs, 'cluster.storageclass')?.detail).toBe('default storage class "standard"');
  });

  it('fail when the storage class asked for does not exist', async () => {
    const rs = await run(cluster(), 'TASKFLOW_STORAGE_CLASS=fast\n');
    expect(byId(rs, 'cluster.storageclass')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('storage class "fast" (TASKFLOW_STORAGE_CLASS) does not exist'),
      hint: 'remove TASKFLOW_STORAGE_CLASS to use the default class "standard", or set it to one of: standard',
    });
  });

  it('fail on password drift, with the password only on stdin', async () => {
    const runner = cluster((args) => {
      const line = args.join(' ');
      if (line.startsWith('get pvc data-sso-postgres-0'))
        return json({ kind: 'PersistentVolumeClaim', metadata: { name: 'data-sso-postgres-0' } });
      if (line.startsWith('get pod sso-postgres-0')) return json(runningDb);
      if (args[0] === 'exec')
        return {
          exitCode: 2,
          stderr: 'psql: error: FATAL:  password authentication failed for user "sso_user"',
        };
      return undefined;
    });
    const rs = await run(runner, `POSTGRES_SSO_PASSWORD=${SSO_PW}\n`);
    expect(byId(rs, 'db.password-drift')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining(
        'sso: the sso database (volume data-sso-postgres-0) rejects the password about to be deployed',
      ),
      hint: expect.stringContaining('npm run reset-db-password -- sso'),
    });
    expect(
      runner.recorded.find((r) => r.argv.includes('exec') && r.argv.includes('login-check'))?.stdin,
    ).toBe(SSO_PW);
    expect(runner.recorded.map((r) => r.argv.join(' ')).join('\n')).not.toContain(SSO_PW);
    expect(JSON.stringify(rs)).not.toContain(SSO_PW);
  });

  it('use the Secret in the cluster when the env file has no password', async () => {
    const secret = {
      kind: 'Secret',
      metadata: { name: 'sso-postgres' },
      data: { password: Buffer.from(SSO_PW).toString('base64') },
    };
    const runner = cluster((args) => {
      const line = args.join(' ');
      if (line.startsWith('get secret')) return json({ kind: 'List', items: [secret] });
      if (line.startsWith('get pvc data-sso-postgres-0'))
        return json({ kind: 'PersistentVolumeClaim', metadata: { name: 'data-sso-postgres-0' } });
      if (line.startsWith('get pod sso-postgres-0')) return json(runningDb);
      if (args[0] === 'exec') return { stdout: '1\n' };
      return undefined;
    });
    const rs = await run(runner);
    expect(byId(rs, 'db.password-drift')?.status).toBe('pass');
    expect(byId(rs, 'db.password-drift')?.detail).toContain(
      '(password from Secret sso-postgres (POSTGRES_SSO_PASSWORD not set))',
    );
    expect(
      runner.recorded.find((r) => r.argv.includes('exec') && r.argv.includes('login-check'))?.stdin,
    ).toBe(SSO_PW);
  });

  it('skip when no cluster answers, and fail when one was asked for', async () => {
    const refused = (args: string[]) =>
      args.join(' ').startsWith('get --raw')
        ? { exitCode: 1, stderr: 'The connection to the server localhost:8080 was refused' }
        : undefined;
    const rs = await run(cluster(refused));
    // The context is judged from the kubeconfig alone: an unreachable cluster is still local or not.
    expect(rs.map((r) => r.status)).toEqual(['pass', 'pass', 'skip', 'pass', 'skip', 'skip', 'skip']);
    expect(byId(rs, 'cluster.reachable')?.hint).toBe(
      'start your cluster (minikube: minikube start), or pick another with --context NAME',
    );
    const asked = await run(cluster(refused), '', { requireCluster: true, context: 'prod' });
    expect(asked.map((r) => r.status)).toEqual(['pass', 'pass', 'fail', 'pass', 'skip', 'skip', 'skip']);
  });

  it('fail tools.kubectl when kubectl is missing and skip the rest', async () => {
    const rs = await run(cluster(), '', { env: { ...TOOLS, KUBECTL: '/nonexistent/kubectl' } });
    expect(byId(rs, 'tools.kubectl')).toMatchObject({
      status: 'fail',
      detail: 'kubectl not found: KUBECTL=/nonexistent/kubectl is not an executable',
    });
    expect(rs.slice(2).map((r) => r.status)).toEqual(['skip', 'skip', 'skip', 'skip', 'skip']);
  });
});

describe('cluster.images', () => {
  const images = async (
    nodes: unknown[],
    opts: { env?: string; context?: [string, string]; values?: Reply; src?: string } = {},
  ) => {
    const runner = cluster((args) => {
      const line = args.join(' ');
      if (line.startsWith('get nodes')) return json({ items: nodes });
      if (line.startsWith('get values') && opts.values) return opts.values;
      return opts.context ? kubeconfigReply(args, ...opts.context) : undefined;
    });
    const rs = await run(runner, opts.env ?? '', {
      chart: CHART_PATH,
      ...(opts.src !== undefined && { src: opts.src }),
      targetArgs: ['-n', 'tf'],
    });
    return { result: byId(rs, 'cluster.images'), runner };
  };
  const ALL = TASKFLOW_IMAGES.map((i) => i.replace('docker.io/', ''))
    .join(', ')
    .replace(/, (?=[^,]*$)/, ' and ');

  it('fails on a local cluster whose nodes hold none of the images, naming them and the command that builds them', async () => {
    const { result } = await images([node('minikube', ['docker.io/library/postgres:16-alpine'])]);
    expect(result).toEqual({
      id: 'cluster.images',
      title: 'TaskFlow images',
      status: 'fail',
      detail: `${ALL} are on no node of kube context "minikube" and name no registry, so no pod can pull them: the TaskFlow images are not published, they are built from the TaskFlow source`,
      hint: 'deploy refuses (exit 2); build them into the cluster from your TaskFlow checkout: npm run deploy -- -n tf --build --src <path> (or set TASKFLOW_SRC in the env file)',
    });
  });

  it('names only the images no node has; a node listing them under docker.io/ and digests counts', async () => {
    const { result } = await images([
      node('a', TASKFLOW_IMAGES.slice(0, 2)),
      node('b', TASKFLOW_IMAGES.slice(2, 4)),
    ]);
    expect(result?.status).toBe('fail');
    expect(result?.detail).toMatch(
      /^taskflow\/web-dashboard:0\.1\.0 is on no node of kube context "minikube" and names no registry/,
    );
  });

  it('warns instead when the TaskFlow source is known: deploy builds them first', async () => {
    const { result } = await images([node('minikube', [])], { src: '/src/taskflow' });
    expect(result).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining(`${ALL} are on no node`),
      hint: 'npm run deploy -- -n tf builds them from /src/taskflow first (as --build), with minikube or docker',
    });
  });

  it('judges the tag the release runs: TASKFLOW_IMAGE_TAG, the images an earlier --build kept, a registry', async () => {
    const tagged = TASKFLOW_IMAGES.map((i) => i.replace(':0.1.0', ':1.4.0'));
    expect((await images([node('m', tagged)], { env: 'TASKFLOW_IMAGE_TAG=1.4.0\n' })).result?.status).toBe(
      'pass',
    );
    // A release built by --build keeps its content tags on a plain redeploy: those are judged.
    const built = { api: { image: { repository: 'taskflow/api', tag: 'abcdef012345' } } };
    const kept = TASKFLOW_IMAGES.map((i) =>
      i.includes('/api:') ? 'docker.io/taskflow/api:abcdef012345' : i,
    );
    const r = await images([node('m', kept)], { values: json(built) });
    expect(r.result).toMatchObject({ status: 'pass' });
    expect(r.runner.lines().some((l) => l.startsWith('get values taskflow'))).toBe(true);
    // ... and with TASKFLOW_IMAGE_TAG they are not kept, as deploy does.
    const over = await images([node('m', kept)], { values: json(built), env: 'TASKFLOW_IMAGE_TAG=0.1.0\n' });
    expect(over.result?.detail).toMatch(/^taskflow\/api:0\.1\.0 is on no node/);
  });

  it.each([
    [
      'no node reports an image list',
      [node('minikube', undefined)],
      {},
      'cannot tell: a node reports no image list (status.images)',
    ],
    [
      "a node lists 50 images, kubelet's limit",
      [
        node(
          'minikube',
          Array.from({ length: 50 }, (_, i) => `docker.io/x/img${i}:1`),
        ),
      ],
      {},
      expect.stringContaining("a node lists 50 images, kubelet's limit, and may hold more"),
    ],
    [
      'the context is not local',
      [node('aks-1', [])],
      { context: ['prod-aks', 'https://prod.example.com:443'] as [string, string] },
      'not judged: prod-aks is not a local cluster (minikube, kind, k3d, ...) (its nodes pull from registries)',
    ],
  ])('skips (never fails) when %s', async (_why, nodes, o: { context?: [string, string] }, detail) => {
    const { result, runner } = await images(nodes, o);
    expect(result).toMatchObject({ status: 'skip', detail });
    if (o.context) expect(runner.lines().some((l) => l.startsWith('get nodes'))).toBe(false);
  });

  it('passes when every image names a registry (pulled from it, not judged); a disabled app is left out', async () => {
    const t = tempEnv();
    cleanups.push(t.cleanup);
    const f = path.join(t.dir, 'registry.yaml');
    writeFileSync(
      f,
      [
        'sso: { image: { repository: ghcr.io/me/sso }, migrations: { image: { repository: ghcr.io/me/sso-mig } } }',
        'api: { image: { repository: localhost:5000/api } }',
        'mcp: { enabled: false }',
        'web: { image: { repository: registry.local/web } }',
        '',
      ].join('\n'),
    );
    const runner = cluster();
    const rs = await run(runner, '', { chart: CHART_PATH, valuesFiles: [f] });
    expect(byId(rs, 'cluster.images')).toMatchObject({
      status: 'pass',
      detail:
        'every TaskFlow image names a registry: ghcr.io/me/sso:0.1.0, ghcr.io/me/sso-mig:0.1.0, localhost:5000/api:0.1.0 and registry.local/web:0.1.0',
    });
  });
});

describe('missingKubeconfig', () => {
  it('is certain only when every kubeconfig file kubectl would read is missing', () => {
    const t = tempEnv();
    cleanups.push(t.cleanup);
    const present = path.join(t.dir, 'config');
    writeFileSync(present, 'apiVersion: v1\n');
    const gone = path.join(t.dir, 'gone');
    expect(missingKubeconfig({ KUBECONFIG: gone })).toBe(
      `no kubeconfig: KUBECONFIG names ${gone}, which does not exist`,
    );
    expect(missingKubeconfig({ KUBECONFIG: `${gone}:${present}` })).toBeUndefined();
    expect(missingKubeconfig({ HOME: t.dir })).toBe(
      `no kubeconfig: ${path.join(t.dir, '.kube', 'config')} does not exist and KUBECONFIG is not set`,
    );
    expect(missingKubeconfig({ KUBECONFIG: gone, KUBERNETES_SERVICE_HOST: '10.0.0.1' })).toBeUndefined();
    expect(missingKubeconfig({})).toBeUndefined(); // no HOME: kubectl decides
  });

  it('skips the cluster checks without starting kubectl for the probe', async () => {
    const runner = cluster();
    const rs = await run(runner, '', { env: { ...TOOLS, KUBECONFIG: '/nonexistent/kubeconfig' } });
    expect(byId(rs, 'cluster.reachable')).toMatchObject({
      status: 'skip',
      detail: expect.stringContaining('no kubeconfig: KUBECONFIG names /nonexistent/kubeconfig'),
    });
    expect(runner.lines().some((l) => l.startsWith('get --raw'))).toBe(false);
    // Asked for a cluster (--context): the same reason fails instead.
    const asked = await run(cluster(), '', {
      env: { ...TOOLS, KUBECONFIG: '/nonexistent/kubeconfig' },
      requireCluster: true,
      context: 'prod',
    });
    expect(byId(asked, 'cluster.reachable')?.status).toBe('fail');
  });
});
