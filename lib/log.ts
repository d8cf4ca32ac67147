import type chalk from 'chalk';
import { Chalk } from 'chalk';
import type { Ora, default as oraFn } from 'ora';
import { type Redactor, currentRedactor } from './redact.ts';

export interface LoggerOptions {
  /** Human output goes here; with --json it is stderr so stdout stays pure JSON. */
  out?: NodeJS.WritableStream;
  json?: boolean;
  verbose?: boolean;
  /** Spinners only on a TTY, never under CI. */
  interactive?: boolean;
  color?: boolean;
  /** The run's secrets to mask; else those of the run the printing code belongs to. */
  redactor?: Redactor;
}

/** Whether spinners and colours suit this stream: a TTY, not CI, colour not disabled. */
export function isInteractive(stream: NodeJS.WritableStream, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean((stream as NodeJS.WriteStream).isTTY) && !env.CI;
}

/**
 * The suite's only printer. Library code reports through it; every line passes
 * through the run's redactor, so a registered secret never reaches the terminal.
 */
export class Logger {
  readonly json: boolean;
  readonly verbose: boolean;
  readonly #out: NodeJS.WritableStream;
  readonly #interactive: boolean;
  readonly #c: typeof chalk;
  readonly #redactor: Redactor | undefined;
  #spinner: Ora | undefined;
  /** The spinner library, loaded only for a terminal (a pipe, CI or --json never pays its import). */
  #ora: typeof oraFn | undefined;
  /** What progress() was asked to show before the spinner library had loaded. */
  #pending: string | undefined;

  constructor(opts: LoggerOptions = {}) {
    this.json = opts.json ?? false;
    this.verbose = opts.verbose ?? false;
    this.#redactor = opts.redactor;
    this.#out = opts.out ?? (this.json ? process.stderr : process.stdout);
    this.#interactive = opts.interactive ?? isInteractive(this.#out);
    const color = opts.color ?? (this.#interactive && !process.env.NO_COLOR);
    this.#c = new Chalk({ level: color ? 1 : 0 });
    if (this.#interactive) {
      void import('ora').then(
        (m) => {
          this.#ora = m.default;
          if (this.#pending !== undefined) this.progress(this.#pending);
        },
        () => undefined, // no spinner then: progress stays pending until done()
      );
    }
  }

  get c(): typeof chalk {
    return this.#c;
  }

  info(msg: string): void {
    this.#line(msg);
  }
  step(msg: string): void {
    this.#line(`${this.#c.cyan('›')} ${msg}`);
  }
  success(msg: string): void {
    this.#line(`${this.#c.green('✓')} ${msg}`);
  }
  warn(msg: string): void {
    this.#line(`${this.#c.yellow('!')} ${msg}`);
  }
  error(msg: string): void {
    this.#line(`${this.#c.red('✗')} ${msg}`);
  }
  hint(msg: string): void {
    this.#line(`  ${this.#c.dim('hint:')} ${msg}`);
  }
  debug(msg: string): void {
    if (this.verbose) this.#line(this.#c.dim(msg));
  }
  /** Plain text without any prefix (tables, summaries). */
  raw(text: string): void {
    this.#write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** Shows progress: a spinner on a TTY, a plain line elsewhere (and only when the text changes). */
  progress(text: string): void {
    const t = this.#mask(text);
    if (this.#interactive) {
      this.#pending = undefined;
      if (this.#spinner) this.#spinner.text = t;
      else if (this.#ora)
        this.#spinner = this.#ora({ text: t, stream: this.#out as NodeJS.WriteStream }).start();
      else this.#pending = t;
    } else if (t !== this.#lastProgress) {
      this.#lastProgress = t;
      this.#write(`… ${t}\n`);
    }
  }
  #lastProgress = '';

  /** Ends the current progress display. */
  done(): void {
    this.#pending = undefined;
    this.#spinner?.stop();
    this.#spinner = undefined;
  }

  #mask(text: string): string {
    return (this.#redactor ?? currentRedactor())?.redact(text) ?? text;
  }
  #line(msg: string): void {
    this.#write(`${msg}\n`);
  }
  #write(text: string): void {
    const spinning = this.#spinner?.isSpinning;
    if (spinning) this.#spinner?.clear();
    this.#out.write(this.#mask(text));
    if (spinning) this.#spinner?.render();
  }
}

/** Writes the one JSON document of a --json run to stdout, secrets masked. */
export function printJson(
  doc: unknown,
  out: NodeJS.WritableStream = process.stdout,
  redactor: Redactor | undefined = currentRedactor(),
): void {
  const text = JSON.stringify(doc, null, 2);
  out.write(`${redactor ? redactor.redact(text) : text}\n`);
}
