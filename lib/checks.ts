import type { Logger } from './log.ts';
import { printJson } from './log.ts';
import { redact } from './redact.ts';

/** The status of one check (cli.md): `ok` is false when any check is `fail`. */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

/** One line of a validate/doctor report, exactly the JSON shape of the CLI contract. */
export interface CheckResult {
  id: string;
  status: CheckStatus;
  title: string;
  detail: string;
  hint?: string;
}

/** What a check's `run` returns: everything but its id and title, which the list declares. */
export type CheckOutcome = Omit<CheckResult, 'id' | 'title'> & { title?: string };

/** A check in a list: a probe that returns an outcome and never throws for a failed check. */
export interface Check<C> {
  id: string;
  title: string;
  run: (ctx: C) => Promise<CheckOutcome> | CheckOutcome;
}

/** The validate/doctor JSON document. */
export interface CheckReport {
  ok: boolean;
  /** the kube context the checks looked at (null: none could be read), when the command has one */
  context?: string | null;
  namespace?: string;
  checks: CheckResult[];
}

/** Where a command looked or acted, carried by its --json document. */
export interface Where {
  context: string | null;
  namespace: string;
}

/** Outcome helpers, so check code reads as `pass('...')`, `fail('...', 'hint')`. */
export const pass = (detail: string, hint?: string): CheckOutcome => outcome('pass', detail, hint);
export const warn = (detail: string, hint?: string): CheckOutcome => outcome('warn', detail, hint);
export const fail = (detail: string, hint?: string): CheckOutcome => outcome('fail', detail, hint);
export const skip = (detail: string, hint?: string): CheckOutcome => outcome('skip', detail, hint);

function outcome(status: CheckStatus, detail: string, hint: string | undefined): CheckOutcome {
  return hint === undefined ? { status, detail } : { status, detail, hint };
}

const SEVERITY: Record<CheckStatus, number> = { skip: 0, pass: 1, warn: 2, fail: 3 };

/** The worst of several outcomes (details joined line by line, the first hint of the worst kind). */
export function worst(outcomes: CheckOutcome[], whenEmpty: CheckOutcome): CheckOutcome {
  if (outcomes.length === 0) return whenEmpty;
  const top = Math.max(...outcomes.map((o) => SEVERITY[o.status]));
  const status = (Object.keys(SEVERITY) as CheckStatus[]).find((s) => SEVERITY[s] === top) ?? 'pass';
  const relevant = outcomes.filter((o) => SEVERITY[o.status] === top);
  const hint = relevant.find((o) => o.hint)?.hint;
  return outcome(status, relevant.map((o) => o.detail).join('\n'), hint);
}

/**
 * Runs every check of a list concurrently and returns the results in list order. A check that throws
 * is reported as `fail` with the error's message (and hint), so one broken probe never hides the rest.
 */
export async function runChecks<C>(checks: readonly Check<C>[], ctx: C): Promise<CheckResult[]> {
  return Promise.all(
    checks.map(async (c): Promise<CheckResult> => {
      let o: CheckOutcome;
      try {
        o = await c.run(ctx);
      } catch (err) {
        const hint = (err as { hint?: unknown }).hint;
        o = fail(
          `the check could not run: ${err instanceof Error ? err.message : String(err)}`,
          typeof hint === 'string' ? hint : undefined,
        );
      }
      return sanitize({
        id: c.id,
        title: o.title ?? c.title,
        status: o.status,
        detail: o.detail,
        hint: o.hint,
      });
    }),
  );
}

// Every text passes through redact: a registered secret never reaches the report.
function sanitize(r: CheckResult): CheckResult {
  const out: CheckResult = { id: r.id, status: r.status, title: redact(r.title), detail: redact(r.detail) };
  if (r.hint !== undefined && r.hint !== '') out.hint = redact(r.hint);
  return out;
}

/** The report document: `ok` is false when any check failed (warnings and skips are fine). */
export function toReport(results: CheckResult[], where?: Where): CheckReport {
  return { ok: !results.some((r) => r.status === 'fail'), ...where, checks: results };
}

/** Counts per status, e.g. `12 passed, 1 warning, 2 failed, 4 skipped`. */
export function summarize(results: CheckResult[]): string {
  const n = (s: CheckStatus) => results.filter((r) => r.status === s).length;
  const part = (k: number, one: string, many: string) => (k === 0 ? '' : `${k} ${k === 1 ? one : many}`);
  return [
    part(n('pass'), 'passed', 'passed'),
    part(n('warn'), 'warning', 'warnings'),
    part(n('fail'), 'failed', 'failed'),
    part(n('skip'), 'skipped', 'skipped'),
  ]
    .filter(Boolean)
    .join(', ');
}

/** Prints each result as `✓ title: detail` (! warn, ✗ fail, - skip) with its hint under it. */
export function printChecks(results: CheckResult[], log: Logger): void {
  for (const r of results) {
    const [first = '', ...rest] = r.detail.split('\n');
    const line = first === '' ? r.title : `${r.title}: ${first}`;
    const tagged = `${line} ${log.c.dim(`[${r.id}]`)}`;
    if (r.status === 'pass') log.success(tagged);
    else if (r.status === 'warn') log.warn(tagged);
    else if (r.status === 'fail') log.error(tagged);
    else log.info(`${log.c.dim('-')} ${tagged}`);
    for (const l of rest) log.info(`    ${l}`);
    if (r.hint && r.status !== 'pass') log.hint(r.hint);
  }
}

/** Prints the report (JSON on stdout with --json, else the lines and a summary) and returns the exit code. */
export function reportChecks(
  results: CheckResult[],
  io: { log: Logger; stdout: NodeJS.WritableStream; json: boolean; where?: Where },
): number {
  const report = toReport(results, io.where);
  if (io.json) printJson(report, io.stdout);
  else {
    printChecks(results, io.log);
    io.log.info('');
    const sum = summarize(results);
    if (report.ok) io.log.success(sum);
    else io.log.error(sum);
  }
  return report.ok ? 0 : 1;
}
