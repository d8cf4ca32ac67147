import { PassThrough } from 'node:stream';
import { type RunOptions, type RunResult, Runner, type Started } from '../../lib/exec.ts';
import { Secret } from '../../lib/secrets.ts';

export interface Recorded {
  argv: string[];
  stdin?: string;
  started?: boolean;
}

export type Reply = Partial<Pick<RunResult, 'exitCode' | 'stdout' | 'stderr'>>;
/** A long-running child's scripted life: its output, exit code, and how long it runs. */
export type StartReply = Reply & { afterMs?: number };

/** Tool argv without the binary and the leading --context/--namespace pair. */
export function verb(argv: string[]): string[] {
  const out = argv.slice(1);
  while (out[0] === '--context' || out[0] === '--namespace') out.splice(0, 2);
  return out;
}

/**
 * A runner that starts nothing: every call (run and start) is recorded with its stdin and answered by
 * the handlers, which see argv without the binary and target flags.
 */
export class FakeRunner extends Runner {
  readonly recorded: Recorded[] = [];
  stopped = 0;
  constructor(
    readonly reply: (args: string[], stdin: string | undefined, argv: string[]) => Reply | Promise<Reply>,
    readonly startReply: (args: string[]) => StartReply = () => ({}),
  ) {
    super();
  }

  override async run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
    const stdin = stdinText(opts);
    this.recorded.push({ argv, ...(stdin !== undefined && { stdin }) });
    this.calls.push({ argv, startedAt: Date.now() });
    const r = await this.reply(verb(argv), stdin, argv);
    return { argv, exitCode: r.exitCode ?? 0, stdout: r.stdout ?? '', stderr: r.stderr ?? '', durationMs: 0 };
  }

  override start(argv: string[], opts: RunOptions = {}): Started {
    const stdin = stdinText(opts);
    this.recorded.push({ argv, started: true, ...(stdin !== undefined && { stdin }) });
    this.calls.push({ argv, startedAt: Date.now() });
    const r = this.startReply(verb(argv));
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let finish: (code: number | null) => void = () => undefined;
    const exited = new Promise<number | null>((resolve) => (finish = resolve));
    const end = (code: number | null): void => {
      stdout.end();
      stderr.end();
      finish(code);
    };
    stdout.write(r.stdout ?? '');
    stderr.write(r.stderr ?? '');
    const timer = setTimeout(() => end(r.exitCode ?? 0), r.afterMs ?? 0);
    return {
      argv,
      pid: 1_000_000 + this.recorded.length,
      stdout,
      stderr,
      exited,
      stop: async () => {
        this.stopped++;
        clearTimeout(timer);
        end(null);
        await exited;
      },
    };
  }

  /** Every argv recorded so far, joined, to search for values that must never be there. */
  argvText(): string {
    return this.recorded.map((r) => r.argv.join(' ')).join('\n');
  }

  /** Recorded calls whose verb starts with these words. */
  find(...words: string[]): Recorded[] {
    return this.recorded.filter((r) => words.every((w, i) => verb(r.argv)[i] === w));
  }
}

function stdinText(opts: RunOptions): string | undefined {
  if (opts.stdin === undefined) return undefined;
  return opts.stdin instanceof Secret ? opts.stdin.reveal() : String(opts.stdin);
}

export const json = (doc: unknown): Reply => ({ stdout: JSON.stringify(doc) });
export const list = (items: unknown[]): Reply => json({ apiVersion: 'v1', kind: 'List', items });
export const notFound = (what: string): Reply => ({
  exitCode: 1,
  stderr: `Error from server (NotFound): ${what} not found`,
});

/** A Logger-compatible sink capturing every line. */
export function captureOut(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let buf = '';
  stream.on('data', (d: Buffer) => (buf += d.toString()));
  return { stream, text: () => buf };
}
