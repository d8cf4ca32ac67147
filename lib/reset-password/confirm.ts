import { createInterface } from 'node:readline/promises';
import { UsageError } from '../errors.ts';

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

/** Asks a yes/no question on the terminal (unless --yes); anything but y/yes stops with nothing changed. */
export async function confirm(io: ConfirmIo, question: string, what: string, retry: string): Promise<void> {
  assertCanConfirm(io, what, retry);
  if (io.yes) return;
  const rl = createInterface({ input: io.stdin, output: io.prompt });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim())) throw new UsageError('not confirmed: nothing was changed');
  } finally {
    rl.close();
  }
}
