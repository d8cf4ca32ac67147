import { createInterface } from 'node:readline/promises';
import { UsageError } from './errors.ts';

/** Where a confirmation is read from and asked on. */
export interface ConfirmIo {
  yes: boolean;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  prompt: NodeJS.WritableStream;
}

/** Without a TTY a question cannot be asked: `--yes` is then required (exit 2, one line). */
export function assertCanConfirm(io: ConfirmIo, what: string, retry: string): void {
  if (io.yes || io.stdin.isTTY) return;
  throw new UsageError(`${what}: add --yes to confirm without a terminal`, { hint: retry });
}

/** How an answer is asked for and judged; by default a yes/no question. */
export interface Expected {
  /** shown after the question */
  prompt?: string;
  accept?: (answer: string) => boolean;
  /** the error when the answer is not accepted */
  refused?: string;
}

/**
 * Asks a question on the terminal (unless --yes); an answer that is not accepted (by default anything
 * but y/yes) stops with nothing changed (exit 2). Without a TTY and without --yes it never asks.
 */
export async function confirm(
  io: ConfirmIo,
  question: string,
  what: string,
  retry: string,
  expected: Expected = {},
): Promise<void> {
  assertCanConfirm(io, what, retry);
  if (io.yes) return;
  const rl = createInterface({ input: io.stdin, output: io.prompt });
  try {
    const answer = await rl.question(`${question} ${expected.prompt ?? '[y/N]'} `);
    const accept = expected.accept ?? ((a: string) => /^y(es)?$/i.test(a));
    if (!accept(answer.trim()))
      throw new UsageError(expected.refused ?? 'not confirmed: nothing was changed');
  } finally {
    rl.close();
  }
}
