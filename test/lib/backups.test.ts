import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  backupPath,
  backupThrough,
  backupWithSum,
  fileSum,
  partialPath,
  writeNewFileAtomic,
} from '../../lib/backups.ts';
import { OperationError } from '../../lib/errors.ts';
import { testSession } from '../support/command-context.ts';
import { FakeRunner } from '../support/fake-runner.ts';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

/** A session whose every started kubectl (the exec) plays `reply`, and a fresh folder for the backup. */
function setup(reply: { stdout?: string; stderr?: string; exitCode?: number }) {
  const runner = new FakeRunner(undefined, () => reply);
  const s = testSession(runner);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tf-backup-'));
  cleanups.push(s.cleanup, () => rmSync(dir, { recursive: true, force: true }));
  return { kubectl: s.session.kubectl, runner, dir };
}

const args = ['exec', 'deploy/tool', '-c', 'tool', '--', 'tar', '-C', '/data', '-cf', '-', '.'];

describe('backups through the cluster', () => {
  it('names a backup by what and when, without colons', () => {
    expect(backupPath('/b', 'tf-addon-tool-data', new Date('2025-03-04T05:06:07.891Z'), '.tar')).toBe(
      '/b/tf-addon-tool-data-2025-03-04T05-06-07Z.tar',
    );
  });

  it('streams the exec output into a new file, mode 0600, creating the folder', async () => {
    const { kubectl, runner, dir } = setup({ stdout: 'tar bytes\u0000\u0001', exitCode: 0 });
    const file = path.join(dir, 'backups', 'one.tar');
    await expect(backupThrough(kubectl, args, file, 'backup of x', 'hint')).resolves.toBe(file);
    expect(readFileSync(file, 'utf8')).toBe('tar bytes\u0000\u0001');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(runner.children[0]?.args).toEqual(args);
  });

  it('a failing exec leaves no file and says why, with the hint', async () => {
    const { kubectl, dir } = setup({ stdout: 'partial', stderr: 'sh: tar: not found\nmore', exitCode: 127 });
    const file = path.join(dir, 'x.tar');
    const err = (await backupThrough(kubectl, args, file, 'backup of x', 'try --no-backup').catch(
      (e: unknown) => e,
    )) as OperationError;
    expect(err).toBeInstanceOf(OperationError);
    expect([err.message, err.hint]).toEqual(['backup of x failed: sh: tar: not found', 'try --no-backup']);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('never overwrites, nor removes, a file that is there (a regression: a failure used to delete it)', async () => {
    const { kubectl, runner, dir } = setup({ stdout: 'new', exitCode: 0 });
    const file = path.join(dir, 'x.tar');
    writeFileSync(file, 'old');
    await expect(backupThrough(kubectl, args, file, 'backup of x', 'h')).rejects.toThrow(
      /backup of x: cannot create .*EEXIST/,
    );
    expect(readFileSync(file, 'utf8')).toBe('old');
    expect(runner.children).toEqual([]); // refused before the exec started
  });

  it('writes under a temporary name in the same folder and takes the real name only once verified, with size and sha256', async () => {
    const { kubectl, dir } = setup({ stdout: 'PGDMP dump bytes', exitCode: 0 });
    const file = path.join(dir, 'db.dump');
    const seen: { tmp: string; final: boolean; content: string; bytes: number }[] = [];
    const written = await backupWithSum(kubectl, args, file, 'backup of x', 'h', {
      verify: async (tmp, w) => {
        seen.push({ tmp, final: existsSync(file), content: readFileSync(tmp, 'utf8'), bytes: w.bytes });
      },
    });
    // while it was checked, a reader of the folder saw no file by the real name
    expect(seen).toEqual([{ tmp: partialPath(file), final: false, content: 'PGDMP dump bytes', bytes: 16 }]);
    expect(path.dirname(partialPath(file))).toBe(dir);
    expect(path.basename(partialPath(file))).toMatch(/^\.db\.dump\.\d+\.partial$/);
    expect(written).toEqual({
      file,
      bytes: 16,
      sha256: createHash('sha256').update('PGDMP dump bytes').digest('hex'),
    });
    expect(await fileSum(file)).toEqual({ bytes: 16, sha256: written.sha256 });
    expect(readdirSync(dir)).toEqual(['db.dump']); // the temporary name is gone
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('a failed verification leaves nothing behind, not even the temporary file', async () => {
    const { kubectl, dir } = setup({ stdout: 'garbage', exitCode: 0 });
    const file = path.join(dir, 'db.dump');
    await expect(
      backupWithSum(kubectl, args, file, 'backup of x', 'h', {
        verify: () => Promise.reject(new OperationError('pg_restore cannot read the dump')),
      }),
    ).rejects.toThrow('pg_restore cannot read the dump');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a failing exec leaves no temporary file either', async () => {
    const { kubectl, dir } = setup({
      stdout: 'half',
      stderr: 'pg_dump: error: connection failed',
      exitCode: 1,
    });
    await expect(backupWithSum(kubectl, args, path.join(dir, 'x.dump'), 'backup of x', 'h')).rejects.toThrow(
      'backup of x failed: pg_dump: error: connection failed',
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it('writes a small file atomically, mode 0600, never over one that is there', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tf-backup-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'x.dump.json');
    writeNewFileAtomic(file, '{"a":1}\n');
    expect(readFileSync(file, 'utf8')).toBe('{"a":1}\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(() => writeNewFileAtomic(file, 'other')).toThrow(/cannot create .*EEXIST/);
    expect(readFileSync(file, 'utf8')).toBe('{"a":1}\n');
    expect(readdirSync(dir)).toEqual(['x.dump.json']);
  });
});
