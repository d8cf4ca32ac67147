import { describe, expect, it } from 'vitest';
import { DATABASES } from '../../lib/components.ts';
import { checkPasswordDrift } from '../../lib/drift.ts';
import { Kubectl } from '../../lib/kubectl.ts';
import { Secret } from '../../lib/secrets.ts';
import { judgeStorageClasses, storageClassStatus } from '../../lib/storage.ts';
import { FakeRunner, json, type Reply } from '../support/fake-runner.ts';

const target = { namespace: 'tf' };
const sc = (name: string, isDefault = false) => ({
  kind: 'StorageClass',
  metadata: {
    name,
    ...(isDefault && { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }),
  },
});

describe('storage classes', () => {
  it.each([
    [[sc('standard', true)], undefined, true, /default storage class "standard"/],
    [[sc('standard', true)], '', true, /default storage class "standard"/],
    [[sc('standard')], undefined, false, /no default storage class.*available: standard/],
    [[sc('standard'), sc('fast')], 'fast', true, /"fast" exists/],
    [
      [sc('standard', true)],
      'gp2',
      false,
      /"gp2" \(TASKFLOW_STORAGE_CLASS\) does not exist.*available: standard/,
    ],
    [[], undefined, false, /available: none/],
  ])('%j wanted %s -> ok %s', (items, wanted, ok, detail) => {
    const r = judgeStorageClasses(items, wanted);
    expect(r.ok).toBe(ok);
    expect(r.detail).toMatch(detail);
    if (!ok) expect(r.hint).toBeTruthy();
  });

  it('lists the classes cluster-wide in one call', async () => {
    const runner = new FakeRunner(() => json({ items: [sc('b'), sc('a', true)] }));
    const r = await storageClassStatus(new Kubectl(runner, 'kubectl', target));
    expect(r).toMatchObject({ ok: true, classes: ['a', 'b'], defaultClass: 'a' });
    expect(runner.recorded.map((c) => c.argv)).toEqual([
      ['kubectl', 'get', 'storageclasses', '-o', 'json', '--request-timeout=15s'],
    ]);
  });

  it('forbidden is "not checked", not a failure', async () => {
    const runner = new FakeRunner(() => ({
      exitCode: 1,
      stderr: 'Error from server (Forbidden): storageclasses is forbidden',
    }));
    const r = await storageClassStatus(new Kubectl(runner, 'kubectl', target));
    expect(r.ok).toBe(true);
    expect(r.detail).toMatch(/not checked/);
  });
});

const PASSWORD = 'new-password-0123456789abcdef';
const b64 = (s: string) => Buffer.from(s).toString('base64');
const runningPod = {
  kind: 'Pod',
  metadata: { name: 'sso-postgres-0' },
  status: { phase: 'Running', containerStatuses: [{ name: 'postgres', state: { running: {} } }] },
};

function cluster(opts: {
  pvc?: boolean;
  pod?: unknown;
  secret?: string;
  login?: 'ok' | 'rejected' | 'down';
}) {
  return new FakeRunner((args, stdin): Reply => {
    const [verb, kind] = args;
    if (verb === 'get' && kind === 'pvc')
      return opts.pvc
        ? json({ kind: 'PersistentVolumeClaim', metadata: { name: 'data-sso-postgres-0' } })
        : {};
    if (verb === 'get' && kind === 'pod') return opts.pod ? json(opts.pod) : {};
    if (verb === 'get' && kind === 'secret')
      return opts.secret === undefined ? {} : json({ data: { password: b64(opts.secret) } });
    if (verb === 'exec') {
      if (opts.login === 'ok' && stdin === PASSWORD) return { stdout: '1\n' };
      if (opts.login === 'down') return { exitCode: 2, stderr: 'psql: error: connection refused' };
      return {
        exitCode: 2,
        stderr: 'psql: error: FATAL:  password authentication failed for user "sso_user"',
      };
    }
    throw new Error(`unexpected ${args.join(' ')}`);
  });
}

describe('checkPasswordDrift', () => {
  const check = (runner: FakeRunner) =>
    checkPasswordDrift(new Kubectl(runner, 'kubectl', target), DATABASES.sso, new Secret(PASSWORD));

  it('no PVC: no data, nothing else read', async () => {
    const runner = cluster({});
    expect((await check(runner)).status).toBe('no-data');
    expect(runner.recorded).toHaveLength(1);
  });

  it('pod running: logs in over TCP with the password on stdin only', async () => {
    const runner = cluster({ pvc: true, pod: runningPod, login: 'ok' });
    expect((await check(runner)).status).toBe('match');
    const exec = runner.recorded.find((c) => c.argv.includes('exec') && c.argv.includes('login-check'));
    expect(exec?.stdin).toBe(PASSWORD);
    for (const c of runner.recorded) expect(c.argv.join(' ')).not.toContain(PASSWORD);
  });

  it('pod running, the database alone diverged from its Secret: sync', async () => {
    const r = await check(cluster({ pvc: true, pod: runningPod, login: 'rejected', secret: PASSWORD }));
    expect(r.status).toBe('mismatch');
    expect(r.hint).toBe(
      'make the database take the password of Secret sso-postgres (the one being deployed): npm run reset-db-password -- sso',
    );
  });

  it('pod running, the env file brings a new password: keep the old one or rotate', async () => {
    const r = await check(
      cluster({ pvc: true, pod: runningPod, login: 'rejected', secret: 'old-password-0123456789' }),
    );
    expect(r.status).toBe('mismatch');
    expect(r.hint).toContain('remove POSTGRES_SSO_PASSWORD from the env file');
    expect(r.hint).toContain('npm run reset-db-password -- sso --rotate');
  });

  it.each([
    [PASSWORD, 'match'],
    ['old-password-0123456789', 'mismatch'],
    [undefined, 'unknown'],
  ])('pod not running: compares with the Secret (%s) -> %s', async (secret, status) => {
    const r = await check(cluster({ pvc: true, ...(secret !== undefined && { secret }) }));
    expect(r.status).toBe(status);
    expect(r.detail).not.toContain(PASSWORD);
  });

  it('login unreachable falls back to the Secret', async () => {
    const r = await check(
      cluster({ pvc: true, pod: runningPod, login: 'down', secret: 'other-password-123456' }),
    );
    expect(r.status).toBe('mismatch');
    expect(r.detail).toMatch(/connection refused/);
  });
});
