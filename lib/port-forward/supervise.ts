import { rmSync } from 'node:fs';
import type { CommandContext } from '../cli.ts';
import { ExitCode, OperationError } from '../errors.ts';
import type { Kubectl } from '../kubectl.ts';
import { isInteractive, printJson } from '../log.ts';
import { brief } from './background.ts';
import { PIDFILE_ENV, STATE_ENV, readPidFile, writeAtomic } from './detach.ts';
import { type ForwardDeps, type ForwardStatus, SupervisedForward } from './forward.ts';
import type { PortAssignment } from './ports.ts';
import { probeHttp } from './probe.ts';
import { StatusView } from './status-view.ts';

/** A sleep that resolves early (not rejects) when the signal aborts. */
export function sleepUntil(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Says which forwards moved off a taken port, and who holds it. */
export function reportMoves(ctx: CommandContext, assignments: readonly PortAssignment[]): void {
  for (const a of assignments) {
    if (!a.moved) continue;
    ctx.log.warn(
      `${a.target.name}: local port ${a.moved.from} is in use by ${a.moved.holder}; using ${a.localPort}`,
    );
  }
}

export interface SuperviseOptions {
  json: boolean;
  /** the kube context forwarded from, carried by --json */
  context?: string | null;
  /** For tests: replace the world of each forward (start, probe, clock). */
  deps?: Partial<ForwardDeps>;
  /** Called once every forward is ready or failed for the first time. */
  onSettled?: (forwards: ForwardStatus[]) => void;
}

/**
 * Runs every forward until Ctrl+C: a live status table (or a line per change without a terminal),
 * a JSON document once all have settled with --json, and the state file of a detached run.
 * Returns 130 when interrupted; throws (exit 1) when every forward failed.
 */
export async function superviseForwards(
  kubectl: Kubectl,
  assignments: readonly PortAssignment[],
  ctx: CommandContext,
  opts: SuperviseOptions,
): Promise<number> {
  const stateFile = ctx.env[STATE_ENV];
  const pidFile = ctx.env[PIDFILE_ENV];
  reportMoves(ctx, assignments);
  const view = new StatusView({
    write: (t) => ctx.log.raw(t),
    interactive: !opts.json && isInteractive(ctx.stdout, ctx.env),
  });
  let settled = false;
  const onChange = (s: ForwardStatus): void => {
    // After Ctrl+C the terminal belongs to the shutdown messages: no more redraws.
    if (ctx.signal.aborted) return;
    view.update(s);
    const rows = view.rows;
    if (stateFile) writeAtomic(stateFile, JSON.stringify({ pid: process.pid, forwards: rows }));
    if (settled || rows.length < assignments.length) return;
    if (!rows.every((r) => r.state === 'ready' || r.state === 'failed')) return;
    settled = true;
    opts.onSettled?.(rows);
    if (opts.json) {
      const ok = rows.every((r) => r.state === 'ready');
      printJson(
        {
          ok,
          context: opts.context ?? kubectl.target.context ?? null,
          namespace: kubectl.target.namespace,
          forwards: brief(rows),
        },
        ctx.stdout,
      );
    } else if (rows.some((r) => r.state === 'ready')) {
      view.note('Forwarding; the forwards restart on their own. Press Ctrl+C to stop.');
    }
  };
  const deps: ForwardDeps = {
    start: (args) => kubectl.start(args),
    probe: (port) => probeHttp(port),
    now: Date.now,
    sleep: sleepUntil,
    onChange,
    ...opts.deps,
  };
  const forwards = assignments.map(
    (a) =>
      new SupervisedForward(
        {
          name: a.target.name,
          service: a.target.service,
          localPort: a.localPort,
          remotePort: a.target.remotePort,
        },
        { ...deps, onChange },
      ),
  );
  let results: ForwardStatus[];
  try {
    results = await Promise.all(forwards.map((f) => f.run(ctx.signal)));
  } finally {
    if (stateFile) rmSync(stateFile, { force: true });
    // A detached run removes its own pid file, unless a newer run has taken it over.
    if (pidFile && readPidFile(pidFile) === process.pid) rmSync(pidFile, { force: true });
  }
  if (ctx.signal.aborted) {
    ctx.log.info(`stopped ${forwards.length} port-forward(s)`);
    return ExitCode.Interrupted;
  }
  const failed = results.filter((r) => r.state === 'failed');
  const first = failed[0];
  throw new OperationError(
    failed.length === 1 && first
      ? `${first.name}: ${first.detail}`
      : `every port-forward failed: ${failed.map((f) => `${f.name}: ${f.detail}`).join('; ')}`,
    {
      hint: 'fix the cause above, then run npm run port-forward again (npm run doctor diagnoses the release)',
    },
  );
}
