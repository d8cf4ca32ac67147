// An API stand-in for the simulated cluster (the program of image taskflow/api, run with tsx). The real
// API is FastAPI 0.124 with python-jose 3.5 (packages/api/uv.lock at 2749a2b), which npm cannot give;
// this follows what packages/api/src/taskflow_api does with what the chart gives it, on jose (the
// JavaScript counterpart of python-jose) and postgres.js:
// - SSO_URL is required (config.py:22): without it the process exits at start, as pydantic's settings do;
// - the JWKS comes from <SSO_URL>/api/auth/jwks, cached for an hour; a failed fetch with nothing cached
//   answers 503 "Authentication service unavailable: ..." (auth.py:31-66);
// - a bearer token's kid must be in that JWKS, else 401 "Token signing key not found in JWKS"; RS256
//   only, the audience not checked, exp checked; a bad one answers 401 "Invalid JWT: ..." (auth.py:69-132);
// - DEV_MODE=true makes every caller a fixed admin, without a token (auth.py:167);
// - GET /health answers 200 always; GET /health/ready runs SELECT 1 on DATABASE_URL and answers 200 either
//   way, "unhealthy" when the database is down (routers/health.py:12-25);
// - GET /api/members/search (routers/members.py:25) with its query validated after the user is resolved,
//   as FastAPI solves dependencies before it validates query parameters: limit must be 1..50, else 422.
//   The handler itself (ensure_user_setup, which writes a worker and a project) is not modelled: it
//   answers 501.
// Not modelled: every other route, the chat store, CORS, the database schema.
import http from 'node:http';
import { type JWK, decodeProtectedHeader, importJWK, jwtVerify } from 'jose';
import postgres from 'postgres';

const env = process.env;
if (!env.SSO_URL) {
  console.error(
    'pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings\nsso_url\n  Field required',
  );
  process.exit(1);
}
const ssoUrl = env.SSO_URL.replace(/\/$/, '');
const devMode = env.DEV_MODE === 'true';
const db = env.DATABASE_URL ? postgres(env.DATABASE_URL, { max: 2, connect_timeout: 5 }) : undefined;

interface Jwks {
  keys: (JWK & { kid?: string })[];
}
let jwks: { doc: Jwks; at: number } | undefined;

/** The SSO's keys, fetched once an hour; an expired copy serves when the SSO cannot be reached. */
async function getJwks(): Promise<Jwks> {
  if (jwks && Date.now() - jwks.at < 3_600_000) return jwks.doc;
  const url = `${ssoUrl}/api/auth/jwks`;
  console.log(`INFO [AUTH] Fetching JWKS from ${url}`);
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`Client error '${res.status}' for url '${url}'`);
    jwks = { doc: (await res.json()) as Jwks, at: Date.now() };
    console.log(`INFO [AUTH] JWKS fetched successfully: ${jwks.doc.keys.length} keys`);
    return jwks.doc;
  } catch (e) {
    const why = e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e);
    console.error(`ERROR [AUTH] JWKS fetch failed: ${why}`);
    if (jwks) return jwks.doc;
    throw new HttpError(503, `Authentication service unavailable: ${why}`);
  }
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly detail: unknown,
  ) {
    super(typeof detail === 'string' ? detail : JSON.stringify(detail));
  }
}

/** get_current_user: the bearer token verified against the SSO's keys. */
async function currentUser(req: http.IncomingMessage): Promise<{ sub?: string; email?: string }> {
  if (devMode) return { sub: 'dev-user', email: 'dev@localhost' };
  const auth = req.headers.authorization ?? '';
  if (!auth.startsWith('Bearer ')) throw new HttpError(401, 'Not authenticated');
  const token = auth.slice(7);
  const doc = await getJwks();
  let kid: string | undefined;
  try {
    kid = decodeProtectedHeader(token).kid;
  } catch (e) {
    throw new HttpError(401, `Invalid JWT: ${(e as Error).message}`);
  }
  const key = doc.keys.find((k) => k.kid === kid);
  if (!key) {
    console.error(
      `ERROR [AUTH] Key not found - token kid: ${kid}, available kids: ${doc.keys.map((k) => k.kid).join(', ')}`,
    );
    throw new HttpError(401, 'Token signing key not found in JWKS');
  }
  try {
    const { payload } = await jwtVerify(token, await importJWK(key, 'RS256'), { algorithms: ['RS256'] });
    console.log(`INFO [AUTH] JWT verified - sub: ${payload.sub}`);
    return payload as { sub?: string; email?: string };
  } catch (e) {
    console.error(`ERROR [AUTH] JWT verification failed: ${(e as Error).message}`);
    throw new HttpError(401, `Invalid JWT: ${(e as Error).message}`);
  }
}

async function route(req: http.IncomingMessage): Promise<[number, unknown]> {
  const url = new URL(req.url ?? '/', 'http://api');
  if (req.method === 'GET' && url.pathname === '/health')
    return [200, { status: 'healthy', version: '1.0.0' }];
  if (req.method === 'GET' && url.pathname === '/health/ready') {
    try {
      if (!db) throw new Error('DATABASE_URL is not set');
      await db`SELECT 1`;
      return [200, { status: 'ready', database: 'connected' }];
    } catch (e) {
      return [200, { status: 'unhealthy', database: (e as Error).message }];
    }
  }
  if (req.method === 'GET' && url.pathname === '/api/members/search') {
    await currentUser(req);
    const limit = url.searchParams.get('limit') ?? '10';
    const n = Number(limit);
    if (!/^-?\d+$/.test(limit))
      throw new HttpError(422, [
        {
          type: 'int_parsing',
          loc: ['query', 'limit'],
          msg: 'Input should be a valid integer, unable to parse string as an integer',
          input: limit,
        },
      ]);
    if (n < 1 || n > 50)
      throw new HttpError(422, [
        n < 1
          ? {
              type: 'greater_than_equal',
              loc: ['query', 'limit'],
              msg: 'Input should be greater than or equal to 1',
              input: limit,
              ctx: { ge: 1 },
            }
          : {
              type: 'less_than_equal',
              loc: ['query', 'limit'],
              msg: 'Input should be less than or equal to 50',
              input: limit,
              ctx: { le: 50 },
            },
      ]);
    return [501, { detail: 'the API stand-in does not model ensure_user_setup or the search itself' }];
  }
  return [404, { detail: 'Not Found' }];
}

const server = http.createServer((req, res) => {
  void route(req).then(
    ([status, doc]) => send(res, status, doc),
    (e: unknown) =>
      e instanceof HttpError
        ? send(res, e.status, { detail: e.detail }, e.status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {})
        : send(res, 500, { detail: 'Internal Server Error' }),
  );
});

function send(
  res: http.ServerResponse,
  status: number,
  doc: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(JSON.stringify(doc));
}

process.on('SIGTERM', () =>
  server.close(() => void (db?.end() ?? Promise.resolve()).then(() => process.exit(0))),
);

const port = Number(env.PORT ?? 8000);
const host = env.KUBE_SIM_POD_IP ?? '127.0.0.1';
server.listen(port, host, () =>
  console.log(`INFO:     Uvicorn running on http://${host}:${port} (stand-in)`),
);
