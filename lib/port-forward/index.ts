import path from 'node:path';
import { type CommandContext, str } from '../cli.ts';
import { type ClusterSession, loadCommandSettings, openSession } from '../context.ts';
import { ExitCode } from '../errors.ts';
import { printJson } from '../log.ts';
import { launchBackground, reportBackground, stopBackground } from './background.ts';
import { type PortForwardOptions, parsePortForwardOptions } from './options.ts';
import { planForwards } from './plan.ts';
import { signInMismatch } from './sign-in.ts';
import { reportMoves, superviseForwards } from './supervise.ts';

export { defaultPortForwardOptions, PORT_FORWARD_OPTIONS, PORT_FORWARD_SPEC } from './options.ts';
export type { PortForwardOptions } from './options.ts';

/**
 * Forwards the release's services to localhost and keeps them alive (the body of `npm run port-forward`,
 * also what `deploy --port-forward` hands over to). Foreground: runs until Ctrl+C and returns 130.
 * `--detach`: returns once the background run's forwards are ready. `--stop`: ends background runs.
 */
export async function runPortForward(
  session: ClusterSession,
  opts: PortForwardOptions,
  ctx: CommandContext,
): Promise<number> {
  if (opts.stop) return stopCommand(ctx, session.target.namespace, opts);
  const assignments = await planForwards(session, {
    only: opts.only,
    ports: opts.ports,
    autoPorts: opts.autoPorts,
    retryHint: 'stop that process, or rerun with --auto-ports (or pick ports: --ports NAME=PORT)',
  });
  const signIn = signInMismatch(assignments, session.settings);
  if (signIn) {
    ctx.log.warn(signIn.message);
    ctx.log.hint(signIn.hint);
  }
  if (opts.detach) {
    reportMoves(ctx, assignments);
    const run = await launchBackground(ctx, {
      target: session.target,
      assignments,
      only: opts.only,
      envFile: str(ctx.args.values, 'env-file'),
    });
    return reportBackground(
      ctx,
      { context: session.place.context, namespace: session.target.namespace },
      run,
      opts.json,
    );
  }
  return superviseForwards(session.kubectl, assignments, ctx, {
    json: opts.json,
    context: session.place.context,
  });
}

/** `--stop`: ends the namespace's background forwards; nothing running is not an error. */
async function stopCommand(
  ctx: CommandContext,
  namespace: string,
  opts: PortForwardOptions,
): Promise<number> {
  const stopped = await stopBackground(namespace, { only: opts.only });
  if (opts.json) {
    printJson(
      {
        ok: true,
        namespace,
        stopped: stopped.map((s) => ({
          pid: s.pid ?? null,
          pidFile: path.relative(process.cwd(), s.pidFile),
          running: s.signalled,
        })),
      },
      ctx.stdout,
    );
    return ExitCode.Ok;
  }
  if (stopped.length === 0) ctx.log.info(`no background port-forward runs for namespace "${namespace}"`);
  for (const s of stopped) {
    if (s.signalled) ctx.log.success(`stopped the background port-forward (pid ${s.pid})`);
    else ctx.log.info(`removed a stale pid file (pid ${s.pid ?? '?'} no longer runs a port-forward)`);
  }
  return ExitCode.Ok;
}

/** The `npm run port-forward` entry: options, then the session (`--stop` needs no cluster tools). */
export async function portForwardCommand(ctx: CommandContext): Promise<number> {
  const opts = parsePortForwardOptions(ctx.args.values);
  if (opts.stop) return stopCommand(ctx, loadCommandSettings(ctx).target.namespace, opts);
  return runPortForward(await openSession(ctx), opts, ctx);
}
