/**
 * Backups through the cluster: a command run in a pod (`kubectl exec`) whose output is streamed into a
 * local file, mode 0600, never overwriting one. The output goes to a temporary name in the same folder and
 * takes its real name only when complete and verified, so a reader never sees half a backup; a failed or
 * refused backup leaves no file. Used by `db backup` and deploy --fresh (the databases, lib/db-backup.ts)
 * and by `addon --remove --delete-data` (an add-on's volumes).
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  createWriteStream,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  rmSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
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

/** The temporary name a backup is written under, in the same folder (a rename there is atomic). */
export function partialPath(file: string, pid = process.pid): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${pid}.partial`);
}

/** A backup written: where, how many bytes, and the sha256 (hex) of its content. */
export interface BackupWritten {
  file: string;
  bytes: number;
  sha256: string;
}

export interface BackupOptions {
  /**
   * Checks the complete temporary file before it takes its name (e.g. that the tool can read it back);
   * a throw fails the backup and removes the file.
   */
  verify?: (tmp: string, written: BackupWritten) => Promise<void>;
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
  return (await backupWithSum(kubectl, args, file, what, hint)).file;
}

/** `backupThrough`, returning the size and sha256 of what was written, with an optional verification. */
export async function backupWithSum(
  kubectl: Kubectl,
  args: string[],
  file: string,
  what: string,
  hint: string,
  opts: BackupOptions = {},
): Promise<BackupWritten> {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // Refused before the exec starts; the final link below refuses too (EEXIST), so a file that appears
  // meanwhile is never overwritten either.
  if (existsSync(file)) throw cannotCreate(what, file, 'EEXIST: file already exists');
  const tmp = partialPath(file);
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', 0o600);
  } catch (err) {
    throw cannotCreate(what, tmp, (err as Error).message);
  }
  const hash = createHash('sha256');
  let bytes = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  const child = kubectl.start(args);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    try {
      await pipeline(child.stdout, count, createWriteStream(tmp, { fd, flush: true }));
    } catch (err) {
      await child.stop();
      throw new OperationError(`${what} failed: ${(err as Error).message}`, { hint });
    }
    const code = await child.exited;
    if (code !== 0) {
      throw new OperationError(`${what} failed: ${redact(stderr.trim().split('\n')[0] ?? `exit ${code}`)}`, {
        hint,
      });
    }
    const written = { file, bytes, sha256: hash.digest('hex') };
    await opts.verify?.(tmp, written);
    try {
      linkSync(tmp, file);
    } catch (err) {
      throw cannotCreate(what, file, (err as Error).message);
    }
    return written;
  } finally {
    rmSync(tmp, { force: true });
  }
}

function cannotCreate(what: string, file: string, why: string): OperationError {
  return new OperationError(`${what}: cannot create ${file}: ${why}`, {
    hint: 'a backup file is never overwritten: move that one away, or retry in a second',
  });
}

/**
 * Writes `text` to `file` (mode 0600) under a temporary name first, so a reader sees all of it or
 * nothing; an existing `file` is never overwritten (EEXIST is an OperationError).
 */
export function writeNewFileAtomic(file: string, text: string): void {
  const tmp = partialPath(file);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, file);
  } catch (err) {
    throw new OperationError(`cannot create ${file}: ${(err as Error).message}`, {
      hint: 'a backup file is never overwritten: move that one away, or retry in a second',
    });
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** The size and sha256 (hex) of a local file, read as a stream. */
export async function fileSum(file: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest('hex') };
}
