// Faults of a flaky or restarting API server, injected into the simulated one: a share of requests
// answered 429/500/503 or their connection reset, added latency, watches closed early, 410 Gone on a
// re-watch, and an outage (every connection dropped, new ones refused) with every object and pod kept.
// The dice are seeded, so a failing run can be replayed; every fault is counted, so a test can prove
// it happened.
import type { IncomingMessage } from 'node:http';

/** The `api` section of a scenario. Every share is between 0 and 1; unset means none. */
export interface ApiFaults {
  /** Seed of the dice (default 1): the same seed and the same requests give the same faults. */
  seed?: number;
  /** Share of plain requests answered with one of `errorStatuses` (chosen by the dice). */
  errorRate?: number;
  /** The statuses of those answers. Default [429, 500, 503]. */
  errorStatuses?: number[];
  /** Retry-After of a 429, in seconds (default 1), as the API server's priority and fairness sends it. 5xx carry none. */
  retryAfterSeconds?: number;
  /** Share of plain requests whose connection is destroyed before any answer (a reset). */
  resetRate?: number;
  /** Milliseconds added before every request is served. */
  latencyMs?: number;
  /** Every watch ends after this many ms, cleanly, as a server's own watch timeout ends it. */
  watchCloseAfterMs?: number;
  /** Share of watches from a resourceVersion answered 410 Gone (the client must list again). */
  goneRate?: number;
  /**
   * Only requests whose path matches this regular expression meet errors and resets (default: all).
   * Upgrade requests (exec, port-forward) never do: an outage is what drops those.
   */
  paths?: string;
}

/** What was injected so far (and how many requests were seen). */
export interface FaultCounts {
  requests: number;
  /** Error answers by status. */
  errors: Record<string, number>;
  resets: number;
  delayed: number;
  watchesClosed: number;
  gone: number;
  /** Outages begun (restartApiServer, setApiDown). */
  outages: number;
  /** Connections refused or dropped by an outage. */
  dropped: number;
}

/** A small, fast, seedable PRNG (mulberry32): the dice of the faults. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What to do with one request. */
export type FaultDecision = { delayMs: number } & (
  { kind: 'serve' } | { kind: 'error'; status: number; retryAfter?: number } | { kind: 'reset' }
);

const MESSAGES: Record<number, [string, string]> = {
  429: ['TooManyRequests', 'the server has received too many requests and has asked us to try again later'],
  500: [
    'InternalError',
    'an error on the server ("injected fault") has prevented the request from succeeding',
  ],
  502: ['InternalError', 'bad gateway (injected fault)'],
  503: ['ServiceUnavailable', 'the server is currently unable to handle the request'],
  504: ['Timeout', 'the server was unable to return a response in the time allotted (injected fault)'],
};

/** The Status body of an injected error answer. */
export function faultStatus(status: number): Record<string, unknown> {
  const [reason, message] = MESSAGES[status] ?? ['InternalError', `injected fault ${status}`];
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code: status };
}

function check(f: ApiFaults): void {
  for (const k of ['errorRate', 'resetRate', 'goneRate'] as const) {
    const v = f[k];
    if (v !== undefined && !(v >= 0 && v <= 1))
      throw new Error(`scenario api.${k} must be between 0 and 1, not ${v}`);
  }
  if (f.errorRate !== undefined && f.resetRate !== undefined && f.errorRate + f.resetRate > 1) {
    throw new Error('scenario api.errorRate + api.resetRate must not exceed 1');
  }
  for (const s of f.errorStatuses ?? []) {
    if (!Number.isInteger(s) || s < 400 || s > 599)
      throw new Error(`scenario api.errorStatuses: ${s} is no error status`);
  }
  if (f.paths !== undefined) new RegExp(f.paths);
}

/** Checks the `api` section of a scenario (called when a scenario is loaded). */
export function checkApiFaults(f: ApiFaults | undefined): void {
  if (f) check(f);
}

/** The faults of one API server: decides per request from the scenario's current `api` section. */
export class FaultInjector {
  readonly counts: FaultCounts = {
    requests: 0,
    errors: {},
    resets: 0,
    delayed: 0,
    watchesClosed: 0,
    gone: 0,
    outages: 0,
    dropped: 0,
  };
  #dice = seeded(1);
  #seed: number | undefined;

  constructor(private readonly current: () => ApiFaults | undefined) {}

  #faults(): ApiFaults {
    const f = this.current() ?? {};
    const seed = f.seed ?? 1;
    if (seed !== this.#seed) {
      this.#seed = seed;
      this.#dice = seeded(seed);
    }
    return f;
  }

  /** The fate of a plain (not upgrade) request. */
  decide(req: IncomingMessage, path: string): FaultDecision {
    this.counts.requests++;
    const f = this.#faults();
    const delayMs = f.latencyMs ?? 0;
    if (delayMs > 0) this.counts.delayed++;
    const applies = f.paths === undefined || new RegExp(f.paths).test(path);
    void req;
    if (!applies || (!f.errorRate && !f.resetRate)) return { delayMs, kind: 'serve' };
    const roll = this.#dice();
    const errorRate = f.errorRate ?? 0;
    if (roll < errorRate) {
      const statuses = f.errorStatuses?.length ? f.errorStatuses : [429, 500, 503];
      const status = statuses[Math.floor(this.#dice() * statuses.length)] ?? 500;
      this.counts.errors[status] = (this.counts.errors[status] ?? 0) + 1;
      return status === 429
        ? { delayMs, kind: 'error', status, retryAfter: f.retryAfterSeconds ?? 1 }
        : { delayMs, kind: 'error', status };
    }
    if (roll < errorRate + (f.resetRate ?? 0)) {
      this.counts.resets++;
      return { delayMs, kind: 'reset' };
    }
    return { delayMs, kind: 'serve' };
  }

  /** How long a new watch may stay open before the server ends it (undefined: as long as the client wants). */
  watchLifetimeMs(): number | undefined {
    const ms = this.#faults().watchCloseAfterMs;
    return ms !== undefined && ms > 0 ? ms : undefined;
  }

  /** Counts a watch the server ended early. */
  watchClosed(): void {
    this.counts.watchesClosed++;
  }

  /** Whether a watch from a resourceVersion is answered 410 Gone. */
  rewatchGone(): boolean {
    const rate = this.#faults().goneRate ?? 0;
    if (rate <= 0 || this.#dice() >= rate) return false;
    this.counts.gone++;
    return true;
  }

  /** A copy of the counts (to send across threads, or to compare). */
  snapshot(): FaultCounts {
    return { ...this.counts, errors: { ...this.counts.errors } };
  }
}
