// The dashboard's OAuth pieces of the journey: PKCE as RFC 7636 defines S256, the authorize and token
// requests as web-dashboard/src/lib/auth.ts and its callback route send them, and the id_token check
// against a JWKS, on RS256 tokens signed here with node:crypto.
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DASHBOARD_CLIENT,
  authorizeUrl,
  pkce,
  tokenRequest,
  verifyIdToken,
} from '../../lib/journey-oauth.ts';

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const pair = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
const key = pair();
const jwks = { keys: [{ ...key.publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256' }] };
const now = 1_800_000_000;
const claims = { sub: 'u1', aud: 'taskflow-sso-public-client', iss: 'http://localhost:3001', exp: now + 60 };

function jwt(
  payload: object,
  header: object = { alg: 'RS256', kid: 'k1' },
  privateKey = key.privateKey,
): string {
  const data = `${b64(header)}.${b64(payload)}`;
  return `${data}.${sign('sha256', Buffer.from(data), privateKey).toString('base64url')}`;
}
const check = (token: string) =>
  verifyIdToken(token, jwks, {
    issuer: 'http://localhost:3001',
    audience: DASHBOARD_CLIENT.clientId,
    nowSec: now,
  });

describe('PKCE and the dashboard requests', () => {
  it('makes an S256 challenge of a fresh hex verifier', () => {
    const a = pkce();
    const b = pkce();
    expect(a.verifier).toMatch(/^[0-9a-f]{128}$/);
    expect(a.verifier).not.toBe(b.verifier);
    expect(a.challenge).toBe(createHash('sha256').update(a.verifier).digest('base64url'));
  });

  it('asks for a code for the public client with its callback under the web URL', () => {
    const p = pkce();
    const url = new URL(authorizeUrl('http://127.0.0.1:5000', 'http://localhost:3000/', p, 'st'));
    expect(url.pathname).toBe('/api/auth/oauth2/authorize');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: 'taskflow-sso-public-client',
      redirect_uri: 'http://localhost:3000/api/auth/callback',
      scope: 'openid profile email',
      code_challenge: p.challenge,
      code_challenge_method: 'S256',
      state: 'st',
    });
    expect(Object.fromEntries(tokenRequest('c0de', 'http://localhost:3000', p))).toEqual({
      grant_type: 'authorization_code',
      client_id: 'taskflow-sso-public-client',
      code: 'c0de',
      redirect_uri: 'http://localhost:3000/api/auth/callback',
      code_verifier: p.verifier,
    });
  });
});

describe('verifyIdToken', () => {
  it('accepts a token signed by the JWKS key it names, for the client, from the issuer', () => {
    expect(check(jwt(claims))).toEqual({ ok: true, kid: 'k1', claims });
  });

  it.each([
    [
      'another key, same kid',
      jwt(claims, undefined, pair().privateKey),
      'signature does not verify with key k1',
    ],
    ['a kid the JWKS lacks', jwt(claims, { alg: 'RS256', kid: 'k2' }), "the SSO's JWKS has no key k2"],
    ['HS256', jwt(claims, { alg: 'HS256', kid: 'k1' }), 'signed with HS256, not RS256'],
    ['another client', jwt({ ...claims, aud: 'robolearn-public-client' }), 'is for robolearn-public-client'],
    [
      'another issuer',
      jwt({ ...claims, iss: 'http://sso-platform:3001' }),
      'issuer is http://sso-platform:3001, not http://localhost:3001',
    ],
    ['expired', jwt({ ...claims, exp: now }), 'has expired'],
    ['garbage', 'a.b.c', 'not a JWT'],
  ])('refuses %s, saying why', (_name, token, reason) => {
    const v = check(token);
    expect(v.ok).toBe(false);
    expect(v.ok ? '' : v.reason).toContain(reason);
  });
});
