/**
 * Noticing that the process which started this one went away: npm killed with SIGKILL, npm ended by a
 * SIGHUP it does not pass on (a closed terminal, `kill -HUP <npm>`), a CI runner or an editor that
 * stopped its child. Nothing tells a process that its parent died, so it is asked every second.
 *
 * On Linux and macOS an orphan is adopted at once (by init, launchd or a subreaper), so its parent pid
 * changes: that is the sign, and it cannot be fooled by a new process reusing the old pid. Windows
 * keeps the parent pid of a process for its whole life, so there the parent's pid is asked whether it
 * still runs.
 */

/** How often the parent is asked for: "within a few seconds" of its death. */
export const PARENT_POLL_MS = 1_000;

export interface ParentWatchOptions {
  intervalMs?: number;
  platform?: NodeJS.Platform;
  /** This process's parent pid now (injected for tests). */
  ppid?: () => number;
  /** Whether a pid runs (Windows' test; injected for tests). */
  alive?: (pid: number) => boolean;
}

function pidRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Calls `onGone(parentPid)` once, soon after this process's parent ends; returns the function that stops
 * watching. A process started by pid 1 (a container's entry) has no parent to lose: nothing is watched.
 * The timer never keeps the process alive on its own.
 */
export function watchParent(onGone: (parentPid: number) => void, opts: ParentWatchOptions = {}): () => void {
  const ppid = opts.ppid ?? ((): number => process.ppid);
  const first = ppid();
  if (first <= 1) return () => undefined;
  const alive = opts.alive ?? pidRuns;
  const gone =
    (opts.platform ?? process.platform) === 'win32'
      ? (): boolean => !alive(first)
      : (): boolean => ppid() !== first;
  const timer = setInterval(() => {
    if (!gone()) return;
    clearInterval(timer);
    onGone(first);
  }, opts.intervalMs ?? PARENT_POLL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
