import type { ForwardState, ForwardStatus } from './forward-targets.ts';
export type { ForwardState, ForwardStatus } from './forward-targets.ts';
import http from 'node:http';
import { createInterface } from 'node:readline';
import type { Started } from './exec.ts';
import { redact } from './redact.ts';
import { LOCAL_ADDRESS, type PortAssignment } from './forward-targets.ts';
import { rmSync } from 'node:fs';
import type { CommandContext } from './cli.ts';
import { ExitCode, OperationError } from './errors.ts';
import type { Kubectl } from './kubectl.ts';
import { isInteractive, printJson } from './log.ts';
import { brief } from './forward-background.ts';
import { PIDFILE_ENV, STATE_ENV, readPidFile, writeAtomic } from './forward-background.ts';

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

/** Whether something answers HTTP on a local port: any response, whatever its status, counts. */
export function probeHttp(port: number, host = '127.0.0.1', timeoutMs = 3000): Promise<boolean> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      resolve(ok);
    };
    // A fresh connection each time (no agent): a pooled socket could outlive the forward it went through.
    const req = http.get({ host, port, path: '/', agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.destroy();
      done(true);
    });
    req.on('timeout', () => {
      req.destroy();
      done(false);
    });
    req.on('error', () => done(false));
  });
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

const MARK: Record<ForwardState, string> = {
  starting: '…',
  ready: '✓',
  reconnecting: '↻',
  failed: '✗',
  stopped: '-',
};

/** The status table: one row per forward (pure; the view decides how to draw it). */
export function renderTable(rows: readonly ForwardStatus[]): string[] {
  const cells = rows.map((r) => [
    r.name,
    r.url,
    `svc/${r.service}:${r.remotePort}`,
    `${MARK[r.state]} ${r.state}`,
    r.restarts > 0 ? String(r.restarts) : '',
    r.detail,
  ]);
  const head = ['NAME', 'URL', 'TARGET', 'STATE', 'RESTARTS', 'DETAIL'];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: string[]): string =>
    c
      .map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(head), ...cells.map(line)];
}

/** One log line for a state change: `12:00:01 web http://localhost:3000 ready`. */
export function changeLine(s: ForwardStatus, now: Date): string {
  const time = now.toTimeString().slice(0, 8);
  return `${time} ${s.name} ${s.url} ${s.state}${s.detail ? `: ${s.detail}` : ''}`;
}

/**
 * Shows forward states: on a terminal the table is redrawn in place; elsewhere (CI, a log file, a pipe)
 * each change is one line, so the output reads as a log.
 */
export class StatusView {
  readonly #rows = new Map<string, ForwardStatus>();
  #drawn = 0;

  constructor(
    private readonly opts: {
      write: (text: string) => void;
      interactive: boolean;
      now?: () => Date;
    },
  ) {}

  /** Records a forward's new status and draws it. */
  update(s: ForwardStatus): void {
    const before = this.#rows.get(s.name);
    this.#rows.set(s.name, { ...s });
    if (this.opts.interactive) return this.#redraw();
    if (before && before.state === s.state && before.detail === s.detail) return;
    this.opts.write(`${changeLine(s, (this.opts.now ?? (() => new Date()))())}\n`);
  }

  /** A line under the table (on a terminal it stays under the redrawn table; elsewhere it is printed once). */
  note(text: string): void {
    if (!this.opts.interactive) return this.opts.write(`${text}\n`);
    this.#footer = text;
    this.#redraw();
  }
  #footer = '';

  /** Every forward's latest status. */
  get rows(): ForwardStatus[] {
    return [...this.#rows.values()];
  }

  #redraw(): void {
    const lines = [...renderTable(this.rows), ...(this.#footer ? [this.#footer] : [])];
    // Cursor up over the previous table, clear to the end of the screen, draw again.
    const up = this.#drawn > 0 ? `\u001b[${this.#drawn}A\u001b[0J` : '';
    this.opts.write(`${up}${lines.join('\n')}\n`);
    this.#drawn = lines.length;
  }
}

/** A sleep that resolves early (not rejects) when the signal aborts. */
export function sleepUntil(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Says which forwards moved off a taken port, and who holds it. */
export function reportMoves(ctx: CommandContext, assignments: readonly PortAssignment[]): void {
  for (const a of assignments) {
    if (!a.moved) continue;
    ctx.log.warn(
      `${a.target.name}: local port ${a.moved.from} is in use by ${a.moved.holder}; using ${a.localPort}`,
    );
  }
}

export interface SuperviseOptions {
  json: boolean;
  /** the kube context forwarded from, carried by --json */
  context?: string | null;
  /** For tests: replace the world of each forward (start, probe, clock). */
  deps?: Partial<ForwardDeps>;
  /** Called once every forward is ready or failed for the first time. */
  onSettled?: (forwards: ForwardStatus[]) => void;
}

/**
 * Runs every forward until Ctrl+C: a live status table (or a line per change without a terminal),
 * a JSON document once all have settled with --json, and the state file of a detached run.
 * Returns 130 when interrupted; throws (exit 1) when every forward failed.
 */
export async function superviseForwards(
  kubectl: Kubectl,
  assignments: readonly PortAssignment[],
  ctx: CommandContext,
  opts: SuperviseOptions,
): Promise<number> {
  const stateFile = ctx.env[STATE_ENV];
  const pidFile = ctx.env[PIDFILE_ENV];
  reportMoves(ctx, assignments);
  const view = new StatusView({
    write: (t) => ctx.log.raw(t),
    interactive: !opts.json && isInteractive(ctx.stdout, ctx.env),
  });
  let settled = false;
  const onChange = (s: ForwardStatus): void => {
    // After Ctrl+C the terminal belongs to the shutdown messages: no more redraws.
    if (ctx.signal.aborted) return;
    view.update(s);
    const rows = view.rows;
    if (stateFile) writeAtomic(stateFile, JSON.stringify({ pid: process.pid, forwards: rows }));
    if (settled || rows.length < assignments.length) return;
    if (!rows.every((r) => r.state === 'ready' || r.state === 'failed')) return;
    settled = true;
    opts.onSettled?.(rows);
    if (opts.json) {
      const ok = rows.every((r) => r.state === 'ready');
      printJson(
        {
          ok,
          context: opts.context ?? kubectl.target.context ?? null,
          namespace: kubectl.target.namespace,
          forwards: brief(rows),
        },
        ctx.stdout,
      );
    } else if (rows.some((r) => r.state === 'ready')) {
      view.note('Forwarding; the forwards restart on their own. Press Ctrl+C to stop.');
    }
  };
  const deps: ForwardDeps = {
    start: (args) => kubectl.start(args),
    probe: (port) => probeHttp(port),
    now: Date.now,
    sleep: sleepUntil,
    onChange,
    ...opts.deps,
  };
  const forwards = assignments.map(
    (a) =>
      new SupervisedForward(
        {
          name: a.target.name,
          service: a.target.service,
          localPort: a.localPort,
          remotePort: a.target.remotePort,
        },
        { ...deps, onChange },
      ),
  );
  let results: ForwardStatus[];
  try {
    results = await Promise.all(forwards.map((f) => f.run(ctx.signal)));
  } finally {
    if (stateFile) rmSync(stateFile, { force: true });
    // A detached run removes its own pid file, unless a newer run has taken it over.
    if (pidFile && readPidFile(pidFile) === process.pid) rmSync(pidFile, { force: true });
  }
  if (ctx.signal.aborted) {
    ctx.log.info(`stopped ${forwards.length} port-forward(s)`);
    return ExitCode.Interrupted;
  }
  const failed = results.filter((r) => r.state === 'failed');
  const first = failed[0];
  throw new OperationError(
    failed.length === 1 && first
      ? `${first.name}: ${first.detail}`
      : `every port-forward failed: ${failed.map((f) => `${f.name}: ${f.detail}`).join('; ')}`,
    {
      hint: 'fix the cause above, then run npm run port-forward again (npm run doctor diagnoses the release)',
    },
  );
}
