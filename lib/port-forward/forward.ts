import { createInterface } from 'node:readline';
import type { Started } from '../exec.ts';
import { redact } from '../redact.ts';
import { Backoff } from './backoff.ts';
import { LOCAL_ADDRESS } from './ports.ts';

export type ForwardState = 'starting' | 'ready' | 'reconnecting' | 'failed' | 'stopped';

/** What the status table shows for one forward. */
export interface ForwardStatus {
  name: string;
  service: string;
  localPort: number;
  remotePort: number;
  url: string;
  state: ForwardState;
  /** Why it is not ready (the last kubectl message), or empty. */
  detail: string;
  restarts: number;
  /** When the state last changed (ms since epoch). */
  since: number;
}

/** The world one forward needs; tests pass fakes. */
export interface ForwardDeps {
  /** Starts `kubectl <args>` for the target namespace/context (Kubectl.start). */
  start(args: string[]): Started;
  /** Whether the local port answers (any HTTP response). */
  probe(port: number): Promise<boolean>;
  now(): number;
  /** Waits; resolves early when the signal aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  onChange(status: ForwardStatus): void;
  backoff?: Backoff;
  /** Probe interval while waiting for the first answer, and while ready. */
  probeMs?: { starting: number; ready: number };
  /** Consecutive failed probes of a ready forward that count as broken. */
  probeFailures?: number;
}

/** argv (after `kubectl`) of one forward: the Service, local:remote, loopback only. */
export function portForwardArgs(service: string, localPort: number, remotePort: number): string[] {
  return ['port-forward', `svc/${service}`, `${localPort}:${remotePort}`, '--address', LOCAL_ADDRESS];
}

type Outcome = { kind: 'lost' | 'fatal'; detail: string } | { kind: 'aborted' };

/** kubectl's message without klog's `E0101 12:00:00.000000   123 file.go:1] ` prefix. */
export function cleanMessage(line: string): string {
  const text = line.replace(/^[EIWF]\d{4} [\d:.]+\s+\d+ [\w.-]+:\d+\]\s*/, '');
  // Structured klog lines: `"Unhandled Error" err="<the message>"`.
  const inner = /\berr="(.*)"\s*$/.exec(text)?.[1]?.replace(/\\"/g, '"');
  return redact((inner ?? text).replace(/^error: /, '').trim());
}

// The stream to the pod is gone (pod deleted or restarted): kubectl exits; always restart.
const LOST = /lost connection to pod/i;
// One connection through the forward failed: the pod may be gone, or its app not listening yet.
const CONNECTION = /error forwarding port|an error occurred forwarding|connection reset by peer/i;
const FATAL: [RegExp, (m: RegExpExecArray) => string][] = [
  [/unable to listen on any of the requested ports|address already in use/i, () => 'local port is taken'],
  [/services? "([^"]+)" not found/i, (m) => `service ${m[1]} not found`],
  [/forbidden/i, () => 'not allowed to port-forward in this namespace'],
];

export type StderrKind = 'lost' | 'connection' | 'fatal';

/**
 * Sorts one line of kubectl's stderr: the pod connection is lost (restart), one forwarded connection
 * failed (restart only if the forward was serving), or a failure a restart cannot fix.
 */
export function classifyStderr(line: string): { kind: StderrKind; detail: string } | undefined {
  const detail = cleanMessage(line);
  for (const [re, say] of FATAL) {
    const m = re.exec(line);
    if (m) return { kind: 'fatal', detail: `${say(m)}: ${detail}` };
  }
  if (LOST.test(line)) return { kind: 'lost', detail };
  if (CONNECTION.test(line)) return { kind: 'connection', detail };
  return undefined;
}

/**
 * One supervised `kubectl port-forward`: restarted with back-off when it exits or reports a lost
 * connection, probed over HTTP, its state reported on every change. Ends when the signal aborts
 * (state `stopped`) or on a failure no restart fixes (state `failed`).
 */
export class SupervisedForward {
  readonly status: ForwardStatus;
  readonly #deps: ForwardDeps;
  readonly #backoff: Backoff;

  constructor(
    target: { name: string; service: string; localPort: number; remotePort: number },
    deps: ForwardDeps,
  ) {
    this.#deps = deps;
    this.#backoff = deps.backoff ?? new Backoff();
    this.status = {
      ...target,
      url: `http://localhost:${target.localPort}`,
      state: 'starting',
      detail: '',
      restarts: 0,
      since: deps.now(),
    };
  }

  /** Runs until the signal aborts or the forward fails for good; returns the last status. */
  async run(signal: AbortSignal): Promise<ForwardStatus> {
    this.#deps.onChange({ ...this.status });
    for (;;) {
      const outcome = await this.#attempt(signal);
      if (outcome.kind === 'aborted' || signal.aborted) {
        this.#set('stopped', '');
        return this.status;
      }
      if (outcome.kind === 'fatal') {
        this.#set('failed', outcome.detail);
        return this.status;
      }
      const delay = this.#backoff.failed(this.#deps.now());
      this.status.restarts++;
      this.#set('reconnecting', `${outcome.detail}; restarting in ${formatMs(delay)}`);
      await this.#deps.sleep(delay, signal);
      if (signal.aborted) {
        this.#set('stopped', '');
        return this.status;
      }
    }
  }

  #set(state: ForwardState, detail: string): void {
    if (state === this.status.state && detail === this.status.detail) return;
    if (state !== this.status.state) this.status.since = this.#deps.now();
    this.status.state = state;
    this.status.detail = detail;
    this.#deps.onChange({ ...this.status });
  }

  /** One kubectl process, from start to the first sign that it must be replaced. */
  async #attempt(signal: AbortSignal): Promise<Outcome> {
    const d = this.#deps;
    const { service, localPort, remotePort } = this.status;
    const child = d.start(portForwardArgs(service, localPort, remotePort));
    const readers = [createInterface({ input: child.stdout }), createInterface({ input: child.stderr })];
    let lastError = '';
    let finish: (o: Outcome) => void = () => undefined;
    const outcome = new Promise<Outcome>((resolve) => (finish = resolve));
    let over = false;
    outcome.then(() => (over = true)).catch(() => undefined);

    const probeLoop = async (): Promise<void> => {
      let failures = 0;
      while (!over) {
        const ok = await d.probe(localPort);
        if (over) return;
        if (ok) {
          failures = 0;
          this.#backoff.healthy(d.now());
          this.#set('ready', '');
        } else if (this.status.state === 'ready' && ++failures >= (d.probeFailures ?? 2)) {
          return finish({ kind: 'lost', detail: 'the local port stopped answering' });
        }
        const ms = this.status.state === 'ready' ? (d.probeMs?.ready ?? 5000) : (d.probeMs?.starting ?? 100);
        await d.sleep(ms, signal);
      }
    };

    let probing = false;
    readers[0]?.on('line', (line: string) => {
      if (!probing && /Forwarding from/.test(line)) {
        probing = true;
        void probeLoop();
      }
    });
    readers[1]?.on('line', (line: string) => {
      if (line.trim()) lastError = cleanMessage(line);
      const c = classifyStderr(line);
      if (!c) return;
      if (c.kind !== 'connection') return finish({ kind: c.kind, detail: c.detail });
      // Before the first answer a failed connection is the app still starting (our own probe hit it):
      // restarting would only add back-off. Once serving, it means the pod behind the forward changed.
      if (this.status.state === 'ready') finish({ kind: 'lost', detail: c.detail });
      else this.#set(this.status.state, c.detail);
    });
    void child.exited.then((code) =>
      // Let the last stderr lines (read on the same tick as the exit) be classified first.
      setImmediate(() => {
        const c = lastError ? classifyStderr(lastError) : undefined;
        if (c?.kind === 'fatal') return finish({ kind: 'fatal', detail: c.detail });
        finish({ kind: 'lost', detail: lastError || `kubectl exited (code ${code ?? 'signal'})` });
      }),
    );
    const onAbort = (): void => finish({ kind: 'aborted' });
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();

    const result = await outcome;
    signal.removeEventListener('abort', onAbort);
    for (const r of readers) r.close();
    await child.stop();
    return result;
  }
}

/** 250 ms, 1.5 s, 10 s. */
export function formatMs(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Number((ms / 1000).toFixed(1))} s`;
}
