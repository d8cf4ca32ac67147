import {
  type CheckResult,
  type Where,
  printChecks,
  reportChecks,
  runChecks,
  skip,
  summarize,
} from '../checks.ts';
import { type CommandContext, flag, str } from '../cli.ts';
import { openSession } from '../context.ts';
import { NotReadyError, UsageError } from '../errors.ts';
import { abortableSleep } from '../time.ts';
import { DOCTOR_CHECKS } from './checks.ts';
import { type DoctorSnapshot, collect } from './collect.ts';
import { type HelmTarget, notInstalled } from '../helm.ts';
import type { Logger } from '../log.ts';
import { walkJourney } from '../journey-walk.ts';
import { npmRun } from '../suggest.ts';

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

/** What one doctor run needs besides the checks: how to read a snapshot, where to print, how to wait. */
export interface DoctorLoop {
  read: () => Promise<DoctorSnapshot>;
  target: HelmTarget;
  /** where the doctor looked, for --json */
  where?: Where;
  log: Logger;
  stdout: NodeJS.WritableStream;
  json: boolean;
  /** re-run until no check fails, pausing `intervalMs` between rounds */
  watch: boolean;
  intervalMs: number;
  signal: AbortSignal;
  wait?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** --journey: a person's journey, walked once when the checks are reported; its steps join them */
  journey?: () => Promise<CheckResult[] | undefined>;
}

/**
 * No release and nothing of it in the namespace: the checks had nothing to look at, so they are skipped
 * (not passed); release.status alone fails, naming what is missing.
 */
export function withNothingToCheck(
  results: CheckResult[],
  snap: Pick<DoctorSnapshot, 'release' | 'objects'>,
  target: HelmTarget,
): CheckResult[] {
  if (snap.release || snap.objects.length > 0) return results;
  const why = `nothing to look at: ${notInstalled(target)}`;
  return results.map((r) =>
    r.id === 'release.status' ? r : { ...r, status: 'skip', detail: why, hint: undefined },
  );
}

/** Runs the checks once, or with `watch` round after round until none fails; returns the exit code. */
export async function doctorLoop(d: DoctorLoop): Promise<number> {
  const wait = d.wait ?? abortableSleep;
  for (let round = 1; ; round++) {
    if (!d.json) d.log.progress(`reading release "${d.target.release}" in namespace "${d.target.namespace}"`);
    const snap = await d.read();
    d.log.done();
    const results = withNothingToCheck(
      await runChecks(DOCTOR_CHECKS, { snap, target: d.target }),
      snap,
      d.target,
    );
    const failed = results.some((r) => r.status === 'fail');
    if (!d.watch || !failed) {
      // The journey is evidence beside the checks: a failed step fails the doctor too.
      const released = snap.release !== undefined || snap.objects.length > 0;
      const journey = d.journey && released ? await d.journey() : undefined;
      if (!d.journey && !failed && !d.json)
        d.log.hint(
          `the checks read the cluster; whether a person can sign in is another question: ${npmRun('doctor', '--journey')} (or ${npmRun('verify')}) walks it`,
        );
      return reportChecks([...results, ...(journey ?? [])], {
        log: d.log,
        stdout: d.stdout,
        json: d.json,
        ...(d.where && { where: d.where }),
      });
    }
    if (!d.json) {
      printChecks(results, d.log);
      d.log.warn(
        `round ${round}: ${summarize(results)}; checking again in ${d.intervalMs / 1000}s (Ctrl+C to stop)`,
      );
      d.log.info('');
    }
    await wait(d.intervalMs, d.signal);
  }
}

/**
 * Diagnoses the release in one pass of batched reads and prints every check. With --watch it re-runs
 * until no check fails (Ctrl+C exits 130). Exit 0 healthy, 1 when a check fails.
 */
export async function runDoctor(ctx: CommandContext): Promise<number> {
  const v = ctx.args.values;
  const intervalMs = watchInterval(str(v, 'interval'));
  const json = flag(v, 'json');
  let opened: Awaited<ReturnType<typeof openSession>> | undefined;
  try {
    opened = await openSession(ctx);
    // One clear "cannot reach the cluster" (exit 3) before the batched reads, instead of their noise.
    await opened.kubectl.assertReachable();
  } catch (err) {
    if (!(err instanceof NotReadyError)) throw err;
    // --json still prints the contract's document: every check skipped, with the reason (exit 3).
    const reason = skip(`not checked: ${err.message}`, err.hint);
    const checks = await runChecks(
      DOCTOR_CHECKS.map((c) => ({ ...c, run: () => reason })),
      undefined,
    );
    const where = opened ? { context: opened.place.context, namespace: opened.target.namespace } : {};
    throw new NotReadyError(err.message, { hint: err.hint, cause: err, report: { ...where, checks } });
  }
  const s = opened;
  return doctorLoop({
    read: () => collect(s.kubectl, s.helm, { release: s.target.release }),
    target: s.target,
    where: { context: s.place.context, namespace: s.target.namespace },
    log: ctx.log,
    stdout: ctx.stdout,
    json,
    watch: flag(v, 'watch'),
    intervalMs,
    signal: ctx.signal,
    ...(flag(v, 'journey') && {
      journey: () =>
        walkJourney({
          kubectl: s.kubectl,
          namespace: s.target.namespace,
          signal: ctx.signal,
          ...(ctx.atExit && { atExit: ctx.atExit }),
        }),
    }),
  });
}
