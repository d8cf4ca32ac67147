/** Restart delays: 250 ms doubling to 10 s; a minute of health starts again from 250 ms. */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  resetAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 250, maxMs: 10_000, resetAfterMs: 60_000 };

/** The restart delay of one forward: grows with each failure, resets after a healthy stretch. */
export class Backoff {
  #attempt = 0;
  #healthySince: number | undefined;

  constructor(readonly policy: BackoffPolicy = DEFAULT_BACKOFF) {}

  /** The forward serves since `now` (later calls keep the first instant). */
  healthy(now: number): void {
    this.#healthySince ??= now;
  }

  /** The forward broke at `now`: the delay before the next start. */
  failed(now: number): number {
    const since = this.#healthySince;
    if (since !== undefined && now - since >= this.policy.resetAfterMs) this.#attempt = 0;
    this.#healthySince = undefined;
    const delay = Math.min(this.policy.initialMs * 2 ** this.#attempt, this.policy.maxMs);
    if (delay < this.policy.maxMs) this.#attempt++;
    return delay;
  }
}
