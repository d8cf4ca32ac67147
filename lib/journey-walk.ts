import type { CheckResult } from './checks.ts';
import { OperationError } from './errors.ts';
import { Journey } from './journey.ts';
import { readReleaseSettings } from './journey-settings.ts';
import type { Kubectl } from './kubectl.ts';
import { namespaceArgs, npmRun } from './suggest.ts';

const FORWARD_START_MS = 20_000;

/**
 * How long a journey waits for its verification mail by default: Mailpit in the cluster has it within a
 * second or two, and a mail that does not come is named well within 15 s.
 */
export const MAIL_TIMEOUT_MS = 10_000;

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

/** What a journey needs from the command that walks it (verify, or deploy's last step). */
export interface WalkInput {
  kubectl: Kubectl;
  namespace: string;
  signal: AbortSignal;
  /** default MAIL_TIMEOUT_MS */
  mailTimeoutMs?: number;
  /** registers the clean-up for Ctrl+C and stop signals (the command's atExit) */
  atExit?: (fn: () => Promise<void>) => void;
}

/**
 * Walks a person's journey against the release in the kubectl's namespace, through port-forwards it opens
 * and stops; the steps' results, or undefined when the release has no SSO settings (nothing to walk).
 */
export async function walkJourney(input: WalkInput): Promise<CheckResult[] | undefined> {
  const { kubectl } = input;
  const release = await readReleaseSettings(kubectl);
  if (!release) return undefined;
  const stops: (() => Promise<void>)[] = [];
  const journey = new Journey(
    {
      kubectl,
      namespace: input.namespace,
      signal: input.signal,
      mailTimeoutMs: input.mailTimeoutMs ?? MAIL_TIMEOUT_MS,
      forward: (service, port) => openForward(kubectl, service, port, stops),
    },
    release,
  );
  // Ctrl+C or a stop signal: the account still goes, before the forwards are stopped (once).
  input.atExit?.(() => journey.cleanup());
  try {
    return await journey.walk();
  } finally {
    await Promise.all(stops.map((stop) => stop()));
  }
}
