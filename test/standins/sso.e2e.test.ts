// The chart's SSO as a real Better Auth program (test/standins/sso.ts) and Mailpit as its stand-in, in
// the simulated cluster, deployed by `npm run deploy` and `npm run addon -- mailpit`: what the chart
// gives the SSO is what the library gets. A person's journey, by hand here (npm run verify walks it):
// sign-up from the web origin, the verification mail in Mailpit by Service name, the link, sign-in, the
// JWKS. And the failure the seed lost hours to: an origin missing from ALLOWED_ORIGINS.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { journeyRelease } from './programs.ts';
import type { SimRelease } from '../migrate/sim-release.ts';
import { startKubectl, waitFor } from '../kube-sim/test-helpers.ts';

let r: SimRelease;
const forwards: (() => Promise<unknown>)[] = [];
let sso = '';
let mailpit = '';

/** Forwards a Service port to a free local one; resolves to its base URL. */
async function forward(service: string, port: number): Promise<string> {
  const pf = startKubectl({ env: r.se.env }, ['port-forward', '-n', r.ns, `service/${service}`, `:${port}`]);
  forwards.push(() => pf.stop());
  const local = await waitFor(
    () => /127\.0\.0\.1:(\d+) ->/.exec(pf.out())?.[1],
    30_000,
    `a port-forward to ${service}`,
  );
  return `http://127.0.0.1:${local}`;
}

beforeAll(async () => {
  r = await journeyRelease('tf-journey');
  expect(r.deployed.code, r.deployed.stderr).toBe(0);
  sso = await forward('sso-platform', 3001);
  mailpit = await forward('mailpit', 8025);
}, 300_000);
afterAll(async () => {
  for (const stop of forwards) await stop();
  await r?.stop();
});

/** The SSO's last log lines, for a failing assertion's message. */
const ssoLogs = async (): Promise<string> =>
  (await r.kubectl(['logs', 'deployment/sso-platform', '--tail=30'])).stdout;

const signUp = (email: string, origin: string, headers: Record<string, string> = {}, callbackURL?: string) =>
  fetch(`${sso}/api/auth/sign-up/email`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Origin: origin, ...headers },
    body: JSON.stringify({
      email,
      password: 'a-long-enough-password-1',
      name: 'Journey Test',
      ...(callbackURL && { callbackURL }),
    }),
  });

describe('the SSO on Better Auth 1.4.4, as the chart configures it', () => {
  it('answers its health endpoint and the OpenID discovery document with the release’s BETTER_AUTH_URL', async () => {
    const health = await fetch(`${sso}/api/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'healthy', database: 'connected' });
    const discovery = await fetch(`${sso}/api/auth/.well-known/openid-configuration`);
    expect(discovery.status).toBe(200);
    expect(((await discovery.json()) as { issuer: string }).issuer).toBe('http://localhost:3001');
  });

  // better-auth 1.4.4 (api originCheckMiddleware) checks the Origin of a POST only when it carries a
  // cookie, as a browser that has been to the SSO sends; a callbackURL is checked always.
  it('refuses a sign-up from an origin ALLOWED_ORIGINS lacks, as a browser with a cookie sends it', async () => {
    const email = `nope-${Date.now()}@example.test`;
    const res = await signUp(email, 'http://localhost:4999', { Cookie: 'seen=1' });
    expect(res.status, await ssoLogs()).toBe(403);
    expect(((await res.json()) as { message?: string }).message).toBe('Invalid origin');
    const callback = await signUp(email, 'http://localhost:3000', {}, 'http://localhost:4999/dashboard');
    expect(callback.status).toBe(403);
    expect(((await callback.json()) as { message?: string }).message).toBe('Invalid callbackURL');
    expect(await ssoLogs()).toContain('Invalid origin: http://localhost:4999');
  });

  it('signs up from the web origin, mails the link through Mailpit, verifies, signs in, serves its JWKS', async () => {
    const email = `journey-${Date.now()}@example.test`;
    const res = await signUp(email, 'http://localhost:3000');
    expect(res.status, `${await res.clone().text()}\n${await ssoLogs()}`).toBe(200);
    type List = { messages: { ID: string; Subject: string }[] };
    const search = async (): Promise<List> =>
      (await (
        await fetch(`${mailpit}/api/v1/search?query=${encodeURIComponent(`to:${email}`)}`)
      ).json()) as List;
    await expect
      .poll(async () => (await search()).messages.length, { timeout: 30_000, interval: 100 })
      .toBe(1);
    const id = (await search()).messages[0]!.ID;
    const mail = (await (await fetch(`${mailpit}/api/v1/message/${id}`)).json()) as { HTML: string };
    const link = /href="([^"]+)"/.exec(mail.HTML)?.[1] ?? '';
    expect(link.startsWith('http://localhost:3001/api/auth/verify-email?token=')).toBe(true);
    // The link is the release's BETTER_AUTH_URL; here it goes through the port-forward.
    const verified = await fetch(link.replace('http://localhost:3001', sso), { redirect: 'manual' });
    expect([200, 302]).toContain(verified.status);
    const signIn = await fetch(`${sso}/api/auth/sign-in/email`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: 'http://localhost:3000' },
      body: JSON.stringify({ email, password: 'a-long-enough-password-1' }),
    });
    expect(signIn.status, await signIn.clone().text()).toBe(200);
    const cookie = signIn.headers.get('set-cookie') ?? '';
    expect(cookie).toContain('better-auth.session_token=');
    const session = await fetch(`${sso}/api/auth/get-session`, {
      headers: { cookie: cookie.split(';')[0]! },
    });
    expect(((await session.json()) as { user?: { email: string } }).user?.email).toBe(email);
    const jwks = (await (await fetch(`${sso}/api/auth/jwks`)).json()) as { keys: { alg: string }[] };
    expect(jwks.keys.map((k) => k.alg)).toContain('RS256');
  });
});
