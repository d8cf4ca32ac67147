// `npm run verify` against the chart's release in the simulated cluster, the SSO a real Better Auth
// program and Mailpit its stand-in (test/standins): the journey passes on a healthy release and leaves
// nothing behind; a broken mail path and an origin ALLOWED_ORIGINS lacks fail at their step, named,
// and the throwaway account still goes.
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
/** Changes the SSO's ConfigMap by hand (as a helm upgrade outside the suite would) and restarts it. */
const setSso = async (data: Record<string, string>) => {
  const p = await r.kubectl([
    'patch',
    'configmap',
    'sso-platform',
    '--type',
    'merge',
    '-p',
    JSON.stringify({ data }),
  ]);
  expect(p.code, p.stderr).toBe(0);
  expect((await r.kubectl(['rollout', 'restart', 'deployment/sso-platform'])).code).toBe(0);
  const s = await r.kubectl(['rollout', 'status', 'deployment/sso-platform', '--timeout=90s']);
  expect(s.code, s.stderr).toBe(0);
};
const nothingLeft = async () => {
  expect(await psql(`select count(*) from "user" where email like 'taskflow-verify-%'`)).toBe('0');
  expect(await psql('select count(*) from session')).toBe('0');
};

beforeAll(async () => {
  r = await journeyRelease('tf-verify');
  expect(r.deployed.code, r.deployed.stderr).toBe(0);
}, 300_000);
afterAll(async () => r?.stop());

describe('npm run verify', () => {
  it('a healthy release: every step passes, and the account and its mail are gone afterwards', async () => {
    const { code, doc, stderr } = await verify();
    expect(code, stderr).toBe(0);
    expect(doc.checks.map((c) => [c.id, c.status])).toEqual([
      ['journey.sso', 'pass'],
      ['journey.signup', 'pass'],
      ['journey.mail', 'pass'],
      ['journey.signin', 'pass'],
      ['journey.apps', 'pass'],
      ['journey.cleanup', 'pass'],
    ]);
    expect(doc.checks.find((c) => c.id === 'journey.mail')?.detail).toBe(
      'reached Mailpit; the link points at http://localhost:3001',
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
  });
});
