import { type CheckResult, printChecks, reportChecks, runChecks, summarize } from '../checks.ts';
import { type CommandContext, flag, str } from '../cli.ts';
import { openSession } from '../context.ts';
import { UsageError } from '../errors.ts';
import { DOCTOR_CHECKS } from './checks.ts';
import { collect } from './collect.ts';

/** Waits, or rejects with the abort reason when the user interrupts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason as Error);
      },
      { once: true },
    );
  });
}

/** The --interval option in milliseconds (default 5 s). */
export function watchInterval(text: string | undefined): number {
  if (text === undefined) return 5000;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 1 || n > 3600) {
    throw new UsageError(`--interval ${text} is not a number of seconds from 1 to 3600`, {
      hint: 'e.g. --interval 10',
    });
  }
  return n * 1000;
}

/**
 * Diagnoses the release in one pass of batched reads and prints every check. With --watch it re-runs
 * until no check fails (Ctrl+C exits 130). Exit 0 healthy, 1 when a check fails.
 */
export async function runDoctor(ctx: CommandContext): Promise<number> {
  const v = ctx.args.values;
  const json = flag(v, 'json');
  const watch = flag(v, 'watch');
  const interval = watchInterval(str(v, 'interval'));
  const s = await openSession(ctx);
  // One clear "cannot reach the cluster" (exit 3) before the batched reads, instead of their noise.
  await s.kubectl.assertReachable();
  for (let round = 1; ; round++) {
    if (!json) ctx.log.progress(`reading release "${s.target.release}" in namespace "${s.target.namespace}"`);
    const snap = await collect(s.kubectl, s.helm, { release: s.target.release });
    ctx.log.done();
    const results: CheckResult[] = await runChecks(DOCTOR_CHECKS, { snap, target: s.target });
    const failed = results.some((r) => r.status === 'fail');
    if (!watch || !failed) return reportChecks(results, { log: ctx.log, stdout: ctx.stdout, json });
    if (!json) {
      printChecks(results, ctx.log);
      ctx.log.warn(
        `round ${round}: ${summarize(results)}; checking again in ${interval / 1000}s (Ctrl+C to stop)`,
      );
      ctx.log.info('');
    }
    await sleep(interval, ctx.signal);
  }
}
