import { Runner, type RunOptions, type RunResult } from '../../lib/exec.ts';
import { Secret } from '../../lib/secrets.ts';

export interface FakeCall {
  argv: string[];
  stdin?: string;
}

export type FakeReply = Partial<Pick<RunResult, 'exitCode' | 'stdout' | 'stderr'>>;

/** A runner that starts nothing: each call is recorded and answered by `reply` (argv without the binary). */
export class FakeRunner extends Runner {
  readonly recorded: FakeCall[] = [];
  constructor(readonly reply: (args: string[], stdin: string | undefined) => FakeReply | Promise<FakeReply>) {
    super();
  }
  override async run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
    const stdin =
      opts.stdin instanceof Secret
        ? opts.stdin.reveal()
        : opts.stdin === undefined
          ? undefined
          : String(opts.stdin);
    this.recorded.push({ argv, ...(stdin !== undefined && { stdin }) });
    this.calls.push({ argv, startedAt: Date.now() });
    const r = await this.reply(stripTarget(argv.slice(1)), stdin);
    return { argv, exitCode: r.exitCode ?? 0, stdout: r.stdout ?? '', stderr: r.stderr ?? '', durationMs: 0 };
  }
}

/** Drops the leading --context/--namespace pair kubectlArgs adds, so replies can match on the verb. */
export function stripTarget(args: string[]): string[] {
  const out = [...args];
  while (out[0] === '--context' || out[0] === '--namespace') out.splice(0, 2);
  return out;
}

/** A kubectl `-o json` reply. */
export const json = (doc: unknown): FakeReply => ({ stdout: JSON.stringify(doc) });
export const notFound = (what: string): FakeReply => ({
  exitCode: 1,
  stderr: `Error from server (NotFound): ${what} not found`,
});
