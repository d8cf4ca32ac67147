import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../../support/tools.ts';
import { initdb, pgPrograms, serverRunAs } from './binaries.ts';

const run = promisify(execFile);

/** Name of the superuser inside the template; renamed to POSTGRES_USER on a volume's first start. */
export const TEMPLATE_SUPERUSER = 'postgres';

// Bump when the initdb flags change so stale caches are not reused.
const TEMPLATE_REVISION = 1;

let template: Promise<string> | undefined;

/**
 * A freshly initdb'ed cluster cached under `.cache/kube-sim/`, built once per machine:
 * copying it (~40 ms) is an order of magnitude faster than running initdb per volume.
 */
export function templateDataDir(): Promise<string> {
  template ??= buildTemplate().catch((err: unknown) => {
    template = undefined;
    throw err;
  });
  return template;
}

async function buildTemplate(): Promise<string> {
  const { version } = await pgPrograms();
  const cacheDir = path.join(repoRoot, '.cache', 'kube-sim');
  const final = path.join(cacheDir, `pg-template-${version}-r${TEMPLATE_REVISION}`);
  if (await exists(path.join(final, 'PG_VERSION'))) return final;
  const ids = await serverRunAs();
  // initdb runs as the postgres user, so it works in a world-traversable temp dir it owns.
  const work = await mkdtemp(path.join(os.tmpdir(), 'ksim-initdb-'));
  try {
    await chmod(work, 0o755);
    const pwfile = path.join(work, 'pw');
    // A throw-away password: every volume gets its own on first start.
    await writeFile(pwfile, `${randomBytes(18).toString('base64')}\n`, { mode: 0o600 });
    if (ids.uid !== undefined && ids.gid !== undefined) {
      await chown(work, ids.uid, ids.gid);
      await chown(pwfile, ids.uid, ids.gid);
    }
    const dataDir = path.join(work, 'data');
    await initdb(dataDir, TEMPLATE_SUPERUSER, pwfile);
    await mkdir(cacheDir, { recursive: true });
    // Copy under a private name then rename, so parallel builders never see half a template.
    const staging = `${final}.${process.pid}.${randomBytes(4).toString('hex')}`;
    await run('cp', ['-a', dataDir, staging]);
    try {
      await rename(staging, final);
    } catch {
      await rm(staging, { recursive: true, force: true });
    }
    return final;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}
