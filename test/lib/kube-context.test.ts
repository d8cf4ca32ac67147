import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { ExitCode, NotReadyError, UsageError } from '../../lib/errors.ts';
import { Runner } from '../../lib/exec.ts';
import {
  type Place,
  allowance,
  assertMayWrite,
  classify,
  commandLine,
  isLocalHost,
  placeLine,
  resolvePlace,
} from '../../lib/kube-context.ts';
import { Kubectl } from '../../lib/kubectl.ts';
import { toolset } from '../support/tools.ts';

describe('classify', () => {
  it.each([
    ['minikube', 'minikube', 'https://192.168.49.2:8443', 'minikube'],
    ['kind-dev', 'kind-dev', 'https://127.0.0.1:40123', 'kind'],
    ['k3d-mycluster', 'k3d-mycluster', 'https://127.0.0.1:6550', 'k3d'],
    ['docker-desktop', 'docker-desktop', 'https://kubernetes.docker.internal:6443', 'Docker Desktop'],
    ['rancher-desktop', 'rancher-desktop', 'https://127.0.0.1:6443', 'Rancher Desktop'],
    ['orbstack', 'orbstack', 'https://k8s.orb.local:26443', 'OrbStack'],
    ['kube-sim', 'kube-sim', 'http://127.0.0.1:39999', 'the simulated cluster'],
    ['colima', 'colima', 'https://127.0.0.1:6443', 'Colima'],
    // The context is renamed, the cluster entry still says which tool wrote it.
    ['dev', 'kind-dev', 'https://[::1]:6443', 'kind'],
  ])('%s (cluster %s, %s) is local: %s', (context, cluster, server, product) => {
    expect(classify(context, cluster, server)).toEqual({ local: true, reason: product });
  });

  it('knows a minikube profile of any name by the provider minikube writes', () => {
    expect(classify('dev', 'dev', 'https://192.168.58.2:8443', ['minikube.sigs.k8s.io'])).toEqual({
      local: true,
      reason: 'minikube',
    });
  });

  it.each([
    ['prod-aks', 'prod-aks', 'https://prod-aks-dns-1234.hcp.westeurope.azmk8s.io:443'],
    [
      'arn:aws:eks:eu-west-1:1234:cluster/prod',
      'arn:aws:eks:eu-west-1:1234:cluster/prod',
      'https://ABC.gr7.eu-west-1.eks.amazonaws.com',
    ],
    ['gke_proj_europe-west1_prod', 'gke_proj_europe-west1_prod', 'https://34.78.1.2'],
    // a tunnel to a remote API server on localhost is still remote: the name decides first
    ['prod-aks', 'prod-aks', 'https://127.0.0.1:6443'],
  ])('%s is not local', (context, cluster, server) => {
    expect(classify(context, cluster, server).local).toBe(false);
  });

  it('a local-looking name on a server elsewhere is remote, and says why', () => {
    const c = classify('minikube', 'minikube', 'https://k8s.example.com:6443');
    expect(c.local).toBe(false);
    expect(c.reason).toContain('k8s.example.com is not on this machine');
    expect(classify('kind-x', 'kind-x', undefined).local).toBe(false);
  });

  it('isLocalHost: loopback, private networks, local DNS names; nothing public', () => {
    for (const h of ['localhost', '127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.49.2', '[::1]', 'fd00::1'])
      expect(isLocalHost(h)).toBe(true);
    for (const h of ['172.32.0.1', '8.8.8.8', 'example.com', 'internal.example.com', '2001:db8::1'])
      expect(isLocalHost(h)).toBe(false);
  });
});

describe('commandLine', () => {
  it('writes npm run NAME -- ARGS with the arguments quoted for a shell', () => {
    expect(commandLine('deploy', [], ['--context', 'prod-aks'])).toBe('npm run deploy -- --context prod-aks');
    expect(commandLine('deploy', [])).toBe('npm run deploy');
    expect(commandLine('migrate', ['sso', '--env-file', 'my env'], ['--context', "it's"])).toBe(
      `npm run migrate -- sso --env-file 'my env' --context 'it'\\''s'`,
    );
  });
});

const remote: Place = {
  context: 'prod-aks',
  namespace: 'taskflow',
  server: 'https://prod.example.com',
  local: false,
  reason: 'not a local cluster (minikube, kind, k3d, ...)',
  fromFlag: false,
};
const local: Place = { ...remote, context: 'minikube', local: true, reason: 'minikube' };

function io(opts: { yes?: boolean; tty?: boolean; answer?: string } = {}) {
  const stdin = Object.assign(new PassThrough(), { isTTY: opts.tty ?? false });
  if (opts.answer !== undefined) stdin.end(`${opts.answer}\n`);
  const prompt = new PassThrough();
  let asked = '';
  prompt.on('data', (d: Buffer) => (asked += d.toString()));
  return { io: { yes: opts.yes ?? false, stdin, prompt }, asked: () => asked };
}

const command = { name: 'deploy', argv: ['--fresh', '--yes', '--context', 'x'] };

async function refusal(p: Promise<void>): Promise<UsageError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UsageError);
  return err as UsageError;
}

describe('allowance and assertMayWrite', () => {
  it('a local context proceeds with nothing named, even for a destructive step', async () => {
    expect(allowance(local, undefined)).toBe('local');
    await assertMayWrite(local, { io: io().io }, { what: 'deleting everything' });
  });

  it('refuses a remote context nobody named, naming it, its server and both ways to allow it (exit 2)', async () => {
    expect(allowance(remote, undefined)).toBe('not-named');
    const err = await refusal(assertMayWrite(remote, { io: io().io, command }));
    expect(err.exitCode).toBe(ExitCode.Usage);
    expect(err.message).toContain('"prod-aks" (server https://prod.example.com)');
    expect(err.message).toContain('Nothing was changed');
    expect(err.hint).toContain('npm run deploy -- --fresh --yes --context prod-aks');
    expect(err.hint).toContain('TASKFLOW_CONTEXT=prod-aks');
    expect(err.report).toEqual({ context: 'prod-aks', namespace: 'taskflow' });
  });

  it('says when TASKFLOW_CONTEXT names another context', async () => {
    expect(allowance(remote, 'staging')).toBe('not-named');
    const err = await refusal(assertMayWrite(remote, { allowed: 'staging', io: io().io }));
    expect(err.message).toContain('TASKFLOW_CONTEXT names "staging"');
    expect(err.hint).toContain('the same command with --context prod-aks');
  });

  it('proceeds on a remote context named by --context or TASKFLOW_CONTEXT', async () => {
    expect(allowance({ ...remote, fromFlag: true }, undefined)).toBe('named');
    expect(allowance(remote, 'prod-aks')).toBe('named');
    await assertMayWrite({ ...remote, fromFlag: true }, { io: io().io });
    await assertMayWrite(remote, { allowed: 'prod-aks', io: io().io });
  });

  it('without a terminal, a destructive step there needs both --yes and --context', async () => {
    const what = { what: '--fresh deletes namespace taskflow' };
    // TASKFLOW_CONTEXT + --yes is not enough
    let err = await refusal(
      assertMayWrite(remote, { allowed: 'prod-aks', io: io({ yes: true }).io, command }, what),
    );
    expect(err.message).toContain('needs both --yes and --context prod-aks');
    expect(err.hint).toBe('npm run deploy -- --fresh --yes --context prod-aks');
    // --context without --yes is not enough either
    err = await refusal(assertMayWrite({ ...remote, fromFlag: true }, { io: io().io }, what));
    expect(err.hint).toContain('--context prod-aks --yes');
    await assertMayWrite({ ...remote, fromFlag: true }, { io: io({ yes: true }).io }, what);
  });

  it('on a terminal, a destructive step there goes on only when the context name is typed back', async () => {
    const what = { what: '--rotate changes the sso database password' };
    const yes = io({ tty: true, answer: 'prod-aks' });
    await assertMayWrite(remote, { allowed: 'prod-aks', io: yes.io }, what);
    expect(yes.asked()).toContain('Type the context name to go on:');
    expect(yes.asked()).toContain('not a local cluster');
    // --yes alone does not answer it (the name was never typed anywhere)
    const wrong = io({ tty: true, yes: true, answer: 'prod' });
    const err = await refusal(assertMayWrite(remote, { allowed: 'prod-aks', io: wrong.io }, what));
    expect(err.message).toBe('not confirmed: nothing was changed');
  });

  it('an unreadable kubeconfig is reported as such, never as allowed', async () => {
    const error = new NotReadyError('no kube context is selected');
    await expect(assertMayWrite({ ...remote, context: null, error }, { io: io().io })).rejects.toBe(error);
  });
});

describe('resolvePlace (real kubectl, kubeconfig only)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tf-kctx-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const kubeconfig = path.join(dir, 'config');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: dev',
      '  cluster:',
      '    server: https://192.168.58.2:8443',
      '    extensions:',
      '    - name: cluster_info',
      '      extension: {provider: minikube.sigs.k8s.io, version: v1.34.0}',
      '- name: aks',
      '  cluster: {server: "https://prod-aks.hcp.westeurope.azmk8s.io:443"}',
      'users:',
      '- name: u',
      '  user: {token: do-not-print-me}',
      'contexts:',
      '- name: dev',
      '  context: {cluster: dev, user: u}',
      '- name: prod-aks',
      '  context: {cluster: aks, user: u}',
      'current-context: prod-aks',
      '',
    ].join('\n'),
  );
  const cacheHome = path.join(dir, 'cache');
  const runner = new Runner({ env: { ...process.env, KUBECONFIG: kubeconfig, XDG_CACHE_HOME: cacheHome } });
  const kubectl = (context?: string) =>
    new Kubectl(runner, toolset('v35').kubectl, { namespace: 'taskflow', ...(context && { context }) });
  const configViews = () => runner.calls.filter((c) => c.argv.includes('config')).length;

  it('reads the current context, its server, and judges it', async () => {
    const p = await resolvePlace(kubectl());
    expect(p).toMatchObject({
      context: 'prod-aks',
      cluster: 'aks',
      server: 'https://prod-aks.hcp.westeurope.azmk8s.io:443',
      local: false,
      fromFlag: false,
    });
    expect(placeLine(p)).toBe(
      'context prod-aks (remote, https://prod-aks.hcp.westeurope.azmk8s.io:443), namespace taskflow',
    );
    expect(JSON.stringify(p)).not.toContain('do-not-print-me');
  });

  it('reads the context --context names (a minikube profile, by its provider)', async () => {
    const p = await resolvePlace(kubectl('dev'));
    expect(p).toMatchObject({ context: 'dev', local: true, reason: 'minikube', fromFlag: true });
    expect(placeLine(p)).toBe('context dev (local, minikube, https://192.168.58.2:8443), namespace taskflow');
  });

  it('a context that does not exist, or no kubeconfig at all: an error to report (exit 3), not a place', async () => {
    const missing = await resolvePlace(kubectl('nope'));
    expect(missing.error?.message).toBe('kube context "nope" does not exist');
    expect(missing.error?.exitCode).toBe(ExitCode.NotReady);
    const none = await resolvePlace(
      new Kubectl(
        new Runner({ env: { ...process.env, KUBECONFIG: path.join(dir, 'absent') } }),
        toolset('v35').kubectl,
        { namespace: 'taskflow' },
      ),
    );
    expect(none).toMatchObject({ context: null, local: false });
    expect(none.error?.message).toContain('no kube context is selected');
  });

  it('remembers what it read for the same kubeconfig file and --context, and reads an edited one again', async () => {
    const first = await resolvePlace(kubectl());
    const views = configViews();
    expect(await resolvePlace(kubectl())).toEqual(first);
    expect(configViews()).toBe(views);
    // the cache holds the context's names, server and providers: no credentials, mode 0600
    const file = path.join(cacheHome, 'taskflow', 'kube-contexts.json');
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('prod-aks.hcp.westeurope.azmk8s.io');
    expect(text).not.toContain('do-not-print-me');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // another --context is another entry
    expect(await resolvePlace(kubectl('dev'))).toMatchObject({ context: 'dev', local: true });
    // kubectl config use-context rewrites the file: read again
    const use = await runner.run([toolset('v35').kubectl, 'config', 'use-context', 'dev']);
    expect(use.exitCode, use.stderr).toBe(0);
    const before = configViews();
    expect(await resolvePlace(kubectl())).toMatchObject({ context: 'dev', local: true, fromFlag: false });
    expect(configViews()).toBe(before + 1);
  });
});
