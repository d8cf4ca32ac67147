import type { CommandContext } from '../cli.ts';
import { releaseSelector } from '../components.ts';
import { type ClusterSession, openSession } from '../context.ts';
import { ExitCode } from '../errors.ts';
import type { Kubectl } from '../kubectl.ts';
import type { Pod } from '../pod-status.ts';
import { LineFormatter, useColour } from './format.ts';
import { type PodView, linePrefix, podView } from './pods.ts';
import { registerReleaseSecrets } from './secrets.ts';
import { selectComponents } from './select.ts';
import { type LogsOptions, parseLogsOptions } from './spec.ts';
import { LogStream, type StreamOutput, dumpLogs, readableContainers } from './stream.ts';
import { PodWatch } from './watch.ts';

/** `npm run logs -- [component...]`: checks the release, masks its secrets, then prints or follows. */
export async function runLogs(ctx: CommandContext): Promise<number> {
  const tty = Boolean((ctx.stdout as NodeJS.WriteStream).isTTY);
  const opts = parseLogsOptions(ctx.args.values, ctx.args.positionals, tty);
  const session = await openSession(ctx);
  return logs(ctx, session, opts);
}

/** The logs run against an open session (reads only: no write guard needed). */
export async function logs(
  ctx: Pick<CommandContext, 'log' | 'stdout' | 'signal' | 'redactor' | 'env'>,
  s: Pick<ClusterSession, 'kubectl' | 'helm' | 'target'>,
  opts: LogsOptions,
): Promise<number> {
  await s.kubectl.assertReachable();
  await s.helm.assertInstalled();
  await registerReleaseSecrets(s.kubectl, ctx.redactor);
  const selector = releaseSelector(s.target.release);
  const pods = await s.kubectl.list<Pod>(['pods'], selector);
  const views = pods.map(podView);
  const chosen = selectComponents(
    opts.components,
    views.map((v) => v.component),
  );
  const selected = (component: string): boolean => chosen === undefined || chosen.has(component);
  // A reader that went away (`npm run logs | head`): stop writing, and stop following.
  let closeOutput = (): void => undefined;
  const outputClosed = new Promise<void>((resolve) => (closeOutput = resolve));
  let closed = false;
  ctx.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    closed = true;
    closeOutput();
  });
  const out: StreamOutput = {
    formatter: new LineFormatter({ json: opts.json, colour: !opts.json && useColour(ctx.stdout, ctx.env) }),
    redactor: ctx.redactor,
    write: (text) => void (closed || ctx.stdout.write(text)),
    note: (text) => ctx.log.info(text),
    debug: (text) => ctx.log.debug(text),
    grep: opts.grep,
    json: opts.json,
  };
  const limits = { tail: opts.tail, since: opts.since, previous: opts.previous };
  if (!opts.follow) {
    const mine = views.filter((v) => selected(v.component));
    if (mine.length === 0) ctx.log.warn(nothingRunning(chosen));
    else if (opts.previous && !mine.some((v) => readableContainers(v, true).length > 0)) {
      ctx.log.info(
        `no container of ${chosen ? [...chosen].join(', ') : 'the release'} has restarted: no previous lines`,
      );
    }
    const { failed } = await dumpLogs(s.kubectl, mine, limits, out);
    for (const note of waitingNotes(mine)) ctx.log.info(note);
    for (const f of failed) ctx.log.warn(`${f.prefix}: ${f.reason}`);
    return failed.length > 0 ? ExitCode.Failed : ExitCode.Ok;
  }
  const batched = batchedWriter({ write: out.write } as NodeJS.WritableStream);
  try {
    return await follow(
      ctx,
      s.kubectl,
      selector,
      pods,
      selected,
      { ...out, write: batched.write },
      limits,
      chosen,
      outputClosed,
    );
  } finally {
    batched.flush();
  }
}

/**
 * A writer that gathers what is written within one turn of the event loop into one write: a chatty
 * container's lines come many to a chunk, and a write per line would cost more than the rest of their way.
 */
export function batchedWriter(stream: NodeJS.WritableStream): {
  write: (text: string) => void;
  flush: () => void;
} {
  let pending = '';
  const flush = (): void => {
    if (pending === '') return;
    const out = pending;
    pending = '';
    stream.write(out);
  };
  return {
    write: (text) => {
      if (pending === '') setImmediate(flush);
      pending += text;
    },
    flush,
  };
}

/**
 * A line per container that is not running now (CrashLoopBackOff, an image pull, ...): why, and which
 * of its lines were shown, so that a crash loop is never just a few init lines without a word.
 */
export function waitingNotes(pods: PodView[]): string[] {
  return pods.flatMap((p) =>
    p.containers.flatMap((c) => {
      if (c.state !== 'waiting' || p.terminating) return [];
      const why = `${c.waitingReason ?? 'waiting'}${c.restarts > 0 ? `, ${c.restarts} restart${c.restarts === 1 ? '' : 's'}` : ''}`;
      const shown = c.hasPrevious
        ? 'not running now; the lines of its last run are marked (previous)'
        : 'no lines yet';
      return [`${linePrefix(p, c)}: ${why}: ${shown}`];
    }),
  );
}

function nothingRunning(chosen: Set<string> | undefined): string {
  const what = chosen ? [...chosen].join(', ') : 'the release';
  return `no pods of ${what} yet`;
}

async function follow(
  ctx: Pick<CommandContext, 'log' | 'signal'>,
  kubectl: Kubectl,
  selector: string,
  pods: Pod[],
  selected: (component: string) => boolean,
  out: StreamOutput,
  limits: { tail?: number; since?: string },
  chosen: Set<string> | undefined,
  outputClosed: Promise<void>,
): Promise<number> {
  const stream = new LogStream(kubectl, out, { selected, initial: limits });
  if (!pods.some((p) => selected(podView(p).component)))
    ctx.log.info(`${nothingRunning(chosen)}: waiting for them`);
  stream.begin(pods);
  const watch = new PodWatch(kubectl, selector, {
    onEvent: (e) => stream.onEvent(e),
    onProblem: (text) => ctx.log.debug(text),
    signal: ctx.signal,
  });
  const interrupted = new Promise<void>((resolve) => {
    if (ctx.signal.aborted) resolve();
    else ctx.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await Promise.race([interrupted, outputClosed]);
  await Promise.all([watch.stop(), stream.stop()]);
  return ctx.signal.aborted ? ExitCode.Interrupted : ExitCode.Ok;
}
