import { describe, expect, it } from 'vitest';
import { NotReadyError, OperationError } from '../../lib/errors.ts';
import {
  Helm,
  envKeysIn,
  helmUpgradeArgs,
  latestArgs,
  translateHelmError,
  valuesStdin,
} from '../../lib/helm.ts';
import type { Runner } from '../../lib/exec.ts';
import { kubectlArgs, translateKubectlError } from '../../lib/kubectl.ts';
import { Secret } from '../../lib/secrets.ts';

const target = { namespace: 'taskflow', release: 'taskflow', context: 'minikube' };

describe('kubectlArgs', () => {
  it('applies --context and --namespace uniformly', () => {
    expect(kubectlArgs('kubectl', target, ['get', 'pods'])).toEqual([
      'kubectl',
      '--context',
      'minikube',
      '--namespace',
      'taskflow',
      'get',
      'pods',
    ]);
    expect(kubectlArgs('kubectl', { namespace: 'x' }, ['get', 'sc'], false)).toEqual([
      'kubectl',
      'get',
      'sc',
    ]);
  });
});

describe('helmUpgradeArgs', () => {
  it.each([
    [
      4,
      { chart: 'charts/taskflow', createNamespace: true, rollbackOnFailure: true, wait: true, timeout: '5m' },
      [
        'helm',
        'upgrade',
        'taskflow',
        'charts/taskflow',
        '--install',
        '--namespace',
        'taskflow',
        '--kube-context',
        'minikube',
        '-f',
        '-',
        '--create-namespace',
        '--wait=watcher',
        '--timeout',
        '5m',
        '--rollback-on-failure',
      ],
    ],
    [
      3,
      { chart: 'c', rollbackOnFailure: true, wait: true, valuesFiles: ['a.yaml'] },
      [
        'helm',
        'upgrade',
        'taskflow',
        'c',
        '--install',
        '--namespace',
        'taskflow',
        '--kube-context',
        'minikube',
        '-f',
        '-',
        '-f',
        'a.yaml',
        '--wait',
        '--atomic',
      ],
    ],
    [
      3,
      { chart: 'c', reuseValues: true, dryRun: 'server' as const },
      [
        'helm',
        'upgrade',
        'taskflow',
        'c',
        '--install',
        '--namespace',
        'taskflow',
        '--kube-context',
        'minikube',
        '-f',
        '-',
        '--reuse-values',
        '--dry-run=server',
      ],
    ],
    [
      4,
      { chart: 'c', reuseValues: true },
      [
        'helm',
        'upgrade',
        'taskflow',
        'c',
        '--install',
        '--namespace',
        'taskflow',
        '--kube-context',
        'minikube',
        '-f',
        '-',
        '--reset-then-reuse-values',
      ],
    ],
  ])('helm %i: %j', (major, opts, argv) => {
    expect(helmUpgradeArgs('helm', major, target, opts)).toEqual(argv);
  });

  it('never puts a value in argv: generated values come on stdin', () => {
    const argv = helmUpgradeArgs('helm', 4, target, { chart: 'c' });
    expect(argv.some((a) => a.startsWith('--set'))).toBe(false);
    expect(argv).toContain('-');
  });
});

describe('valuesStdin', () => {
  it('reveals Secret leaves only inside the Secret that goes to stdin', () => {
    const stdin = valuesStdin({ sso: { database: { password: new Secret('abc123def456') } } });
    expect(stdin).toBeInstanceOf(Secret);
    expect(String(stdin)).not.toContain('abc123def456');
    expect(stdin.reveal()).toBe('sso:\n  database:\n    password: abc123def456\n');
  });
});

describe('translateKubectlError', () => {
  it.each([
    [
      'error: context "kind-x" does not exist',
      NotReadyError,
      /does not exist/,
      /kubectl config get-contexts/,
    ],
    [
      'Unable to connect to the server: dial tcp 127.0.0.1:8443: connect: connection refused',
      NotReadyError,
      /cannot reach the cluster/,
      /minikube start/,
    ],
    [
      'The connection to the server localhost:8080 was refused - did you specify the right host or port?',
      NotReadyError,
      /cannot reach/,
      /minikube start/,
    ],
    ['error: You must be logged in to the server (Unauthorized)', NotReadyError, /credentials/, /login/],
    [
      'Error from server (Forbidden): pods is forbidden: User "x" cannot list resource "pods"',
      OperationError,
      /not allowed to list pods/,
      /RBAC/,
    ],
    [
      'Error from server (NotFound): pods "x" not found',
      OperationError,
      /kubectl failed to list pods: Error from server \(NotFound\)/,
      undefined,
    ],
  ])('%s', (stderr, cls, msg, hint) => {
    const e = translateKubectlError(stderr, target, 'list pods');
    expect(e).toBeInstanceOf(cls);
    expect(e.message).toMatch(msg);
    if (hint) expect(e.hint).toMatch(hint);
  });
});

describe('translateHelmError', () => {
  it.each([
    [
      'Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress',
      /locked by another helm operation/,
      // not known whether a command of the suite holds the release: no rollback advised (release-lock.test.ts)
      /^wait for it to finish, then run this command again \(npm run doctor -- -n taskflow/,
    ],
    [
      'Error: UPGRADE FAILED: "taskflow" has no deployed releases',
      /no successful revision/,
      /npm run doctor/,
    ],
    ['Error: release: not found', /is not deployed in namespace "taskflow"/, /npm run deploy/],
    [
      'Error: execution error at (taskflow/templates/validate.yaml:3:4): \nVALUES:\n- sso.auth.url must be absolute',
      /the chart rejected its values/,
      /npm run validate/,
    ],
  ])('%s', (stderr, msg, hint) => {
    const e = translateHelmError(stderr, target, 'upgrade');
    expect(e.message).toMatch(msg);
    expect(e.hint).toMatch(hint);
  });

  it('cluster unreachable is exit 3', () => {
    const e = translateHelmError(
      'Error: Kubernetes cluster unreachable: Get "https://x/version": dial tcp: connection refused',
      target,
      'upgrade',
    );
    expect(e).toBeInstanceOf(NotReadyError);
  });
});

describe('a schema error names the env keys behind the values', () => {
  const helm4 = `Error: values don't meet the specifications of the schema(s) in the following chart(s):
taskflow:
- at '/sso/smtp/port': maximum: got 70,000, want 65,535
- at '/global/storageClass': 'allOf' failed
  - at '/global/storageClass': 'Bad_Class' does not match pattern '^$|^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$'`;
  const helm3 = `Error: values don't meet the specifications of the schema(s) in the following chart(s):
taskflow:
- global.storageClass: Does not match pattern '^$|^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$'
- sso.smtp.port: Must be less than or equal to 65535`;

  it.each([
    ['helm 4', helm4],
    ['helm 3', helm3],
  ])('%s', (_, text) => {
    expect(envKeysIn(text).sort()).toEqual(['SMTP_PORT', 'TASKFLOW_STORAGE_CLASS']);
    const err = translateHelmError(text, target, 'upgrade');
    expect(err.message).toContain('(set from the env file by SMTP_PORT, TASKFLOW_STORAGE_CLASS)');
    expect(err.hint).toBe(
      'fix SMTP_PORT, TASKFLOW_STORAGE_CLASS in the env file (npm run validate lists every problem)',
    );
  });

  it('an object path names the keys that set a value inside it; a value no key sets names none', () => {
    expect(envKeysIn("- at '/api/database': missing property 'password'")).toEqual(['POSTGRES_API_PASSWORD']);
    expect(envKeysIn("- at '/api/replicaCount': got string, want integer")).toEqual([]);
    expect(
      translateHelmError(
        "Error: values don't meet the specifications of the schema(s)\n- at '/api/replicaCount': x",
        target,
        'upgrade',
      ).hint,
    ).toBe('fix the values named above (npm run validate lists every problem)');
  });
});

describe('Helm.latest (the release read deploy starts from)', () => {
  const answering = (exitCode: number, stdout: string, stderr = '') =>
    new Helm(
      {
        run: async (argv: string[]) => ({ argv, exitCode, stdout, stderr, durationMs: 1 }),
      } as unknown as Runner,
      'helm',
      4,
      { release: 'taskflow', namespace: 'tf' },
    );

  it('reads the revision and status of the first line and the manifest after it', async () => {
    const manifest = '---\n# Source: taskflow/templates/web/deployment.yaml\nkind: Deployment\n';
    expect(await answering(0, `7 deployed\n${manifest}`).latest()).toEqual({
      revision: 7,
      status: 'deployed',
      manifest,
    });
    expect(await answering(0, '3 pending-upgrade\n').latest()).toMatchObject({
      revision: 3,
      status: 'pending-upgrade',
    });
  });

  it('a release that is not installed is undefined; anything else unreadable is an error', async () => {
    expect(await answering(1, '', 'Error: release: not found\n').latest()).toBeUndefined();
    await expect(answering(0, 'something else\n').latest()).rejects.toThrow(/read the release/);
    await expect(answering(1, '', 'Error: Kubernetes cluster unreachable\n').latest()).rejects.toThrow(
      NotReadyError,
    );
  });

  it('asks for the two fields and the manifest with a template, nothing secret', () => {
    expect(latestArgs({ release: 'taskflow', namespace: 'tf' })).toEqual([
      'get',
      'all',
      'taskflow',
      '--namespace',
      'tf',
      '--template',
      '{{printf "%d %s\\n" .Release.Version .Release.Info.Status}}{{.Release.Manifest}}',
    ]);
  });
});
