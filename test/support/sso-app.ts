import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from './tools.ts';

/** A folder laid out like the SSO image's /app, for running the real drizzle-kit as the image runs it. */
export interface SsoApp {
  dir: string;
  /** Environment every process in it needs (Node resolves from the folder's own node_modules). */
  env: Record<string, string>;
  cleanup(): void;
}

/**
 * The drizzle fixture (a config shaped like the SSO's, a small schema) and a node_modules of links to
 * the project's packages, without `pg`: the SSO's lockfile has no pg, so in its image drizzle-kit picks
 * postgres.js ("Using 'postgres' driver"); with the project's pg in reach it would pick pg instead.
 * Node keeps the links' paths (--preserve-symlinks), so nothing resolves back into the project.
 */
export function ssoApp(): SsoApp {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tf-sso-app-'));
  const fixture = path.join(repoRoot, 'test/fixtures/drizzle');
  for (const f of readdirSync(fixture)) copyFileSync(path.join(fixture, f), path.join(dir, f));
  const modules = path.join(dir, 'node_modules');
  mkdirSync(modules);
  const own = path.join(repoRoot, 'node_modules');
  for (const name of readdirSync(own)) {
    if (name === 'pg' || name === '.bin') continue;
    symlinkSync(path.join(own, name), path.join(modules, name));
  }
  // The image's binaries, as scripts that start Node on the package's path inside this folder (a link
  // into the project's .bin would make Node resolve from the project again).
  mkdirSync(path.join(modules, '.bin'));
  for (const [bin, file] of [
    ['drizzle-kit', 'drizzle-kit/bin.cjs'],
    ['tsx', 'tsx/dist/cli.mjs'],
  ] as const) {
    const script = path.join(modules, '.bin', bin);
    writeFileSync(script, `#!/bin/sh\nexec node "$(dirname "$0")/../${file}" "$@"\n`, { mode: 0o755 });
  }
  return {
    dir,
    env: { NODE_OPTIONS: '--preserve-symlinks --preserve-symlinks-main' },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
