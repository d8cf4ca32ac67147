import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../../lib/checks.ts';
import { CHART_PATH } from '../../lib/context.ts';
import { SOURCE_CHECKS } from '../../lib/preflight/checks-source.ts';
import { makeSourceTree } from '../support/source-tree.ts';
import { check, checkTestFrame, options } from './support.ts';

/** A clean env file: SMTP on with a sender of its own. */
const CLEAN = [
  'SMTP_HOST=smtp.example.com',
  'SMTP_USER=mailer',
  'SMTP_PASS=app-password-7d1c2b',
  'EMAIL_FROM="TaskFlow <no-reply@example.com>"',
  '',
].join('\n');

const frame = checkTestFrame();

/** Runs the source checks on an env text, values files and options; returns `id -> result`. */
async function run(
  env: string,
  opts: { values?: string[]; src?: string; chart?: string } = {},
): Promise<Record<string, CheckResult>> {
  const t = frame.temp(env);
  const valuesFiles = (opts.values ?? []).map((text, i) => {
    const f = path.join(t.dir, `values-${i}.yaml`);
    writeFileSync(f, text);
    return f;
  });
  const results = await check(
    SOURCE_CHECKS,
    options(t.dir, {
      env: { PATH: '', HELM: frame.helm() },
      chart: opts.chart ?? CHART_PATH,
      valuesFiles,
      ...(opts.src !== undefined && { src: opts.src }),
    }),
  );
  return Object.fromEntries(results.map((r) => [r.id, r]));
}

/** A copy of the chart with one template edited, as a user's fork might be. */
function chartCopy(file: string, edit: (text: string) => string): string {
  const t = frame.temp();
  const dir = path.join(t.dir, 'taskflow');
  cpSync(CHART_PATH, dir, { recursive: true });
  const f = path.join(dir, 'templates', file);
  const before = readFileSync(f, 'utf8');
  const after = edit(before);
  expect(after).not.toBe(before);
  writeFileSync(f, after);
  return dir;
}

describe('the clean configuration passes every source check', () => {
  it('SMTP with a sender, default web origin, in-cluster databases', async () => {
    const r = await run(CLEAN);
    expect(Object.values(r).map((x) => `${x.id}=${x.status}`)).toEqual([
      'smtp.sender=pass',
      'auth.redirect=pass',
      'db.sso-driver=pass',
      'db.chat-sslmode=pass',
    ]);
    expect(r['smtp.sender']?.detail).toBe('from TaskFlow <no-reply@example.com> via smtp.example.com');
    expect(r['auth.redirect']?.detail).toContain(
      'http://localhost:3000/api/auth/callback is a redirect URI of taskflow-sso-public-client (sso-platform/src/lib/trusted-clients.ts:75',
    );
  });
});

describe('smtp.sender', () => {
  it('fails a sender that is not an address, naming the source rule', async () => {
    const r = await run(
      readFileSync(path.join(import.meta.dirname, '../fixtures/source/smtp-bad-from.env'), 'utf8'),
    );
    expect(r['smtp.sender']).toMatchObject({ status: 'fail' });
    expect(r['smtp.sender']?.detail).toContain('EMAIL_FROM "TaskFlow" is not an e-mail address');
    expect(r['smtp.sender']?.detail).toContain('sso-platform/src/lib/auth.ts:102');
    expect(r['smtp.sender']?.hint).toContain('EMAIL_FROM=');
  });

  it('fails a chart that lets SMTP reach the SSO without EMAIL_FROM', async () => {
    const chart = chartCopy('sso/configmap.yaml', (t) => t.replace(/\n\s*EMAIL_FROM: .*\n/, '\n'));
    const r = await run(CLEAN, { chart });
    expect(r['smtp.sender']?.status).toBe('fail');
    expect(r['smtp.sender']?.detail).toMatch(
      /SMTP reaches the SSO \(smtp\.example\.com\) but EMAIL_FROM does not: the SSO sends mail only with a sender and has no default/,
    );
  });

  it("warns when a real SMTP server gets the chart's default sender", async () => {
    const r = await run(CLEAN.replace(/EMAIL_FROM=.*\n/, ''));
    expect(r['smtp.sender']).toMatchObject({ status: 'warn' });
    expect(r['smtp.sender']?.detail).toContain(
      "gets the chart's default sender TaskFlow <no-reply@taskflow.local>",
    );
  });

  it('passes Mailpit with the default sender, and SMTP off', async () => {
    expect((await run('', { values: ['mailpit:\n  enabled: true\n'] }))['smtp.sender']).toMatchObject({
      status: 'pass',
      detail: 'from TaskFlow <no-reply@taskflow.local> via mailpit',
    });
    expect((await run(''))['smtp.sender']?.detail).toMatch(/^SMTP is off/);
  });
});

describe('auth.redirect', () => {
  it('fails a web origin that the recorded SSO client does not list, naming the file to change', async () => {
    const r = await run(CLEAN, {
      values: [
        'web:\n  url: https://app.example.com\nsso:\n  auth:\n    allowedOrigins: [https://app.example.com, http://localhost:3001]\napi:\n  allowedOrigins: [https://app.example.com]\n',
      ],
    });
    expect(r['auth.redirect']?.status).toBe('fail');
    expect(r['auth.redirect']?.detail).toContain(
      'the SSO refuses sign-in from https://app.example.com: taskflow-sso-public-client accepts only http://localhost:3000/api/auth/callback, https://taskflow.org/api/auth/callback',
    );
    expect(r['auth.redirect']?.hint).toContain(
      'add https://app.example.com/api/auth/callback to the redirectUrls of taskflow-sso-public-client in sso-platform/src/lib/trusted-clients.ts',
    );
  });

  it('reads the list from the source named with --src (Phase IV layout, a URI the team added)', async () => {
    const src = makeSourceTree('phase4', {
      redirectUris: ['http://localhost:3000/api/auth/callback', 'https://app.example.com/api/auth/callback'],
    });
    frame.defer(src.cleanup);
    const r = await run(CLEAN, {
      src: src.dir,
      values: [
        'web:\n  url: https://app.example.com\nsso:\n  auth:\n    allowedOrigins: [https://app.example.com, http://localhost:3001]\napi:\n  allowedOrigins: [https://app.example.com]\n',
      ],
    });
    expect(r['auth.redirect']?.status).toBe('pass');
    expect(r['auth.redirect']?.detail).toContain('sso-platform/src/lib/trusted-clients.ts:');
  });

  it('warns when --src holds neither layout, and uses the recorded list', async () => {
    const t = frame.temp();
    const r = await run(CLEAN, { src: t.dir });
    expect(r['auth.redirect']).toMatchObject({ status: 'warn' });
    expect(r['auth.redirect']?.detail).toContain('holds neither source layout');
  });

  it('fails localhost against the apps/ layout, whose production build drops localhost', async () => {
    const src = makeSourceTree('monorepo', {
      redirectUris: ['http://localhost:3000/api/auth/callback', 'https://avixato.com/api/auth/callback'],
    });
    frame.defer(src.cleanup);
    const r = await run(CLEAN, { src: src.dir });
    expect(r['auth.redirect']?.status).toBe('fail');
    expect(r['auth.redirect']?.detail).toContain('accepts only https://avixato.com/api/auth/callback');
    expect(r['auth.redirect']?.detail).toContain('its production build drops localhost redirect URIs');
    expect(r['auth.redirect']?.hint).toContain('apps/sso/src/lib/trusted-clients.ts');
  });
});

describe('db.sso-driver', () => {
  it('fails an external SSO database that is not Neon, and explains the rule', async () => {
    const r = await run(CLEAN, { values: ['sso:\n  database:\n    host: db.example.com\n'] });
    expect(r['db.sso-driver']?.status).toBe('fail');
    expect(r['db.sso-driver']?.detail).toContain(
      "db.example.com (sslmode=require) is not a Neon host: the SSO uses plain PostgreSQL only when DATABASE_URL holds localhost, 127.0.0.1 or sslmode=disable, and Neon's HTTP driver otherwise (sso-platform/src/lib/db/index.ts:29",
    );
  });

  it('passes a Neon host with sslmode require, warns about a plain external database', async () => {
    const neon = await run(CLEAN, {
      values: ['sso:\n  database:\n    host: ep-quiet-1.eu-central-1.aws.neon.tech\n'],
    });
    expect(neon['db.sso-driver']?.status).toBe('pass');
    const plain = await run(CLEAN, {
      values: ['sso:\n  database:\n    host: pg.internal\n    sslmode: disable\n'],
    });
    expect(plain['db.sso-driver']?.status).toBe('warn');
  });
});

describe('db.chat-sslmode', () => {
  it('passes verify-full (the chart writes ssl= for the chat store)', async () => {
    const r = await run(CLEAN, {
      values: [
        'api:\n  database:\n    host: db.example.com\n    password: abcdefabcdef0123\n    sslmode: verify-full\n    caSecret: db-ca\n',
      ],
    });
    expect(r['db.chat-sslmode']).toMatchObject({ status: 'pass' });
    expect(r['db.chat-sslmode']?.detail).toContain('ssl=verify-full');
  });

  it('fails a chart that gives the chat store sslmode=verify-full', async () => {
    const chart = chartCopy('_database.tpl', (t) =>
      t.replace('ternary "ssl" "sslmode"', 'ternary "sslmode" "sslmode"'),
    );
    const r = await run(CLEAN, {
      chart,
      values: [
        'api:\n  database:\n    host: db.example.com\n    password: abcdefabcdef0123\n    sslmode: verify-full\n    caSecret: db-ca\n',
      ],
    });
    expect(r['db.chat-sslmode']?.status).toBe('fail');
    expect(r['db.chat-sslmode']?.detail).toContain(
      'sslmode=verify-full is not converted by the chat store (only require, prefer, allow, disable): chat would be off',
    );
    expect(r['db.chat-sslmode']?.detail).toContain('/chatkit answers 503');
  });
});
