import type { CommandContext } from '../cli.ts';
import { reportChecks } from '../checks.ts';
import { openSession } from '../context.ts';
import { OperationError } from '../errors.ts';
import type { Kubectl } from '../kubectl.ts';
import { npmRun, namespaceArgs } from '../suggest.ts';
import { Journey, readReleaseSettings } from './journey.ts';
import { parseVerifyOptions } from './spec.ts';

const FORWARD_START_MS = 20_000;

/**
 * A port-forward to a Service port on a free local port, through the runner (stopped by pid when the
 * command ends, however it ends); resolves to its base URL once kubectl says it forwards.
 */
export async function openForward(
  kubectl: Kubectl,
  service: string,
  port: number,
  stops: (() => Promise<void>)[],
): Promise<string> {
  const child = kubectl.start(['port-forward', `service/${service}`, `:${port}`, '--address', '127.0.0.1']);
  stops.push(() => child.stop());
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer | string) => (err += d.toString()));
  const local = await new Promise<string | undefined>((resolve) => {
    const timer = setTimeout(() => resolve(undefined), FORWARD_START_MS);
    timer.unref();
    child.stdout.on('data', (d: Buffer | string) => {
      out += d.toString();
      const m = /Forwarding from 127\.0\.0\.1:(\d+) ->/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    void child.exited.then(() => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
  if (!local)
    throw new OperationError(
      `could not forward service/${service}:${port}: ${err.trim().split('\n').pop() || 'kubectl port-forward did not start'}`,
      { hint: `see why: ${npmRun('doctor', ...namespaceArgs(kubectl.target.namespace))}` },
    );
  return `http://127.0.0.1:${local}`;
}

/** `npm run verify`. */
export async function runVerify(ctx: CommandContext): Promise<number> {
  const opts = parseVerifyOptions(ctx.args.values);
  const s = await openSession(ctx);
  const { kubectl } = s;
  await kubectl.assertReachable();
  const release = await readReleaseSettings(kubectl);
  if (!release)
    throw new OperationError(
      `release ${s.target.release} has no SSO settings in namespace ${s.target.namespace} (ConfigMap sso-platform)`,
      { hint: `deploy it first: ${npmRun('deploy', ...namespaceArgs(s.target.namespace))}` },
    );
  if (!opts.json)
    ctx.log.step(`walking the journey on release ${s.target.release} in namespace ${s.target.namespace}`);
  const stops: (() => Promise<void>)[] = [];
  const journey = new Journey(
    {
      kubectl,
      namespace: s.target.namespace,
      signal: ctx.signal,
      mailTimeoutMs: opts.mailTimeoutMs,
      forward: (service, port) => openForward(kubectl, service, port, stops),
    },
    release,
  );
  // Ctrl+C or a stop signal: the account still goes, before the forwards are stopped (once).
  ctx.atExit?.(() => journey.cleanup());
  try {
    await journey.walk();
  } finally {
    await Promise.all(stops.map((stop) => stop()));
  }
  return reportChecks(journey.results, {
    log: ctx.log,
    stdout: ctx.stdout,
    json: opts.json,
    where: { context: s.place.context, namespace: s.target.namespace },
  });
}
