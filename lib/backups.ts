/**
 * Backups through the cluster: a command run in a pod (`kubectl exec`) whose output is streamed into a
 * local file, mode 0600, never overwriting one; a failed or refused backup leaves no file. Used by
 * deploy --fresh (the databases) and by `addon --remove --delete-data` (an add-on's volumes).
 */
import { createWriteStream, mkdirSync, openSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { OperationError } from './errors.ts';
import type { Kubectl } from './kubectl.ts';
import { redact } from './redact.ts';

/** The default folder of backups: `backups/` of the project root (where `npm run` runs commands). */
export const BACKUP_DIR = 'backups';

/** `<dir>/<name>-<timestamp><ext>`, the timestamp without colons (safe on every filesystem). */
export function backupPath(dir: string, name: string, now: Date, ext: string): string {
  const stamp = now
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
  return path.join(dir, `${name}-${stamp}${ext}`);
}

/**
 * Runs kubectl `args` (an exec whose stdout is the backup) and streams its output into `file`. A failure
 * is an OperationError `<what> failed: <first line of stderr>` with `hint`; the partial file is removed.
 */
export async function backupThrough(
  kubectl: Kubectl,
  args: string[],
  file: string,
  what: string,
  hint: string,
): Promise<string> {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // Created before the exec starts, never over a file that is there (EEXIST): only our own file is
  // removed on a failure.
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (err) {
    throw new OperationError(`${what}: cannot create ${file}: ${(err as Error).message}`, {
      hint: 'a backup file is never overwritten: move that one away, or retry in a second',
    });
  }
  const child = kubectl.start(args);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    await pipeline(child.stdout, createWriteStream(file, { fd }));
  } catch (err) {
    await child.stop();
    rmSync(file, { force: true });
    throw new OperationError(`${what} failed: ${(err as Error).message}`, { hint });
  }
  const code = await child.exited;
  if (code !== 0) {
    rmSync(file, { force: true });
    throw new OperationError(`${what} failed: ${redact(stderr.trim().split('\n')[0] ?? `exit ${code}`)}`, {
      hint,
    });
  }
  return file;
}
