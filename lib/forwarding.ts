import type { Settings } from './env.ts';
import { type PortAssignment, planForwards } from './forward-targets.ts';
import path from 'node:path';
import { type CommandContext, str } from './cli.ts';
import type { ClusterSession } from './context.ts';
import { ExitCode } from './errors.ts';
import { printJson } from './log.ts';
import {
  PIDFILE_ENV,
  alreadyRunning,
  launchBackground,
  reportBackground,
  runningForwardOf,
  stopBackground,
} from './forward-background.ts';
import { reportMoves, superviseForwards } from './forward-supervisor.ts';

/**
 * Whether the browser can still sign in with these local ports. The SSO accepts requests only from the
 * origins in ALLOWED_ORIGINS and builds its links from BETTER_AUTH_URL: when the dashboard or the SSO is
 * forwarded to another port (taken, --auto-ports, --ports), those settings must follow, or sign-in fails
 * with "Invalid origin". Returns the warning and the exact settings to change, or undefined when they agree.
 */
export function signInMismatch(
  assignments: readonly PortAssignment[],
  settings: Pick<Settings, 'access' | 'sso'>,
): { message: string; hint: string } | undefined {
  if (settings.access !== 'port-forward') return undefined;
  const origin = (name: string) => {
    const a = assignments.find((x) => x.target.name === name);
    return a ? `http://localhost:${a.localPort}` : undefined;
  };
  const web = origin('web');
  const sso = origin('sso');
  const allowed = settings.sso.allowedOrigins.map((o) => o.replace(/\/+$/, ''));
  const authOrigin = URL.canParse(settings.sso.authUrl) ? new URL(settings.sso.authUrl).origin : undefined;
  const wrong: string[] = [];
  if (sso && authOrigin !== sso) wrong.push(`BETTER_AUTH_URL is ${settings.sso.authUrl}, not ${sso}`);
  const missing = [web, sso].filter((o): o is string => o !== undefined && !allowed.includes(o));
  if (missing.length > 0) wrong.push(`ALLOWED_ORIGINS lacks ${missing.join(' and ')}`);
  if (wrong.length === 0) return undefined;
  const where = [web && `the dashboard on ${web}`, sso && `the SSO on ${sso}`].filter(Boolean).join(' and ');
  const lines = [
    ...(sso && authOrigin !== sso ? [`BETTER_AUTH_URL=${sso}`] : []),
    ...(missing.length > 0 ? [`ALLOWED_ORIGINS=${[...allowed, ...missing].join(',')}`] : []),
  ];
  return {
    message: `sign-in will fail: the browser opens ${where}, but ${wrong.join('; ')}`,
    hint: `set ${lines.join(' and ')} in the env file and deploy again (the SSO reads them at start), or free the default ports and forward again`,
  };
}

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
  // A background run of these targets holds their ports: say so, not that the ports are taken. (The
  // background run itself is started as a foreground run with its pid file named.)
  const stopArgs = namedTarget(ctx);
  if (ctx.env[PIDFILE_ENV] === undefined) {
    const running = runningForwardOf(session.target.namespace, opts.only);
    if (running) throw alreadyRunning(running, stopArgs);
  }
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
      stopArgs,
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

/** The options naming the release that `--stop` needs too (those the user gave: -n, --env-file). */
function namedTarget(ctx: CommandContext): string[] {
  const v = ctx.args.values;
  const ns = str(v, 'namespace');
  const envFile = str(v, 'env-file');
  return [...(ns ? ['-n', ns] : []), ...(envFile ? ['--env-file', envFile] : [])];
}

/** `--stop`: ends the namespace's background forwards; nothing running is not an error. */
export async function stopCommand(
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

/** What `npm run port-forward` (and `deploy --port-forward`) is asked to do. */
export interface PortForwardOptions {
  /** Target names; undefined: every app and every add-on that is on. */
  only?: string[];
  /** Local port overrides by target name. */
  ports: Map<string, number>;
  /** Move to the next free port when one is taken (else: fail naming the holder). */
  autoPorts: boolean;
  detach: boolean;
  stop: boolean;
  json: boolean;
}

/** The defaults: every target on its usual port, in the foreground. */
export function defaultPortForwardOptions(over: Partial<PortForwardOptions> = {}): PortForwardOptions {
  return { ports: new Map(), autoPorts: false, detach: false, stop: false, json: false, ...over };
}
