import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CheckReport } from '../../lib/checks.ts';
import { VALIDATE_IDS } from '../../lib/preflight/validate.ts';
import { runNpm, runScript, scriptEnv } from '../support/e2e.ts';
import { repoRoot } from '../support/tools.ts';

const FIX = path.join(repoRoot, 'test', 'fixtures');
const CLEAN = readFileSync(path.join(FIX, 'env', 'clean.env'), 'utf8');
const CONTRACT_IDS = [
  'env.file',
  'env.required',
  'env.unknown',
  'secrets.placeholder',
  'secrets.strength',
  'password.charset',
  'auth.url',
  'auth.origins',
  'api.cors',
  'smtp.config',
  'smtp.sender',
  'auth.redirect',
  'db.sso-driver',
  'db.chat-sslmode',
  'env.flow',
  'chart.lint',
  'chart.render',
  'compose.parity',
  'tools.kubectl',
  'tools.helm',
  'cluster.reachable',
  'cluster.context',
  'cluster.storageclass',
  'cluster.images',
  'db.password-drift',
  'addons.definitions',
];
/** The values of every secret-looking assignment of an env text. */
const secretsOf = (text: string) =>
  [...text.matchAll(/^[A-Z_]*(PASS|PASSWORD|SECRET)[A-Z_]*=["']?([^"'\n]{6,})/gm)].map((m) => m[2] ?? '');

async function validate(envFile: string | undefined, args: string[]) {
  // Each run owns its folder (the tests run concurrently).
  const se = scriptEnv({ ...(envFile !== undefined && { envFile }) });
  const res = await runScript('preflight', args, se).finally(() => se.cleanup());
  return { ...res, doc: args.includes('--json') ? (JSON.parse(res.stdout) as CheckReport) : undefined };
}
const status = (doc: CheckReport | undefined) =>
  Object.fromEntries((doc?.checks ?? []).map((c) => [c.id, c.status]));

describe('npm run validate (real helm, no cluster)', () => {
  it('lists the contract ids in order', () => {
    expect(VALIDATE_IDS).toEqual(CONTRACT_IDS);
  });

  it.concurrent(
    'passes every offline check of a clean configuration and skips the cluster ones',
    async () => {
      const r = await validate(CLEAN, ['--json']);
      expect(r.doc?.checks.map((c) => c.id)).toEqual(CONTRACT_IDS);
      const s = status(r.doc);
      for (const id of CONTRACT_IDS.slice(0, 17)) expect([id, s[id]]).toEqual([id, 'pass']);
      expect(s).toMatchObject({
        'compose.parity': 'skip',
        'tools.kubectl': 'pass',
        'tools.helm': 'pass',
        'cluster.reachable': 'skip',
        'cluster.storageclass': 'skip',
        'cluster.images': 'skip',
        'db.password-drift': 'skip',
        'addons.definitions': 'pass',
      });
      expect(r.doc?.ok).toBe(true);
      expect(r.code).toBe(0);
      for (const v of secretsOf(CLEAN)) expect(r.stdout + r.stderr).not.toContain(v);
      // "title: detail" never says the same word twice ("SMTP: SMTP off", "ALLOWED_ORIGINS: ALLOWED_ORIGINS")
      const first = (t: string) => t.split(/[\s:(]/)[0]?.toLowerCase();
      const repeated = (r.doc?.checks ?? []).filter((c) => first(c.detail) === first(c.title));
      expect(repeated.map((c) => `${c.title}: ${c.detail}`)).toEqual([]);
    },
  );

  it.concurrent(
    'a values file naming existingSecrets renders: no value of the env file is sent for them',
    async () => {
      const se = scriptEnv({ envFile: CLEAN });
      try {
        writeFileSync(
          path.join(se.cwd, 'theirs.yaml'),
          'sso:\n  existingSecret: auth\n  database:\n    existingSecret: sso-db\napi:\n  database:\n    existingSecret: api-db\n',
        );
        const r = await runScript('preflight', ['--json', '-f', 'theirs.yaml'], se);
        const doc = JSON.parse(r.stdout) as CheckReport;
        // The chart refused both sources set before ("sso.database.password and ... are both set").
        expect(status(doc)).toMatchObject({ 'chart.render': 'pass', 'env.flow': 'pass' });
        expect(r.code, r.stdout).toBe(0);
      } finally {
        se.cleanup();
      }
    },
  );

  it.concurrent('reports every failure at once, with hints, and never a secret', async () => {
    const env = [
      'POSTGRES_SSO_PASSWORD=Zm9vYmFyYmF6cXV4+/cXV4YmF6==',
      'BETTER_AUTH_SECRET=changeme-generate-secure-secure',
      'BETTER_AUTH_URL=http://sso-platform:3001',
      'SMTP_HOST=smtp.example.com',
      'SMTP_PASSWORD=app-password-7d1c2b',
      '',
    ].join('\n');
    const r = await validate(env, []);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /✗ Database password characters: POSTGRES_SSO_PASSWORD \(.*\.env:1\) contains \+ \/ =.*\[password\.charset\]/,
    );
    expect(r.stdout).toMatch(/✗ Secrets are real values: .*\[secrets\.placeholder\]/);
    expect(r.stdout).toMatch(/✗ BETTER_AUTH_URL: http:\/\/sso-platform:3001 is an in-cluster name/);
    expect(r.stdout).toMatch(/✗ SMTP: half-configured: SMTP_HOST is set but SMTP_USER, SMTP_PASS are not/);
    expect(r.stdout).toMatch(/! Unknown keys: SMTP_PASSWORD .*\n {2}hint: rename SMTP_PASSWORD to SMTP_PASS/);
    expect(r.stdout).toMatch(/hint: use a hex password: openssl rand -hex 16/);
    for (const v of secretsOf(env)) expect(r.stdout + r.stderr).not.toContain(v);
  });

  // Node 20 reads `--env-file` anywhere on its own command line unless `--` ends its options; the npm
  // scripts run `node -- scripts/run.mjs`, so the missing file reaches validate (exit 2), not Node (9).
  it.concurrent('exits 2 when the named env file is missing, still listing every check', async () => {
    const se = scriptEnv({});
    const r = await runScript('preflight', ['--json', '--offline', '--env-file', 'nope.env'], se).finally(
      () => se.cleanup(),
    );
    const doc = JSON.parse(r.stdout) as CheckReport;
    expect(r.code).toBe(2);
    expect(doc.checks.map((c) => c.id)).toEqual(CONTRACT_IDS);
    expect(doc.checks[0]).toMatchObject({
      id: 'env.file',
      status: 'fail',
      detail: expect.stringMatching(/nope\.env does not exist$/),
    });
  });

  it.concurrent(
    'through npm as a user runs it: `npm run validate -- --env-file missing.env` exits 2',
    async () => {
      const se = scriptEnv({});
      const r = await runNpm(
        ['run', '-s', 'validate', '--', '--offline', '--env-file', `missing-${process.pid}.env`],
        se,
      ).finally(() => se.cleanup());
      expect(r.code).toBe(2);
      expect(r.stdout).toMatch(/✗ Env file: .*missing-\d+\.env does not exist/);
      expect(r.stderr).not.toMatch(/node: missing\.env: not found/);
    },
  );

  it.concurrent(
    'proves the flow through the real chart: a values override breaks BETTER_AUTH_URL',
    async () => {
      const r = await validate(CLEAN, [
        '--json',
        '--offline',
        '-f',
        path.join(FIX, 'values', 'auth-url-override.yaml'),
      ]);
      const flow = r.doc?.checks.find((c) => c.id === 'env.flow');
      expect(flow).toMatchObject({ status: 'fail' });
      expect(flow?.detail).toContain(
        'BETTER_AUTH_URL → Deployment sso-platform container sso-platform env BETTER_AUTH_URL: ConfigMap sso-platform key BETTER_AUTH_URL',
      );
      expect(flow?.detail).toContain(
        'holds "http://127.0.0.1:3001" instead of the setting "http://localhost:3001"',
      );
      expect(r.code).toBe(1);
    },
  );

  it.concurrent('fails env.flow when a chart puts a secret in a ConfigMap, without showing it', async () => {
    // The bundled chart with one line of an old chart's habit: the auth secret in the SSO ConfigMap.
    const chart = mkdtempSync(path.join(os.tmpdir(), 'tf-leaky-chart-'));
    cpSync(path.join(repoRoot, 'charts', 'taskflow'), chart, { recursive: true });
    const cm = path.join(chart, 'templates', 'sso', 'configmap.yaml');
    writeFileSync(
      cm,
      readFileSync(cm, 'utf8').replace(
        '  HOSTNAME: "0.0.0.0"\n',
        '  HOSTNAME: "0.0.0.0"\n  AUTH_SECRET_COPY: {{ include "taskflow.sso.authSecret" . | quote }}\n',
      ),
    );
    try {
      const r = await validate(CLEAN, ['--json', '--offline', '--chart', chart]);
      expect(r.doc?.checks.find((c) => c.id === 'env.flow')).toMatchObject({
        status: 'fail',
        detail: expect.stringContaining(
          'ConfigMap sso-platform key AUTH_SECRET_COPY holds the value of a secret: secrets belong in a Secret',
        ),
      });
      expect(status(r.doc)).toMatchObject({ 'chart.lint': 'pass', 'chart.render': 'pass' });
      for (const v of secretsOf(CLEAN)) expect(r.stdout + r.stderr).not.toContain(v);
      expect(r.code).toBe(1);
    } finally {
      rmSync(chart, { recursive: true, force: true });
    }
  });

  it.concurrent('fails lint and render of a broken chart, and skips the flow proof', async () => {
    const r = await validate(CLEAN, ['--json', '--offline', '--chart', path.join(FIX, 'charts', 'broken')]);
    expect(status(r.doc)).toMatchObject({ 'chart.lint': 'fail', 'chart.render': 'fail', 'env.flow': 'skip' });
    expect(r.doc?.checks.find((c) => c.id === 'chart.render')?.detail).toMatch(/notAFunction/);
  });

  it.concurrent('compares a compose file, one difference per line', async () => {
    const r = await validate(CLEAN, [
      '--json',
      '--offline',
      '--compose',
      path.join(FIX, 'compose', 'compose-drift.yaml'),
    ]);
    const parity = r.doc?.checks.find((c) => c.id === 'compose.parity');
    expect(parity?.status).toBe('fail');
    const lines = parity?.detail.split('\n') ?? [];
    expect(lines).toContain('service redis: no counterpart in the chart');
    expect(lines).toContain('service api: variable FEATURE_FLAGS has no counterpart in taskflow-api');
    expect(lines).toContain('service pgadmin: published on localhost:5051, npm run port-forward uses 5050');
  });

  it.concurrent('fails the cluster check when a named context cannot be reached', async () => {
    const r = await validate(CLEAN, ['--json', '--context', 'nowhere']);
    expect(status(r.doc)).toMatchObject({
      'cluster.reachable': 'fail',
      'cluster.storageclass': 'skip',
      'cluster.images': 'skip',
      'db.password-drift': 'skip',
    });
    expect(r.code).toBe(1);
  });
});
