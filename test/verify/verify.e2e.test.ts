// `npm run verify` against the chart's release in the simulated cluster, the SSO a real Better Auth
// program, the API and Mailpit their stand-ins (test/standins): the journey passes on a healthy release
// and leaves nothing behind; each broken setting fails at its step, named (mail that never arrives, an
// origin ALLOWED_ORIGINS lacks, a BETTER_AUTH_SECRET changed under the kept database, the API's SSO_URL
// pointing elsewhere, the SSO not Ready), Mailpit off skips the mail, and the throwaway account still goes.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { journeyRelease } from '../standins/programs.ts';
import type { SimRelease } from '../migrate/sim-release.ts';
import { runScript } from '../support/e2e.ts';

interface Report {
  ok: boolean;
  namespace: string;
  checks: { id: string; status: string; detail: string; hint?: string }[];
}

let r: SimRelease;
const psql = (sql: string): Promise<string> => r.psql(sql);
const verify = async (args: string[] = []) => {
  const res = await r.run('verify', ['--json', ...args], { timeoutMs: 120_000 });
  return { ...res, doc: JSON.parse(res.stdout) as Report };
};
/** Restarts a Deployment and waits for it. */
const restart = async (deployment: string) => {
  expect((await r.kubectl(['rollout', 'restart', `deployment/${deployment}`])).code).toBe(0);
  const s = await r.kubectl(['rollout', 'status', `deployment/${deployment}`, '--timeout=90s']);
  expect(s.code, s.stderr).toBe(0);
};
/** Changes an app's ConfigMap or Secret by hand (as a helm upgrade outside the suite would), restarts it. */
const patch = async (kind: 'configmap' | 'secret', name: string, data: Record<string, string>) => {
  const body = kind === 'secret' ? { stringData: data } : { data };
  const p = await r.kubectl(['patch', kind, name, '--type', 'merge', '-p', JSON.stringify(body)]);
  expect(p.code, p.stderr).toBe(0);
  await restart(name);
};
const setSso = (data: Record<string, string>) => patch('configmap', 'sso-platform', data);
const nothingLeft = async () => {
  expect(await psql(`select count(*) from "user" where email like 'taskflow-verify-%'`)).toBe('0');
  expect(await psql('select count(*) from session')).toBe('0');
  expect(await psql('select count(*) from oauth_access_token')).toBe('0');
  expect(await psql('select count(*) from verification')).toBe('0');
};
const step = (doc: Report, id: string) => doc.checks.find((c) => c.id === id);

beforeAll(async () => {
  r = await journeyRelease('tf-verify');
  expect(r.deployed.code, r.deployed.stderr).toBe(0);
}, 300_000);
afterAll(async () => r?.stop());

describe('deploy walks the journey last on a local cluster', () => {
  it('the first deploy (Mailpit not on yet: verification off) walked every step, and reports them', () => {
    const doc = JSON.parse(r.deployed.stdout) as { ok: boolean; journey?: Report['checks'] };
    expect(doc.ok).toBe(true);
    expect(doc.journey?.map((c) => [c.id, c.status])).toEqual([
      ['journey.sso', 'pass'],
      ['journey.signup', 'pass'],
      ['journey.mail', 'skip'],
      ['journey.signin', 'pass'],
      ['journey.oauth', 'pass'],
      ['journey.api', 'pass'],
      ['journey.apps', 'pass'],
      ['journey.cleanup', 'pass'],
    ]);
    expect(r.deployed.stderr).toContain("walking a person's journey (npm run verify)");
  });

  it('--no-verify skips it, saying so', async () => {
    const res = await r.run('deploy-one-command', ['--no-verify', '--json'], { timeoutMs: 150_000 });
    expect(res.code, res.stderr).toBe(0);
    expect((JSON.parse(res.stdout) as { journey?: unknown }).journey).toBeUndefined();
    expect(res.stderr).toContain("a person's journey not walked (--no-verify or TASKFLOW_VERIFY=never)");
  });
});

describe('deploy on a remote context', () => {
  it('walks the journey only when asked with --verify, since it creates an account there', async () => {
    const kubeconfig = path.join(r.se.cwd, 'remote-kubeconfig');
    writeFileSync(
      kubeconfig,
      readFileSync(r.se.env.KUBECONFIG ?? '', 'utf8').replaceAll('kube-sim', 'shared-dev'),
    );
    const remote = { cwd: r.se.cwd, env: { ...r.se.env, KUBECONFIG: kubeconfig } };
    const deploy = (args: string[]) =>
      runScript('deploy-one-command', ['--json', '--context', 'shared-dev', ...args], remote, {
        timeoutMs: 150_000,
      });
    const plain = await deploy([]);
    expect(plain.code, plain.stderr).toBe(0);
    expect((JSON.parse(plain.stdout) as { journey?: unknown }).journey).toBeUndefined();
    expect(plain.stderr).toContain('a remote context gets no throwaway account unless asked: add --verify');
    const asked = await deploy(['--verify']);
    expect(asked.code, asked.stderr).toBe(0);
    const journey = (JSON.parse(asked.stdout) as { journey?: Report['checks'] }).journey ?? [];
    expect(journey.map((c) => c.id)).toContain('journey.api');
    expect(journey.filter((c) => c.status === 'fail')).toEqual([]);
    await nothingLeft();
  });
});

describe('npm run verify', () => {
  it('a healthy release: every step passes, and the account and its mail are gone afterwards', async () => {
    const { code, doc, stderr } = await verify();
    expect(code, stderr).toBe(0);
    expect(doc.checks.map((c) => [c.id, c.status])).toEqual([
      ['journey.sso', 'pass'],
      ['journey.signup', 'pass'],
      ['journey.mail', 'pass'],
      ['journey.signin', 'pass'],
      ['journey.oauth', 'pass'],
      ['journey.api', 'pass'],
      ['journey.apps', 'pass'],
      ['journey.cleanup', 'pass'],
    ]);
    expect(doc.checks.find((c) => c.id === 'journey.mail')?.detail).toBe(
      'reached Mailpit; the link points at http://localhost:3001',
    );
    expect(step(doc, 'journey.api')?.detail).toBe(
      "the API verified the id_token with the SSO's keys from http://sso-platform:3001 (nothing written)",
    );
    await nothingLeft();
    // Mailpit's inbox: the journey's mail was deleted (read through the API server's service proxy).
    const inbox = await r.kubectl([
      'get',
      '--raw',
      `/api/v1/namespaces/${r.ns}/services/mailpit:8025/proxy/api/v1/messages`,
    ]);
    expect((JSON.parse(inbox.stdout) as { total: number }).total).toBe(0);
  });

  it('doctor --journey: the journey’s steps join the checks, as evidence beside them', async () => {
    const res = await r.run('doctor', ['--journey', '--json'], { timeoutMs: 120_000 });
    expect(res.code, res.stderr).toBe(0);
    const doc = JSON.parse(res.stdout) as Report;
    const ids = doc.checks.map((c) => c.id);
    expect(ids).toContain('release.status');
    expect(ids.filter((id) => id.startsWith('journey.'))).toEqual([
      'journey.sso',
      'journey.signup',
      'journey.mail',
      'journey.signin',
      'journey.oauth',
      'journey.api',
      'journey.apps',
      'journey.cleanup',
    ]);
    expect(doc.checks.filter((c) => c.status === 'fail')).toEqual([]);
    await nothingLeft();
    // Without --journey it says how to walk it.
    const plain = await r.run('doctor', [], { timeoutMs: 120_000 });
    expect(plain.stdout + plain.stderr).toContain('npm run doctor -- --journey');
  });

  it('mail that never reaches Mailpit fails the mail step with the SMTP settings and the SSO’s log', async () => {
    await setSso({ SMTP_PORT: '2525' });
    const { code, doc } = await verify(['--mail-timeout', '3s']);
    expect(code).toBe(1);
    const mail = doc.checks.find((c) => c.id === 'journey.mail');
    expect(mail?.status).toBe('fail');
    expect(mail?.detail).toContain('reached Mailpit within 3 s (SMTP_HOST mailpit, SMTP_PORT 2525');
    expect(mail?.detail).toContain('[Auth] Failed to send email to:');
    expect(doc.checks.at(-1)).toMatchObject({ id: 'journey.cleanup', status: 'pass' });
    await nothingLeft();
    await setSso({ SMTP_PORT: '1025' });
  });

  it('Ctrl+C while it waits for the mail: exit 130, and the account it made is gone', async () => {
    await setSso({ SMTP_PORT: '2525' });
    let pid = 0;
    const run = runScript('verify', ['--mail-timeout', '5m'], r.se, {
      timeoutMs: 120_000,
      onStarted: (p) => (pid = p),
    });
    // The account exists: verify is past the sign-up, waiting for a mail that never comes.
    await expect
      .poll(() => psql(`select count(*) from "user" where email like 'taskflow-verify-%'`), {
        timeout: 60_000,
      })
      .toBe('1');
    process.kill(pid, 'SIGINT');
    const res = await run;
    expect(res.code, res.stderr).toBe(130);
    await nothingLeft();
    await setSso({ SMTP_PORT: '1025' });
  });

  it('an origin ALLOWED_ORIGINS lacks fails sign-up, naming the setting and the origin', async () => {
    const before = (
      await r.kubectl(['get', 'configmap', 'sso-platform', '-o', 'jsonpath={.data.ALLOWED_ORIGINS}'])
    ).stdout;
    await setSso({ ALLOWED_ORIGINS: 'http://localhost:3001' });
    const { code, doc } = await verify();
    expect(code).toBe(1);
    const signup = doc.checks.find((c) => c.id === 'journey.signup');
    expect(signup?.status).toBe('fail');
    expect(signup?.detail).toContain(
      'the SSO refused the sign-up from http://localhost:3000 (Invalid callbackURL): ALLOWED_ORIGINS is http://localhost:3001, without http://localhost:3000',
    );
    expect(signup?.hint).toContain('add http://localhost:3000 to ALLOWED_ORIGINS');
    expect(doc.checks.map((c) => c.id)).toEqual(['journey.sso', 'journey.signup', 'journey.cleanup']);
    await nothingLeft();
    await setSso({ ALLOWED_ORIGINS: before });
  });

  it('a BETTER_AUTH_SECRET changed under the kept database fails where the SSO signs, naming the secret', async () => {
    const old = (
      await r.kubectl(['get', 'secret', 'sso-platform', '-o', 'jsonpath={.data.BETTER_AUTH_SECRET}'])
    ).stdout;
    expect(old).not.toBe('');
    await patch('secret', 'sso-platform', { BETTER_AUTH_SECRET: randomBytes(32).toString('hex') });
    const { code, doc } = await verify();
    expect(code).toBe(1);
    // Better Auth's JWT plugin signs a token on get-session: sign-in is where the old keys are used first.
    const failed = step(doc, 'journey.signin');
    expect(failed?.status).toBe('fail');
    expect(failed?.detail).toContain('Failed to decrypt private key');
    expect(failed?.detail).toContain('another BETTER_AUTH_SECRET');
    expect(failed?.hint).toContain('npm run reset-auth-secret');
    expect(doc.checks.at(-1)).toMatchObject({ id: 'journey.cleanup', status: 'pass' });
    await nothingLeft();
    const back = await r.kubectl([
      'patch',
      'secret',
      'sso-platform',
      '--type',
      'merge',
      '-p',
      JSON.stringify({ data: { BETTER_AUTH_SECRET: old } }),
    ]);
    expect(back.code, back.stderr).toBe(0);
    await restart('sso-platform');
  });

  it('the API pointed at a wrong SSO URL fails the API step, naming SSO_URL and the SSO’s Service', async () => {
    await patch('configmap', 'taskflow-api', { SSO_URL: 'http://sso-gone:3001' });
    const { code, doc } = await verify();
    expect(code).toBe(1);
    const api = step(doc, 'journey.api');
    expect(api?.status).toBe('fail');
    expect(api?.detail).toContain(
      "the API cannot fetch the JWKS from its SSO_URL http://sso-gone:3001, not the SSO's Service sso-platform:3001",
    );
    expect(step(doc, 'journey.oauth')?.status).toBe('pass');
    await nothingLeft();
    // deploy finds nothing to change in the chart's inputs, and its journey catches the drift.
    const dep = await r.run('deploy-one-command', ['--json'], { timeoutMs: 150_000 });
    expect(dep.code, dep.stderr).toBe(1);
    const failures = (
      JSON.parse(dep.stdout) as { failures: { id: string; reason: string; detail: string }[] }
    ).failures;
    expect(failures.map((f) => [f.id, f.reason])).toEqual([['journey.api', 'JourneyFailed']]);
    expect(failures[0]?.detail).toContain('SSO_URL http://sso-gone:3001');
    expect(dep.stderr).toContain('the platform is up, but a person cannot use it');
    await nothingLeft();
    await patch('configmap', 'taskflow-api', { SSO_URL: 'http://sso-platform:3001' });
  });

  it('the SSO not Ready fails the first step at once, naming the Deployment, and creates nothing', async () => {
    expect((await r.kubectl(['scale', 'deployment/sso-platform', '--replicas=0'])).code).toBe(0);
    const { code, doc } = await verify();
    expect(code).toBe(1);
    expect(doc.checks.map((c) => [c.id, c.status])).toEqual([
      ['journey.sso', 'fail'],
      ['journey.cleanup', 'pass'],
    ]);
    expect(step(doc, 'journey.sso')?.detail).toContain('deployment/sso-platform has no Ready pod');
    expect((await r.kubectl(['scale', 'deployment/sso-platform', '--replicas=1'])).code).toBe(0);
    const s = await r.kubectl(['rollout', 'status', 'deployment/sso-platform', '--timeout=90s']);
    expect(s.code, s.stderr).toBe(0);
  });

  it('a real SMTP server: the inbox cannot be read, so the account is marked verified and the rest is walked', async () => {
    await setSso({ SMTP_HOST: 'smtp.example.invalid' });
    const { code, doc, stderr } = await verify();
    expect(code, stderr).toBe(0);
    expect(step(doc, 'journey.mail')).toMatchObject({
      status: 'skip',
      detail:
        'mail goes to smtp.example.invalid: its inbox cannot be read from here, so the account is marked verified in the SSO database, as its link would',
    });
    expect(doc.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(step(doc, 'journey.api')?.status).toBe('pass');
    await nothingLeft();
    await setSso({ SMTP_HOST: 'mailpit' });
  });

  // Last: it leaves the release without Mailpit.
  it('Mailpit off: the mail step is skipped with the reason, and the rest passes', async () => {
    const off = await r.run('addon', ['mailpit', '--remove', '--yes'], { timeoutMs: 150_000 });
    expect(off.code, off.stderr).toBe(0);
    const { code, doc, stderr } = await verify();
    expect(code, stderr).toBe(0);
    expect(step(doc, 'journey.mail')?.status).toBe('skip');
    expect(step(doc, 'journey.mail')?.detail).toBe(
      'email verification is off (DISABLE_EMAIL_VERIFICATION, no SMTP)',
    );
    expect(doc.checks.filter((c) => c.status === 'fail')).toEqual([]);
    await nothingLeft();
  });
});
