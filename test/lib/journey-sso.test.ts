// What the SSO's refusals mean, on refusals made by the SSO's own library: better-auth 1.4.4 with the
// haveIBeenPwned plugin the SSO turns on (sso-platform/src/lib/auth.ts:684 at 2749a2b) and its trusted
// origins, answering a sign-up through its HTTP handler. The plugin's call to api.pwnedpasswords.com
// is refused here as a cluster without outbound https refuses it.
import { betterAuth } from 'better-auth';
import { memoryAdapter } from 'better-auth/adapters/memory';
import { haveIBeenPwned } from 'better-auth/plugins';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanupSql, ssoRefusal } from '../../lib/journey-sso.ts';

const WEB = 'http://localhost:3000';

function sso(trustedOrigins: string[]) {
  return betterAuth({
    baseURL: 'http://localhost:3001',
    secret: 'a'.repeat(64),
    database: memoryAdapter({ user: [], session: [], account: [], verification: [] }),
    emailAndPassword: { enabled: true },
    trustedOrigins,
    plugins: [haveIBeenPwned()],
    logger: { disabled: true },
  });
}

/** A sign-up from the dashboard, as the journey sends it; the SSO's status and message. */
async function signUp(auth: ReturnType<typeof sso>): Promise<{ status: number; message?: string }> {
  const res = await auth.handler(
    new Request('http://localhost:3001/api/auth/sign-up/email', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: WEB },
      body: JSON.stringify({
        email: 'taskflow-verify-0@verify.invalid',
        password: 'a-long-password-1',
        name: 'v',
        callbackURL: WEB,
      }),
    }),
  );
  const doc = (await res.json().catch(() => ({}))) as { message?: string };
  return { status: res.status, ...(doc.message && { message: doc.message }) };
}

afterEach(() => vi.unstubAllGlobals());

describe('ssoRefusal, on better-auth 1.4.4’s own answers', () => {
  it('no outbound https: the HaveIBeenPwned check’s 500 names api.pwnedpasswords.com', async () => {
    const real = globalThis.fetch;
    vi.stubGlobal('fetch', (input: string | URL | Request, init?: RequestInit) =>
      String(input instanceof Request ? input.url : input).startsWith('https://api.pwnedpasswords.com/')
        ? Promise.reject(new TypeError('fetch failed', { cause: new Error('getaddrinfo EAI_AGAIN') }))
        : real(input, init),
    );
    const answer = await signUp(sso([WEB]));
    expect(answer).toEqual({ status: 500, message: 'Failed to check password. Please try again later.' });
    const o = ssoRefusal({ ...answer, what: 'sign-up', web: WEB, allowedOrigins: [WEB] });
    expect(o.status).toBe('fail');
    expect(o.detail).toContain('its HaveIBeenPwned check calls https://api.pwnedpasswords.com');
    expect(o.hint).toContain('outbound https to api.pwnedpasswords.com:443');
  });

  it('the web origin missing from the trusted origins: names ALLOWED_ORIGINS and the origin it lacks', async () => {
    const answer = await signUp(sso(['http://localhost:3001']));
    expect(answer.status).toBe(403);
    const o = ssoRefusal({ ...answer, what: 'sign-up', web: WEB, allowedOrigins: ['http://localhost:3001'] });
    expect(o.detail).toBe(
      `the SSO refused the sign-up from ${WEB} (${answer.message}): ALLOWED_ORIGINS is http://localhost:3001, without ${WEB}`,
    );
    expect(o.hint).toBe(`add ${WEB} to ALLOWED_ORIGINS in the env file, then npm run deploy`);
  });

  it('anything else: the status and message, and the SSO’s logs', () => {
    const o = ssoRefusal({
      status: 422,
      message: 'User already exists',
      what: 'sign-up',
      web: WEB,
      allowedOrigins: [WEB],
    });
    expect(o.detail).toBe('the SSO answered 422 to the sign-up: User already exists');
    expect(o.hint).toBe('see its logs: npm run logs -- sso');
  });
});

describe('cleanupSql', () => {
  it('removes by address and by the returned ids, the OAuth codes too, in one transaction; quotes every value', () => {
    const sql = cleanupSql("o'brien@verify.invalid", ['u1'], ['c0de']);
    const lines = sql.trim().split('\n');
    expect(lines[0]).toBe('BEGIN;');
    expect(lines.at(-1)).toBe('COMMIT;');
    expect(sql).toContain(`WHERE email = 'o''brien@verify.invalid' OR id = 'u1'`);
    expect(sql).toContain(
      `DELETE FROM verification WHERE identifier IN ('o''brien@verify.invalid', 'c0de');`,
    );
    expect(sql).toContain('DELETE FROM oauth_access_token WHERE user_id IN (SELECT id FROM verify_users);');
  });
});
