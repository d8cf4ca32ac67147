import { createHash, createPublicKey, type JsonWebKey, randomBytes, verify } from 'node:crypto';
import { type CheckOutcome, fail, pass, warn } from './checks.ts';
import { APP } from './components.ts';
import { jsonOf, originOf } from './journey-http.ts';
import { npmRun } from './suggest.ts';

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

export interface SignInInput {
  /** the SSO's base URL (a forward) */
  sso: string;
  /** the signed-in browser's cookies for the SSO */
  cookies: Record<string, string>;
  /** the dashboard's URL (NEXT_PUBLIC_APP_URL) and the SSO's (BETTER_AUTH_URL) */
  webUrl: string;
  authUrl: string;
  signal: AbortSignal;
  /** the failure a 500 means when the SSO could not open its signing key, else undefined */
  secretMismatch(status: number): Promise<CheckOutcome | undefined>;
}

export interface SignInResult {
  outcome: CheckOutcome;
  /** the code the SSO issued (a verification row until it is exchanged) */
  code?: string;
  idToken?: string;
}

const ssoLogs = (): string => `see its logs: ${npmRun('logs', 'sso')}`;

/** The dashboard's sign-in: authorize with PKCE for its public client, the code, the token, the id_token. */
export async function dashboardSignIn(i: SignInInput): Promise<SignInResult> {
  const { webUrl, authUrl } = i;
  const p = pkce();
  const state = randomBytes(8).toString('hex');
  const redirect = DASHBOARD_CLIENT.redirectUri(webUrl);
  const res = await fetch(authorizeUrl(i.sso, webUrl, p, state), {
    headers: i.cookies,
    redirect: 'manual',
    signal: i.signal,
  });
  // A browser's navigation gets a 302; a fetch gets {"redirect": true, "url": ...} from Better Auth.
  const doc = (await jsonOf<{ url?: string; code?: string; message?: string }>(res)) ?? {};
  const location = res.headers.get('location') ?? doc.url;
  if (res.status >= 400 || !location) {
    if (doc.code === 'INVALID_REDIRECT_URI')
      return {
        outcome: fail(
          `the SSO refused the dashboard's callback ${redirect} for client ${DASHBOARD_CLIENT.clientId} (${doc.message ?? doc.code})`,
          `the SSO accepts only the redirect URIs of its source's trusted clients list for this client: ${npmRun('validate')} names them (check auth.redirect); set the web URL to one of them, or add ${redirect} to that list and rebuild the SSO`,
        ),
      };
    const said = doc.message ? `: ${doc.message}` : '';
    return { outcome: fail(`/api/auth/oauth2/authorize answered ${res.status}${said}`, ssoLogs()) };
  }
  const back = new URL(location, i.sso);
  const code = back.searchParams.get('code') ?? undefined;
  if (!location.startsWith(`${redirect}?`) || !code || back.searchParams.get('state') !== state) {
    const error = back.searchParams.get('error_description') ?? back.searchParams.get('error');
    return {
      outcome: fail(
        `authorize sent the browser to ${back.origin}${back.pathname}${error ? ` (${error})` : ''}, not back to ${redirect} with a code`,
        ssoLogs(),
      ),
      ...(code && { code }),
    };
  }
  const tokenRes = await fetch(`${i.sso}/api/auth/oauth2/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: tokenRequest(code, webUrl, p),
    signal: i.signal,
  });
  const tokens =
    (await jsonOf<{ id_token?: string; error?: string; error_description?: string }>(tokenRes)) ?? {};
  if (!tokenRes.ok || !tokens.id_token) {
    const why = tokens.error
      ? `: ${tokens.error}${tokens.error_description ? ` (${tokens.error_description})` : ''}`
      : ' without an id_token';
    return {
      outcome:
        (await i.secretMismatch(tokenRes.status)) ??
        fail(`the token exchange answered ${tokenRes.status}${why}`, ssoLogs()),
      code,
    };
  }
  const jwks = await fetch(`${i.sso}/api/auth/jwks`, { signal: i.signal });
  const keys = jwks.ok ? ((await jsonOf<Parameters<typeof verifyIdToken>[1]>(jwks)) ?? {}) : {};
  const verdict = verifyIdToken(tokens.id_token, keys, {
    issuer: originOf(authUrl),
    audience: DASHBOARD_CLIENT.clientId,
  });
  if (!verdict.ok)
    return {
      outcome: fail(`the SSO issued an id_token, but ${verdict.reason} (JWKS answered ${jwks.status})`),
      code,
    };
  return {
    outcome: pass(
      `code for ${redirect}, token exchanged; the id_token verifies with the SSO's key ${verdict.kid}`,
    ),
    code,
    idToken: tokens.id_token,
  };
}

/**
 * The API with the dashboard's token, on GET /api/members/search?limit=0: FastAPI resolves the signed-in
 * user (the JWKS, the signature) before it validates the query, so a 422 proves the token was accepted,
 * and the handler, whose first act writes a worker and a project for a new user, never runs (app contract).
 */
export async function apiAccepts(i: {
  /** the API's base URL (a forward) */
  base: string;
  idToken: string;
  /** the dashboard's origin */
  origin: string;
  apiSsoUrl: string;
  apiDevMode: boolean;
  signal: AbortSignal;
}): Promise<CheckOutcome> {
  const { apiSsoUrl } = i;
  const res = await fetch(`${i.base}/api/members/search?limit=0`, {
    headers: { Authorization: `Bearer ${i.idToken}`, Origin: i.origin },
    signal: i.signal,
  });
  const detail = (await jsonOf<{ detail?: unknown }>(res))?.detail;
  const said = typeof detail === 'string' ? detail : JSON.stringify(detail ?? '');
  if (res.status === 422)
    return i.apiDevMode
      ? warn(
          'the API answered, but DEV_MODE is on: it takes every caller for a fixed admin and checked no token',
          'turn api.devMode off outside development, then deploy',
        )
      : pass(`the API verified the id_token with the SSO's keys from ${apiSsoUrl} (nothing written)`);
  const ssoHost = URL.canParse(apiSsoUrl) ? new URL(apiSsoUrl).hostname.split('.')[0] : apiSsoUrl;
  const where = ssoHost === APP.sso.name ? '' : `, not the SSO's Service ${APP.sso.name}:${APP.sso.port}`;
  const logs = `see what it logged: ${npmRun('logs', 'api')}`;
  if (res.status === 503 && said.startsWith('Authentication service unavailable'))
    return fail(`the API cannot fetch the JWKS from its SSO_URL ${apiSsoUrl}${where}: ${said}`, logs);
  if (res.status === 401)
    return fail(
      `the API refused a token the SSO's own JWKS verifies (${said}): it reads its keys from SSO_URL ${apiSsoUrl}${where}`,
      where
        ? `the chart sets SSO_URL to the SSO's Service: deploy again to put it back (${npmRun('env-flow', 'SSO_URL')} shows where it goes)`
        : logs,
    );
  return fail(`GET /api/members/search answered ${res.status}: ${said.slice(0, 200)}`, logs);
}
