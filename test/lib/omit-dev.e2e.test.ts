import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, toolset } from '../support/tools.ts';

/**
 * A user who installs without the development packages (`npm ci --omit=dev`) gets every command whole:
 * validate still checks the rendered objects against the Kubernetes schemas.
 */
describe('npm ci --omit=dev', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tf-omit-dev-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('installs what the commands need, and validate checks the schemas', () => {
    for (const f of ['package.json', 'package-lock.json', 'scripts', 'lib', 'charts']) {
      cpSync(path.join(repoRoot, f), path.join(dir, f), { recursive: true });
    }
    // The packages come from npm's cache that the checkout's own npm ci filled (the registry otherwise).
    const ci = spawnSync('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, npm_config_loglevel: 'error' },
    });
    expect(ci.status, ci.stderr).toBe(0);
    expect(existsSync(path.join(dir, 'node_modules', 'vitest'))).toBe(false);
    expect(existsSync(path.join(dir, 'node_modules', 'kubernetes-models'))).toBe(true);
    const r = spawnSync(process.execPath, ['--', 'scripts/run.mjs', 'preflight', '--offline', '--json'], {
      cwd: dir,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: dir, HELM: toolset('v35').helm, NO_COLOR: '1', CI: 'true' },
    });
    const doc = JSON.parse(r.stdout) as { checks: { id: string; status: string; detail: string }[] };
    const render = doc.checks.find((c) => c.id === 'chart.render');
    expect(render?.status, r.stderr).toBe('pass');
    expect(render?.detail).toContain('valid against the Kubernetes schemas');
  }, 180_000);
});
