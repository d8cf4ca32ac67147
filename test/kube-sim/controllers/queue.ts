// A work queue for reconcilers: keys are deduplicated, run in batches off the current tick,
// retried shortly after conflicts, and delayed on request.
import { KubeSimError } from '../runtime.ts';

/** Runs `fn(key)` for queued keys, one batch per event-loop turn. */
export class WorkQueue {
  private readonly pending = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private scheduled = false;
  private stopped = false;

  constructor(
    private readonly fn: (key: string) => void,
    // A controller bug must not pass silently: tests would only see objects that never change.
    private readonly onError: (key: string, err: unknown) => void = (key, err) =>
      process.stderr.write(
        `[kube-sim] reconciling ${key} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      ),
  ) {}

  /** Queues a key to run soon. */
  add(key: string): void {
    if (this.stopped) return;
    this.pending.add(key);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.run());
    }
  }

  /** Queues a key after `ms` (an earlier request for the same key wins). */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    const existing = this.timers.get(key);
    if (existing) return;
    const t = setTimeout(
      () => {
        this.timers.delete(key);
        this.add(key);
      },
      Math.max(0, ms),
    );
    this.timers.set(key, t);
  }

  private run(): void {
    this.scheduled = false;
    if (this.stopped) return;
    const keys = [...this.pending];
    this.pending.clear();
    for (const key of keys) {
      try {
        this.fn(key);
      } catch (err) {
        const code = err instanceof KubeSimError ? err.statusCode : 0;
        // Conflicts and vanished objects are normal races between controllers: try again.
        if (code === 409 || code === 404) this.addAfter(key, 20);
        else this.onError(key, err);
      }
    }
  }

  /** Stops running and drops every pending and delayed key. */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.pending.clear();
  }
}
