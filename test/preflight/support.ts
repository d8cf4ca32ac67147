import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Check, type CheckResult, runChecks } from '../../lib/checks.ts';
import { Runner } from '../../lib/exec.ts';
import { Redactor, withRedactor } from '../../lib/redact.ts';
import { afterEach, beforeAll } from 'vitest';
import { ensureToolset } from '../support/tools.ts';
import {
  type PreflightContext,
  type PreflightOptions,
  createPreflight,
} from '../../lib/preflight/context.ts';

/** A temp folder with an optional .env, removed by `cleanup`. */
export function tempEnv(text?: string): { dir: string; envFile: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tf-preflight-'));
  const envFile = path.join(dir, '.env');
  if (text !== undefined) writeFileSync(envFile, text, { mode: 0o600 });
  return { dir, envFile, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The frame of a check test file (call it at the top level): helm v35, extracted once before the
 * tests, and cleanups run after each test; `temp` is tempEnv with its folder removed after the test.
 */
export function checkTestFrame(): {
  helm: () => string;
  defer: (cleanup: () => void) => void;
  temp: typeof tempEnv;
} {
  let helm = '';
  beforeAll(() => {
    helm = ensureToolset('v35').helm;
  });
  let cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups) c();
    cleanups = [];
  });
  const defer = (c: () => void): void => void cleanups.push(c);
  return {
    helm: () => helm,
    defer,
    temp: (text) => {
      const t = tempEnv(text);
      defer(t.cleanup);
      return t;
    },
  };
}

/** Pre-flight options for a folder: offline, no tools on PATH unless given. */
export function options(dir: string, over: Partial<PreflightOptions> = {}): PreflightOptions {
  return {
    envFile: path.join(dir, '.env'),
    explicitEnvFile: false,
    env: { PATH: '' },
    valuesFiles: [],
    chart: path.join(dir, 'no-chart'),
    cwd: dir,
    offline: true,
    requireCluster: false,
    runner: new Runner(),
    ...over,
  };
}

/** Runs checks against a context built from options. */
export async function check(
  checks: readonly Check<PreflightContext>[],
  opts: PreflightOptions,
): Promise<CheckResult[]> {
  // As `npm run validate` does: inside one run, whose redactor masks the secrets the checks meet.
  return withRedactor(new Redactor(), async () => runChecks(checks, await createPreflight(opts)));
}

/** `id -> status` of results. */
export const statuses = (results: CheckResult[]): Record<string, string> =>
  Object.fromEntries(results.map((r) => [r.id, r.status]));
