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
    if (line.startsWith('get pvc')) return { stdout: '' };
    if (line.startsWith('get secret')) return { stdout: '' };
    return notFound(line);
  });
}

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
    expect(rs.map((r) => r.status)).toEqual(['pass', 'pass', 'skip', 'pass', 'skip', 'skip']);
    expect(byId(rs, 'cluster.reachable')?.hint).toBe(
      'start your cluster (minikube: minikube start), or pick another with --context NAME',
    );
    const asked = await run(cluster(refused), '', { requireCluster: true, context: 'prod' });
    expect(asked.map((r) => r.status)).toEqual(['pass', 'pass', 'fail', 'pass', 'skip', 'skip']);
  });

  it('fail tools.kubectl when kubectl is missing and skip the rest', async () => {
    const rs = await run(cluster(), '', { env: { ...TOOLS, KUBECTL: '/nonexistent/kubectl' } });
    expect(byId(rs, 'tools.kubectl')).toMatchObject({
      status: 'fail',
      detail: 'kubectl not found: KUBECTL=/nonexistent/kubectl is not an executable',
    });
    expect(rs.slice(2).map((r) => r.status)).toEqual(['skip', 'skip', 'skip', 'skip']);
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
