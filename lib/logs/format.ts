import { Chalk, type ChalkInstance } from 'chalk';

/** One line of a container's log, as printed. */
export interface LogRecord {
  /** kubectl's --timestamps time (RFC 3339, nanoseconds); empty when it had none. */
  time: string;
  component: string;
  pod: string;
  container: string;
  line: string;
  /** Only on lines of a container's previous run (what `kubectl logs --previous` reads). */
  previous?: true;
}

/** Splits `kubectl logs --timestamps` output into its time and the line itself. */
export function splitTimestamp(raw: string): { time: string; line: string } {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) ?/.exec(raw);
  return m ? { time: m[1]!, line: raw.slice(m[0].length) } : { time: '', line: raw };
}

const PALETTE = [
  'cyan',
  'green',
  'yellow',
  'magenta',
  'blue',
  'redBright',
  'cyanBright',
  'greenBright',
  'yellowBright',
  'magentaBright',
  'blueBright',
] as const;
export type PaletteColour = (typeof PALETTE)[number];

/** The platform's own components get colours apart from each other; any other one a hash of its name. */
const PINNED: Readonly<Record<string, PaletteColour>> = {
  sso: 'cyan',
  api: 'green',
  mcp: 'yellow',
  web: 'magenta',
  'sso-postgres': 'blue',
  'api-postgres': 'greenBright',
  'sso-migrate': 'cyanBright',
  'api-migrate': 'yellowBright',
};

/** A component's colour: the same on every run (pinned for the platform's components, else a hash). */
export function colourOf(component: string): PaletteColour {
  const pinned = PINNED[component];
  if (pinned) return pinned;
  let h = 0x811c9dc5;
  for (let i = 0; i < component.length; i++) {
    h ^= component.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return PALETTE[h % PALETTE.length]!;
}

/** Whether lines get colours: a terminal, and NO_COLOR unset (https://no-color.org: any non-empty value). */
export function useColour(stream: NodeJS.WritableStream, env: NodeJS.ProcessEnv): boolean {
  return Boolean((stream as NodeJS.WriteStream).isTTY) && !env.NO_COLOR;
}

/** Turns records into the text of the stream: `prefix | line` (coloured) or one JSON object a line. */
export class LineFormatter {
  readonly #chalk: ChalkInstance;
  #width = 0;

  constructor(readonly opts: { json: boolean; colour: boolean }) {
    this.#chalk = new Chalk({ level: opts.colour ? 1 : 0 });
  }

  /** Makes room for a prefix so that the lines of every container start in one column. */
  reserve(prefix: string): void {
    this.#width = Math.max(this.#width, prefix.length);
  }

  /** One record, with its newline. */
  line(prefix: string, r: LogRecord): string {
    if (this.opts.json) return `${JSON.stringify(r)}\n`;
    this.reserve(prefix);
    return `${this.#chalk[colourOf(r.component)](prefix.padEnd(this.#width))} | ${r.line}\n`;
  }

  /** A note about the stream itself (a pod left): `prefix | -- text`, dimmed. */
  note(prefix: string, component: string, text: string): string {
    this.reserve(prefix);
    return `${this.#chalk[colourOf(component)](prefix.padEnd(this.#width))} | ${this.#chalk.dim(`-- ${text}`)}\n`;
  }
}
