import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScript, scriptEnv } from '../support/e2e.ts';
import { repoRoot } from '../support/tools.ts';

const FIX = path.join(repoRoot, 'test', 'fixtures');
const CLEAN = readFileSync(path.join(FIX, 'env', 'clean.env'), 'utf8');
const SECRETS = [...CLEAN.matchAll(/^[A-Z_]*(PASS|PASSWORD|SECRET)=(.+)$/gm)].map((m) => m[2] ?? '');

async function envFlow(args: string[], envFile = CLEAN) {
  const se = scriptEnv({ envFile });
  return runScript('env-flow', args, se).finally(() => se.cleanup());
}

interface FlowDoc {
  ok: boolean;
  live: boolean;
  settings: {
    key: string;
    secret: boolean;
    source: string;
    values: string[];
    links: { status: string; via: string | null; target: string | null }[];
  }[];
}

describe('npm run env-flow (real chart, no cluster)', () => {
  it.concurrent('shows each setting from its source to its container, never a value', async () => {
    const r = await envFlow([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^BETTER_AUTH_URL {3}source: default {3}chart value: sso\.auth\.url$/m);
    expect(r.stdout).toMatch(
      /^SMTP_PASS \(secret\) {3}source: env file .*\.env:8 {3}chart value: sso\.smtp\.password$/m,
    );
    expect(r.stdout).toMatch(
      /✓ +Secret sso-platform key SMTP_PASS.* +Deployment sso-platform container sso-platform env SMTP_PASS/,
    );
    expect(r.stdout).toMatch(
      /^OPENAI_API_KEY \(secret\) .*\n {2}- unused: OPENAI_API_KEY is not set \(optional\)$/m,
    );
    expect(r.stdout).toContain('(no cluster reachable: the live column is left out)');
    // it ends with one line that counts what it showed
    expect(r.stdout.trimEnd().split('\n').at(-1)).toMatch(
      /^✓ \d+ settings, \d+ links: \d+ ok(, \d+ (off|absent))*$/,
    );
    for (const s of SECRETS) expect(r.stdout + r.stderr).not.toContain(s);
  });

  it.concurrent('selects settings by env key or container variable, as JSON', async () => {
    const r = await envFlow(['smtp_pass', 'TASKFLOW_CHATKIT_DATABASE_URL', '--json']);
    const doc = JSON.parse(r.stdout) as FlowDoc;
    expect(doc.settings.map((s) => [s.key, s.secret])).toEqual([
      ['POSTGRES_API_PASSWORD', true],
      ['SMTP_PASS', true],
    ]);
    expect(doc.live).toBe(false);
    expect(doc.settings[1]?.links).toEqual([
      expect.objectContaining({
        status: 'ok',
        target: 'Deployment sso-platform container sso-platform env SMTP_PASS',
      }),
    ]);
    for (const s of SECRETS) expect(r.stdout).not.toContain(s);
  });

  it.concurrent('rejects an unknown name with a suggestion (exit 2)', async () => {
    const r = await envFlow(['SMTP_PASSWORD']);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('✗ unknown setting or variable: SMTP_PASSWORD');
    expect(r.stdout).toContain('hint: did you mean SMTP_PASS?');
  });

  it.concurrent('marks a link a values file breaks, and exits 1', async () => {
    const r = await envFlow(['BETTER_AUTH_URL', '-f', path.join(FIX, 'values', 'auth-url-override.yaml')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /✗ +ConfigMap sso-platform key BETTER_AUTH_URL.*mismatch: .*holds "http:\/\/127\.0\.0\.1:3001" instead of the setting "http:\/\/localhost:3001"/,
    );
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe(
      '✗ 1 setting, 1 link: 1 mismatch: some settings do not reach their container (✗ above)',
    );
  });
});
