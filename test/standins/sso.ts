// An SSO stand-in for the simulated cluster (the program of image taskflow/sso-platform, run with tsx):
// the real better-auth at the SSO's lockfile version (1.4.4), configured from the container's env the
// way sso-platform/src/lib/auth.ts (2749a2b) configures it, on the SSO's driver and table names:
// - DATABASE_URL through postgres.js and drizzle (src/lib/db/index.ts:38, the non-Neon branch);
// - BETTER_AUTH_SECRET and BETTER_AUTH_URL read by Better Auth itself (auth.ts passes neither);
// - trustedOrigins from ALLOWED_ORIGINS split on "," (auth.ts:514), else [] outside development;
// - email and password, 8 characters at least, verification required unless
//   DISABLE_EMAIL_VERIFICATION=true (auth.ts:202), sent on sign-up, auto sign-in after it, 1 hour;
// - mail through nodemailer only when SMTP_HOST, SMTP_USER and SMTP_PASS are all set, port SMTP_PORT
//   (default 587), secure when SMTP_SECURE=true, from EMAIL_FROM (else RESEND_FROM_EMAIL, SMTP_FROM),
//   fire-and-forget with the SSO's log lines (auth.ts:76-155);
// - the JWT plugin as auth.ts:548 (RS256, rotation, encrypted private keys) and the OIDC provider as
//   auth.ts:566 (JWT plugin, login page /auth/sign-in, trusted clients of src/lib/trusted-clients.ts,
//   no dynamic registration), /token disabled;
// - GET /api/health as src/app/api/health/route.ts: `SELECT 1`, 200 healthy or 503 unhealthy.
// What the real image does elsewhere, and this does here: its migrate init container pushes the schema
// and seeds the trusted clients into oauth_application; the stand-in pushes its own tables (drizzle-kit's
// API, sso-schema.ts) and inserts those clients when it starts. Not modelled: the admin, organization,
// username, API-key and HaveIBeenPwned plugins, social providers, the pages (only the API).
import http from 'node:http';
import { createRequire } from 'node:module';
import { betterAuth } from 'better-auth';
import { drizzleAdapter } from 'better-auth/adapters/drizzle';
import { toNodeHandler } from 'better-auth/node';
import { jwt } from 'better-auth/plugins';
import { oidcProvider } from 'better-auth/plugins/oidc-provider';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import type * as DrizzleKitApi from 'drizzle-kit/api';
import nodemailer from 'nodemailer';
import postgres from 'postgres';
import * as schema from './sso-schema.ts';
import { SSO_JWKS } from './sso-jwks.ts';

const env = process.env;
// drizzle-kit 0.28's ESM build of its API fails on a dynamic require of "fs"; its CommonJS build works.
const { pushSchema } = createRequire(import.meta.url)('drizzle-kit/api') as typeof DrizzleKitApi;
const client = postgres(env.DATABASE_URL ?? '');
const db = drizzle(client, { schema });

// src/lib/trusted-clients.ts: the first-party clients, skipping consent.
const TRUSTED_CLIENTS = [
  {
    clientId: 'robolearn-public-client',
    name: 'RoboLearn Book Interface',
    type: 'public' as const,
    redirectUrls: [
      'http://localhost:3000/auth/callback',
      'https://mjunaidca.github.io/robolearn/auth/callback',
    ],
    disabled: false,
    skipConsent: true,
    metadata: {},
  },
  {
    clientId: 'taskflow-sso-public-client',
    name: 'Taskflow SSO',
    type: 'public' as const,
    redirectUrls: ['http://localhost:3000/api/auth/callback', 'https://taskflow.org/api/auth/callback'],
    disabled: false,
    skipConsent: true,
    metadata: {},
  },
];

const EMAIL_FROM = env.EMAIL_FROM || env.RESEND_FROM_EMAIL || env.SMTP_FROM;
const smtpConfigured = !!(env.SMTP_HOST && env.SMTP_USER && env.SMTP_PASS);
const smtpTransport = smtpConfigured
  ? nodemailer.createTransport({
      host: env.SMTP_HOST,
      port: parseInt(env.SMTP_PORT || '587'),
      secure: env.SMTP_SECURE === 'true',
      auth: { user: env.SMTP_USER, pass: env.SMTP_PASS },
    })
  : null;
const emailEnabled = !!(EMAIL_FROM && smtpTransport);
if (emailEnabled) console.log('[Auth] Email enabled via:', 'SMTP', 'from:', EMAIL_FROM);
else console.log('[Auth] Email disabled - missing provider or EMAIL_FROM');

function sendEmail({ to, subject, html }: { to: string; subject: string; html: string }): void {
  if (!emailEnabled || !EMAIL_FROM || !smtpTransport) {
    console.warn('[Auth] Email not configured - skipping email to:', to);
    return;
  }
  void smtpTransport.sendMail({ from: EMAIL_FROM, to, subject, html }).then(
    (result) => console.log('[Auth] Email sent via SMTP to:', to, 'messageId:', result.messageId),
    (error: unknown) => console.error('[Auth] Failed to send email to:', to, 'error:', error),
  );
}

const auth = betterAuth({
  database: drizzleAdapter(db, { provider: 'pg', schema }),
  disabledPaths: ['/token'],
  emailAndPassword: {
    enabled: true,
    minPasswordLength: 8,
    requireEmailVerification: env.DISABLE_EMAIL_VERIFICATION !== 'true',
  },
  emailVerification: {
    sendOnSignUp: true,
    autoSignInAfterVerification: true,
    expiresIn: 3600,
    sendVerificationEmail: async ({ user, url }) => {
      const appName = env.NEXT_PUBLIC_APP_NAME || 'Taskflow SSO';
      sendEmail({
        to: user.email,
        subject: `Verify your ${appName} account`,
        html: `<p>Verify your email address:</p><p><a href="${url}">Verify Email Address</a></p>`,
      });
    },
  },
  trustedOrigins:
    env.ALLOWED_ORIGINS?.split(',') ||
    (env.NODE_ENV === 'development' ? ['http://localhost:3000', 'http://localhost:3001'] : []),
  plugins: [
    jwt({
      jwks: SSO_JWKS,
    }),
    oidcProvider({
      loginPage: '/auth/sign-in',
      consentPage: '/auth/consent',
      useJWTPlugin: true,
      accessTokenExpiresIn: 60 * 60 * 6,
      refreshTokenExpiresIn: 60 * 60 * 24 * 7,
      codeExpiresIn: 600,
      trustedClients: TRUSTED_CLIENTS,
      allowDynamicClientRegistration: false,
    }),
  ],
});

/** The image's migrate and seed steps, in the stand-in: its tables, then the trusted clients' rows. */
async function prepareDatabase(): Promise<void> {
  // The API reads `rows` of what execute returns, as node-postgres answers; postgres.js answers the rows.
  const asPg = { execute: async (q: Parameters<typeof db.execute>[0]) => ({ rows: await db.execute(q) }) };
  const push = await pushSchema(schema, asPg as never);
  await push.apply();
  for (const c of TRUSTED_CLIENTS) {
    await db
      .insert(schema.oauthApplication)
      .values({
        id: c.clientId,
        name: c.name,
        clientId: c.clientId,
        redirectUrls: c.redirectUrls.join(','),
        type: c.type,
        disabled: false,
        metadata: '{}',
        createdAt: new Date(),
        updatedAt: new Date(),
      })
      .onConflictDoNothing();
  }
  console.log(
    '[Seed] tables pushed, trusted clients present:',
    TRUSTED_CLIENTS.map((c) => c.clientId).join(', '),
  );
}

const handleAuth = toNodeHandler(auth);
const server = http.createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://sso').pathname;
  if (path.startsWith('/api/auth')) return void handleAuth(req, res);
  if (path === '/api/health') {
    void db.execute(sql`SELECT 1`).then(
      () => json(res, 200, { status: 'healthy', service: 'auth-server', database: 'connected' }),
      (error: unknown) => {
        console.error('Health check failed:', error);
        json(res, 503, {
          status: 'unhealthy',
          service: 'auth-server',
          database: 'disconnected',
          error: error instanceof Error ? error.message : 'Unknown error',
        });
      },
    );
    return;
  }
  json(res, 404, { error: 'not found' });
});

function json(res: http.ServerResponse, code: number, doc: Record<string, unknown>): void {
  res
    .writeHead(code, { 'Content-Type': 'application/json' })
    .end(JSON.stringify({ ...doc, timestamp: new Date().toISOString() }));
}

process.on('SIGTERM', () => {
  server.close(() => void client.end().then(() => process.exit(0)));
});

// Like the real server, it serves even when the database is not there (health then says 503).
prepareDatabase().catch((error: unknown) => console.error('[Seed] failed:', error));
const port = Number(env.PORT ?? 3001);
const host = env.KUBE_SIM_POD_IP ?? '127.0.0.1';
server.listen(port, host, () => console.log(`▲ SSO stand-in ready on http://${host}:${port}`));
