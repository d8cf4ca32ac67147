import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { shownPath } from '../../lib/addon-defs.ts';
import { ACCESS_CHECKS } from '../../lib/preflight/checks-access.ts';
import { SETTINGS_CHECKS } from '../../lib/settings-checks.ts';
import { repoRoot } from '../support/tools.ts';
import { check, options, statuses, tempEnv } from './support.ts';

const FIXTURES = path.join(repoRoot, 'test', 'fixtures', 'env');
const CHECKS = [...SETTINGS_CHECKS, ...ACCESS_CHECKS];

/** `# expect: id=status, id=status` on the first line; every other settings check must pass. */
function expected(text: string): Record<string, string> {
  const all = Object.fromEntries(CHECKS.map((c) => [c.id, 'pass']));
  const line = /^# expect: (.*)$/m.exec(text)?.[1] ?? '';
  for (const m of line.matchAll(/([\w.-]+)=(pass|warn|fail|skip)/g)) all[m[1] ?? ''] = m[2] ?? '';
  return all;
}

/** Every value assigned in the fixture that is long enough to be a secret. */
function assignedValues(text: string): string[] {
  return [...text.matchAll(/^[A-Z_]*(PASS|PASSWORD|SECRET)[A-Z_]*=["']?([^"'\n]{6,})/gm)].map(
    (m) => m[2] ?? '',
  );
}

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
});

describe('settings checks, one env fixture per failure', () => {
  const files = readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.env'))
    .sort();

  it.each(files)('%s', async (file) => {
    const text = readFileSync(path.join(FIXTURES, file), 'utf8');
    const t = tempEnv(text);
    cleanups.push(t.cleanup);
    const results = await check(CHECKS, options(t.dir));
    expect(statuses(results)).toEqual(expected(text));
    for (const r of results.filter((x) => x.status === 'fail' || x.status === 'warn'))
      expect(r.hint, r.id).toBeTruthy();
    const shown = JSON.stringify(results);
    for (const v of assignedValues(text)) expect(shown).not.toContain(v);
  });
});

describe('smtp.config with Mailpit on (the one SMTP rule)', () => {
  it("warns once that the env file's SMTP is set aside while Mailpit is on, naming where the SSO's mail goes", async () => {
    const t = tempEnv('SMTP_HOST=smtp.example.com\nSMTP_USER=mailer\nSMTP_PASS=smtp-pass-abcdef123456\n');
    cleanups.push(t.cleanup);
    const valuesFile = path.join(t.dir, 'dev.yaml');
    writeFileSync(valuesFile, 'mailpit:\n  enabled: true\n');
    const results = await check(ACCESS_CHECKS, options(t.dir, { valuesFiles: [valuesFile] }));
    const smtp = results.filter((r) => r.id === 'smtp.config');
    expect(smtp.map((r) => [r.status, r.detail])).toEqual([
      [
        'warn',
        `SMTP_HOST in ${shownPath(t.envFile)} (smtp.example.com:587) is ignored while the Mailpit add-on is on: the SSO sends its mail to Mailpit (mailpit:1025); it applies again after npm run addon -- mailpit --remove`,
      ],
    ]);
    expect(smtp[0]?.hint).toContain('npm run addon -- mailpit --remove');
  });
});

describe('the env file itself', () => {
  it('warns when the default .env is missing and fails when a named one is', async () => {
    const t = tempEnv();
    cleanups.push(t.cleanup);
    const missing = await check(SETTINGS_CHECKS, options(t.dir));
    expect(missing[0]).toMatchObject({ id: 'env.file', status: 'warn' });
    const named = await check(SETTINGS_CHECKS, options(t.dir, { explicitEnvFile: true }));
    expect(named[0]).toMatchObject({
      id: 'env.file',
      status: 'fail',
      detail: `${path.join(t.dir, '.env')} does not exist`,
    });
  });

  it('fails on an unreadable file and still runs every other check', async () => {
    const t = tempEnv();
    cleanups.push(t.cleanup);
    // A directory where the file should be: readable by nobody as a file (EISDIR), even as root.
    const results = await check(CHECKS, options(t.dir, { envFile: t.dir }));
    expect(results[0]).toMatchObject({
      id: 'env.file',
      status: 'fail',
      detail: `cannot read ${t.dir} (EISDIR)`,
    });
    expect(results.map((r) => r.id)).toEqual(CHECKS.map((c) => c.id));
  });
});

describe('messages', () => {
  it.each([
    [
      'SMTP_PASSWORD=abc12345\n',
      'env.unknown',
      /SMTP_PASSWORD \(.*\.env:1\): ignored; did you mean SMTP_PASS\?/,
    ],
    [
      'POSTGRES_SSO_PASSWORD=Zm9vYmFy+/==Zm9vYmFy\n',
      'password.charset',
      /POSTGRES_SSO_PASSWORD \(.*:1\) contains \+ \/ =/,
    ],
    [
      'BETTER_AUTH_SECRET=k2v9Qx7LmP4tR8wZ\n',
      'secrets.strength',
      /BETTER_AUTH_SECRET \(.*:1\) has 16 characters; at least 32 are needed/,
    ],
    ['BETTER_AUTH_URL=http://sso-platform:3001\n', 'auth.url', /in-cluster name/],
    [
      'SMTP_HOST=smtp.example.com\n',
      'smtp.config',
      /half-configured: SMTP_HOST is set but SMTP_USER, SMTP_PASS are not/,
    ],
    ['ALLOWED_ORIGINS=http://localhost:3001\n', 'api.cors', /miss the web origin http:\/\/localhost:3000/],
    ['A=1\nthis line is not dotenv\n', 'env.file', /\.env:2: not a KEY=value line/],
    [
      'POSTGRES_API_PASSWORD="abc\tdef\u00a0ghi jkl0123456789"\n',
      'password.charset',
      /POSTGRES_API_PASSWORD \(.*:1\) contains U\+0009 U\+00A0 space: /,
    ],
  ])('%j → %s', async (text, id, detail) => {
    const t = tempEnv(text);
    cleanups.push(t.cleanup);
    const r = (await check(CHECKS, options(t.dir))).find((x) => x.id === id);
    expect(r?.detail).toMatch(detail);
  });

  it('names the hex fix for a bad password', async () => {
    const t = tempEnv('POSTGRES_API_PASSWORD=a+b/c=d-long-enough-password\n');
    cleanups.push(t.cleanup);
    const r = (await check(CHECKS, options(t.dir))).find((x) => x.id === 'password.charset');
    expect(r?.hint).toBe(
      'use a hex password: openssl rand -hex 16 (or remove the line to have one generated)',
    );
  });

  it('in ingress mode takes the web origin from the values (https when a TLS entry names the host)', async () => {
    const t = tempEnv(
      'TASKFLOW_ACCESS=ingress\nBETTER_AUTH_URL=https://sso.example.com\nALLOWED_ORIGINS=https://sso.example.com,https://other.example.com\n',
    );
    cleanups.push(t.cleanup);
    const values = path.join(t.dir, 'ingress.yaml');
    writeFileSync(
      values,
      'ingress:\n  enabled: true\n  hosts:\n    web: app.example.com\n    sso: sso.example.com\n  tls:\n    - secretName: web-tls\n      hosts: [app.example.com]\n',
    );
    const results = await check(CHECKS, options(t.dir, { valuesFiles: [values] }));
    expect(results.find((r) => r.id === 'auth.origins')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('misses the web dashboard origin https://app.example.com'),
    });
    expect(results.find((r) => r.id === 'api.cors')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('miss the web origin https://app.example.com'),
    });
  });
});
