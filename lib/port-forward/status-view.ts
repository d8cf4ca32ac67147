import type { ForwardState, ForwardStatus } from './forward.ts';

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
