import { createHash, createPublicKey, type JsonWebKey, randomBytes, verify } from 'node:crypto';

/**
 * The dashboard's OAuth sign-in, as web-dashboard/src/lib/auth.ts (2749a2b) starts it and
 * src/app/api/auth/callback/route.ts finishes it: an authorization code with PKCE (S256) for the public
 * client, exchanged at /api/auth/oauth2/token; the API is then called with the id_token (the access
 * token Better Auth's OIDC provider gives is opaque).
 */
export const DASHBOARD_CLIENT = {
  clientId: 'taskflow-sso-public-client',
  scope: 'openid profile email',
  /** the callback under the dashboard's URL (NEXT_PUBLIC_OAUTH_REDIRECT_URI, built from web.url) */
  redirectUri: (webUrl: string): string => `${webUrl.replace(/\/$/, '')}/api/auth/callback`,
} as const;

export interface Pkce {
  verifier: string;
  challenge: string;
}

/** A code verifier and its S256 challenge, from a cryptographic RNG (hex, as the dashboard makes it). */
export function pkce(): Pkce {
  const verifier = randomBytes(64).toString('hex');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** The authorize URL the dashboard sends the browser to, under the SSO's base URL. */
export function authorizeUrl(sso: string, webUrl: string, p: Pkce, state: string): string {
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: DASHBOARD_CLIENT.clientId,
    redirect_uri: DASHBOARD_CLIENT.redirectUri(webUrl),
    scope: DASHBOARD_CLIENT.scope,
    code_challenge: p.challenge,
    code_challenge_method: 'S256',
    state,
  });
  return `${sso}/api/auth/oauth2/authorize?${q.toString()}`;
}

/** The token request the dashboard's callback makes. */
export function tokenRequest(code: string, webUrl: string, p: Pkce): URLSearchParams {
  return new URLSearchParams({
    grant_type: 'authorization_code',
    client_id: DASHBOARD_CLIENT.clientId,
    code,
    redirect_uri: DASHBOARD_CLIENT.redirectUri(webUrl),
    code_verifier: p.verifier,
  });
}

export interface IdTokenClaims {
  sub?: string;
  aud?: string | string[];
  iss?: string;
  exp?: number;
  email?: string;
}

export type IdTokenVerdict =
  { ok: true; kid: string; claims: IdTokenClaims } | { ok: false; kid?: string; reason: string };

const part = (s: string | undefined): unknown =>
  JSON.parse(Buffer.from(s ?? '', 'base64url').toString('utf8'));

/**
 * Verifies an RS256 id_token against a JWKS document as the API does (the key by kid, the signature, exp)
 * and the claims the dashboard relies on: aud is its client, iss the SSO's BETTER_AUTH_URL origin.
 */
export function verifyIdToken(
  token: string,
  jwks: { keys?: (JsonWebKey & { kid?: string })[] },
  expect: { issuer: string; audience: string; nowSec?: number },
): IdTokenVerdict {
  const [h, p, sig] = token.split('.');
  let header: { alg?: string; kid?: string };
  let claims: IdTokenClaims;
  try {
    header = part(h) as typeof header;
    claims = part(p) as IdTokenClaims;
  } catch {
    return { ok: false, reason: 'the id_token is not a JWT' };
  }
  const kid = header.kid;
  const no = (reason: string): IdTokenVerdict => ({ ok: false, ...(kid && { kid }), reason });
  if (header.alg !== 'RS256')
    return no(`the id_token is signed with ${header.alg ?? 'no algorithm'}, not RS256`);
  const jwk = (jwks.keys ?? []).find((k) => k.kid === kid);
  if (!jwk || !kid) return no(`the SSO's JWKS has no key ${kid ?? '(none named)'}`);
  const good = verify(
    'sha256',
    Buffer.from(`${h}.${p}`),
    createPublicKey({ key: jwk, format: 'jwk' }),
    Buffer.from(sig ?? '', 'base64url'),
  );
  if (!good) return no(`the id_token's signature does not verify with key ${kid}`);
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.includes(expect.audience))
    return no(`the id_token is for ${aud.join(', ')}, not ${expect.audience}`);
  if (claims.iss !== expect.issuer) return no(`the id_token's issuer is ${claims.iss}, not ${expect.issuer}`);
  const now = expect.nowSec ?? Math.floor(Date.now() / 1000);
  if (typeof claims.exp === 'number' && claims.exp <= now) return no('the id_token has expired');
  return { ok: true, kid, claims };
}
