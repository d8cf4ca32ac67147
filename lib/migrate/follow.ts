import type { Kubectl } from '../kubectl.ts';
import { type Started, forEachLine } from '../exec.ts';
import { abortableSleep } from '../time.ts';

export interface FollowOptions {
  /** Each line of the followed logs. */
  onLine: (line: string) => void;
  /** kubectl's own complaints (no pod yet, container waiting): for --verbose, the Job poll reports failures. */
  onDiagnostic?: (line: string) => void;
  /** Whether following is still worth it (the Job has not finished). */
  active: () => boolean;
  signal?: AbortSignal;
  /** Pause before following again after kubectl gave up (no pod running yet). */
  retryMs?: number;
}

/**
 * Follows `kubectl logs -f` while the object it reads is active. kubectl gives up when no pod runs
 * within its timeout (a pod still pulling or waiting for its database): then it starts again, as
 * long as nothing was printed yet, so the same lines are never shown twice.
 */
export class LogFollower {
  #child: Started | undefined;
  #stopped = false;
  #printed = 0;
  readonly done: Promise<void>;

  constructor(
    readonly kubectl: Kubectl,
    readonly args: string[],
    readonly opts: FollowOptions,
  ) {
    this.done = this.#loop();
  }

  /** Lines printed so far. */
  get printed(): number {
    return this.#printed;
  }

  async #loop(): Promise<void> {
    while (!this.#stopped) {
      const child = this.kubectl.start(this.args);
      this.#child = child;
      const count = (line: string): void => {
        this.#printed++;
        this.opts.onLine(line);
      };
      const diagnose = (line: string): void => this.opts.onDiagnostic?.(line);
      await Promise.all([
        forEachLine(child.stdout, count),
        forEachLine(child.stderr, diagnose),
        child.exited,
      ]);
      if (this.#stopped || this.#printed > 0 || !this.opts.active()) return;
      try {
        await abortableSleep(this.opts.retryMs ?? 2000, this.opts.signal);
      } catch {
        return;
      }
    }
  }

  /** Lets the follower print what is still in flight (up to `graceMs`), then stops it by pid. */
  async stop(graceMs = 3000): Promise<void> {
    const finished = await Promise.race([
      this.done.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), graceMs).unref()),
    ]);
    this.#stopped = true;
    if (!finished) await this.#child?.stop();
    await this.done;
  }
}
