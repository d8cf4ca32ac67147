import { PassThrough } from 'node:stream';
import { Runner, type RunOptions, type RunResult, type Started } from '../../lib/exec.ts';
import { Secret } from '../../lib/secrets.ts';

/** What a fake call answers. */
export type Reply = Partial<Pick<RunResult, 'exitCode' | 'stdout' | 'stderr'>>;

/** A long-running child's scripted life: its output, exit code, and how long it runs. */
export type StartReply = Reply & { afterMs?: number };

/** One recorded call: the full argv, what went to stdin (a Secret revealed), and whether it was started. */
export interface Recorded {
  argv: string[];
  stdin?: string;
  started?: boolean;
}

/** Answers a `run` from its argv without the binary and target flags, and its stdin. */
export type ReplyFn = (args: string[], stdin: string | undefined) => Reply | Promise<Reply>;

/** Drives a started child: script it through its methods, or return its whole life as a StartReply. */
export type StartFn = (child: FakeChild) => StartReply | void;

/** Drops the leading --context/--namespace pairs kubectl calls carry, so replies match on the verb. */
export function withoutTarget(args: string[]): string[] {
  const out = [...args];
  while (out[0] === '--context' || out[0] === '--namespace') out.splice(0, 2);
  return out;
}

/** A long-running child that the test drives: write its output, make it exit. */
export class FakeChild implements Started {
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly exited: Promise<number | null>;
  stopped = false;
  #exit: (code: number | null) => void = () => undefined;
  #done = false;
  #timer: NodeJS.Timeout | undefined;
  constructor(
    readonly argv: string[],
    readonly pid: number,
  ) {
    this.exited = new Promise((r) => (this.#exit = r));
  }
  /** argv without the binary and target flags. */
  get args(): string[] {
    return withoutTarget(this.argv.slice(1));
  }
  out(line: string): void {
    this.stdout.write(`${line}\n`);
  }
  err(line: string): void {
    this.stderr.write(`${line}\n`);
  }
  /** Writes the reply's output as it is, then exits with its code after `afterMs`. */
  play(r: StartReply): void {
    this.stdout.write(r.stdout ?? '');
    this.stderr.write(r.stderr ?? '');
    this.#timer = setTimeout(() => this.exit(r.exitCode ?? 0), r.afterMs ?? 0);
  }
  exit(code: number | null): void {
    if (this.#done) return;
    this.#done = true;
    clearTimeout(this.#timer);
    this.stdout.end();
    this.stderr.end();
    this.#exit(code);
  }
  async stop(): Promise<void> {
    this.stopped = true;
    this.exit(null);
    await this.exited;
  }
}

/** Above Linux's largest pid (2^22), so a fake child's pid can never name a real process. */
const FAKE_PID_BASE = 4_200_000;

/**
 * A runner that starts nothing. Every call, `run` and `start`, is recorded with its stdin; `run` is
 * answered by `reply`, and `start` hands out a FakeChild that `onStart` drives (after the caller holds it).
 */
export class FakeRunner extends Runner {
  readonly recorded: Recorded[] = [];
  readonly children: FakeChild[] = [];
  constructor(
    readonly reply: ReplyFn = () => ({}),
    readonly onStart: StartFn = () => undefined,
  ) {
    super();
  }

  override async run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
    const stdin = stdinText(opts);
    this.recorded.push({ argv, ...(stdin !== undefined && { stdin }) });
    this.calls.push({ argv, startedAt: Date.now() });
    const r = await this.reply(withoutTarget(argv.slice(1)), stdin);
    return { argv, exitCode: r.exitCode ?? 0, stdout: r.stdout ?? '', stderr: r.stderr ?? '', durationMs: 0 };
  }

  override start(argv: string[], opts: RunOptions = {}): Started {
    const stdin = stdinText(opts);
    this.recorded.push({ argv, started: true, ...(stdin !== undefined && { stdin }) });
    this.calls.push({ argv, startedAt: Date.now() });
    const child = new FakeChild(argv, FAKE_PID_BASE + this.children.length);
    this.children.push(child);
    queueMicrotask(() => {
      const r = this.onStart(child);
      if (r) child.play(r);
    });
    return child;
  }

  /** The recorded argv lines without the binary, joined, for counting and searching. */
  lines(): string[] {
    return this.recorded.map((r) => r.argv.slice(1).join(' '));
  }

  /** Every argv recorded so far, joined, to search for values that must never be there. */
  argvText(): string {
    return this.recorded.map((r) => r.argv.join(' ')).join('\n');
  }

  /** argv (binary and target dropped) of every recorded call. */
  get verbs(): string[][] {
    return this.recorded.map((r) => withoutTarget(r.argv.slice(1)));
  }

  /** Recorded calls whose verb starts with these words. */
  find(...words: string[]): Recorded[] {
    return this.recorded.filter((r) => {
      const v = withoutTarget(r.argv.slice(1));
      return words.every((w, i) => v[i] === w);
    });
  }
}

function stdinText(opts: RunOptions): string | undefined {
  if (opts.stdin === undefined) return undefined;
  return opts.stdin instanceof Secret ? opts.stdin.reveal() : String(opts.stdin);
}

/** A `-o json` answer. */
export const json = (doc: unknown): Reply => ({ stdout: JSON.stringify(doc) });
/** A `-o json` answer of a kubectl List. */
export const list = (items: unknown[]): Reply => json({ apiVersion: 'v1', kind: 'List', items });
/** kubectl's NotFound. */
export const notFound = (what: string): Reply => ({
  exitCode: 1,
  stderr: `Error from server (NotFound): ${what} not found`,
});

/** `kubectl config view --minify -o json` of one context (by default a local minikube). */
export function kubeconfigReply(
  args: string[],
  context = 'minikube',
  server = 'https://192.168.49.2:8443',
): Reply | undefined {
  if (args[0] !== 'config' || args[1] !== 'view') return undefined;
  return json({
    'current-context': context,
    contexts: [{ name: context, context: { cluster: context, user: context } }],
    clusters: [{ name: context, cluster: { server } }],
  });
}

/** `kubectl version --client -o json` and `helm version --short`. */
export function versionReply(args: string[]): Reply | undefined {
  if (args[0] !== 'version') return undefined;
  return args.includes('--client')
    ? json({ clientVersion: { gitVersion: 'v1.35.0' } })
    : { stdout: 'v4.1.4+gabcdef\n' };
}
