import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { watchParent } from '../../lib/parent-watch.ts';
import { repoRoot } from '../support/tools.ts';

describe('watchParent', () => {
  it('Linux and macOS: the parent pid changing (the orphan adopted) is the sign, once', () => {
    vi.useFakeTimers();
    try {
      let ppid = 4242;
      const gone = vi.fn();
      const alive = vi.fn(() => true);
      watchParent(gone, { ppid: () => ppid, alive, platform: 'linux', intervalMs: 1000 });
      vi.advanceTimersByTime(5000);
      expect(gone).not.toHaveBeenCalled();
      ppid = 1;
      vi.advanceTimersByTime(1000);
      expect(gone).toHaveBeenCalledExactlyOnceWith(4242);
      // a subreaper adopting it later changes nothing: told once
      ppid = 77;
      vi.advanceTimersByTime(5000);
      expect(gone).toHaveBeenCalledTimes(1);
      // the pid is never asked on POSIX (a new process may have it)
      expect(alive).not.toHaveBeenCalled();
    } finally {
      vi.useRealTimers();
    }
  });

  it('Windows keeps the parent pid: there the pid is asked whether it still runs', () => {
    vi.useFakeTimers();
    try {
      let runs = true;
      const gone = vi.fn();
      watchParent(gone, { ppid: () => 900, alive: (pid) => pid === 900 && runs, platform: 'win32' });
      vi.advanceTimersByTime(3000);
      expect(gone).not.toHaveBeenCalled();
      runs = false;
      vi.advanceTimersByTime(1000);
      expect(gone).toHaveBeenCalledExactlyOnceWith(900);
    } finally {
      vi.useRealTimers();
    }
  });

  it('started by pid 1 (a container entry) or stopped: nothing is watched', () => {
    vi.useFakeTimers();
    try {
      const gone = vi.fn();
      let ppid = 1;
      watchParent(gone, { ppid: () => ppid, platform: 'linux' });
      ppid = 5;
      vi.advanceTimersByTime(5000);
      let other = 10;
      const stop = watchParent(gone, { ppid: () => other, platform: 'linux' });
      stop();
      other = 1;
      vi.advanceTimersByTime(5000);
      expect(gone).not.toHaveBeenCalled();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('the npm scripts', () => {
  const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  it('every command starts with exec, so npm passes SIGINT and SIGTERM to the command itself', () => {
    const commands = Object.entries(pkg.scripts).filter(([, line]) => line.includes('scripts/run.mjs'));
    expect(commands.length).toBeGreaterThanOrEqual(13);
    for (const [name, line] of commands) expect(line, name).toMatch(/^exec node -- scripts\/run\.mjs \S+$/);
  });
  it('cmd.exe (Windows) finds exec.cmd, which runs the rest of the line and hands back its exit code', () => {
    const text = readFileSync(path.join(repoRoot, 'exec.cmd'), 'utf8');
    const lines = text.split('\r\n').filter((l) => l && !l.startsWith('@REM'));
    expect(lines).toEqual(['@%*', '@exit /b %ERRORLEVEL%']);
    expect(text.replace(/\r\n/g, '')).not.toContain('\n');
  });
});
