import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isAlive, runningForwardOf, stopBackground } from '../../lib/forward-background.ts';
import { detachPaths, isDetachedForward, pidFilesOf, readPidFile } from '../../lib/forward-background.ts';

const dirs: string[] = [];
const pids: number[] = [];
afterEach(() => {
  for (const p of pids.splice(0)) if (isAlive(p)) process.kill(p, 'SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'tf-detach-'));
  dirs.push(d);
  return d;
}

/** A process whose command line looks like a detached port-forward (the marker is an argument). */
function fakeDetached(): number {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'port-forward-all'], {
    stdio: 'ignore',
  });
  pids.push(child.pid!);
  return child.pid!;
}

describe('background run files', () => {
  it('names the whole set and each subset apart, per namespace', () => {
    expect(detachPaths('/w/.taskflow', 'tf')).toEqual({
      pidFile: '/w/.taskflow/port-forward-tf.pid',
      logFile: '/w/.taskflow/port-forward-tf.log',
      stateFile: '/w/.taskflow/port-forward-tf.state.json',
    });
    expect(detachPaths('/w', 'tf', ['sso', 'pgadmin']).pidFile).toBe('/w/port-forward-tf@pgadmin,sso.pid');
    const d = tmp();
    for (const f of [
      'port-forward-tf.pid',
      'port-forward-tf@pgadmin.pid',
      'port-forward-tf-2.pid',
      'port-forward-tf.log',
    ])
      writeFileSync(path.join(d, f), '1');
    expect(pidFilesOf(d, 'tf').map((f) => path.basename(f))).toEqual([
      'port-forward-tf.pid',
      'port-forward-tf@pgadmin.pid',
    ]);
  });

  it('signals only processes whose command line is a port-forward run', () => {
    expect(isDetachedForward(1, () => 'node\0scripts/port-forward-all.ts\0-n\0tf')).toBe(true);
    expect(isDetachedForward(1, () => 'kubectl\0port-forward\0svc/web')).toBe(false);
    expect(isDetachedForward(1, () => undefined)).toBe(false);
  });
});

describe('the running background port-forward a new run would clash with', () => {
  it.each([
    // [pid files that run, the new run's --only, the one found]
    [['port-forward-tf.pid'], undefined, 'port-forward-tf.pid'],
    [['port-forward-tf.pid'], ['web'], 'port-forward-tf.pid'],
    [['port-forward-tf@web.pid'], ['web'], 'port-forward-tf@web.pid'],
    [['port-forward-tf@web.pid'], ['api', 'web'], 'port-forward-tf@web.pid'],
    [['port-forward-tf@web.pid'], undefined, 'port-forward-tf@web.pid'],
    [['port-forward-tf@pgadmin.pid'], ['web'], undefined],
    [['port-forward-other.pid'], undefined, undefined],
  ] as const)('%j, --only %j -> %s', (files, only, found) => {
    const d = tmp();
    const pids = new Map<string, number>();
    for (const f of files) {
      const pid = fakeDetached();
      pids.set(f, pid);
      writeFileSync(path.join(d, f), `${pid}\n`);
    }
    const run = runningForwardOf('tf', only, d);
    expect(run?.pid).toBe(found === undefined ? undefined : pids.get(found));
  });

  it('ignores a pid file whose process is gone', () => {
    const d = tmp();
    writeFileSync(path.join(d, 'port-forward-tf.pid'), '999999\n');
    expect(runningForwardOf('tf', undefined, d)).toBeUndefined();
  });
});

describe('--stop', () => {
  it('ends the process of the pid file by its pid and removes the file', async () => {
    const d = tmp();
    const pid = fakeDetached();
    await expect.poll(() => isDetachedForward(pid)).toBe(true);
    const { pidFile } = detachPaths(d, 'tf');
    writeFileSync(pidFile, `${pid}\n`);
    expect(readPidFile(pidFile)).toBe(pid);
    const stopped = await stopBackground('tf', { dir: d });
    expect(stopped).toEqual([{ pid, pidFile, signalled: true }]);
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(pidFile)).toBe(false);
  });

  it('never signals a pid that is not ours: a stale file is only removed', async () => {
    const d = tmp();
    const { pidFile } = detachPaths(d, 'tf', ['pgadmin']);
    writeFileSync(pidFile, `${process.pid}\n`);
    const stopped = await stopBackground('tf', { dir: d, only: ['pgadmin'] });
    expect(stopped).toEqual([{ pid: process.pid, pidFile, signalled: false }]);
    expect(existsSync(pidFile)).toBe(false);
  });

  it('with nothing running reports nothing and fails nothing', async () => {
    expect(await stopBackground('tf', { dir: tmp() })).toEqual([]);
    expect(await stopBackground('tf', { dir: path.join(tmp(), 'missing') })).toEqual([]);
  });
});
