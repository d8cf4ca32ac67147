import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { backupPath, backupThrough } from '../../lib/backups.ts';
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
});
