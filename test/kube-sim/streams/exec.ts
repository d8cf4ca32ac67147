import { PassThrough, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { httpStatusOf, messageOf, reasonOf, type PodRef, type PodRuntime } from './runtime-types.ts';
import { killCommandWriting } from './run-in-container.ts';
import { statusFailure } from './upgrade.ts';

/** The query of an exec request, as kubectl sends it. */
export interface ExecParams {
  command: string[];
  container: string;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

function flag(q: URLSearchParams, name: string): boolean {
  const v = (q.get(name) ?? '').toLowerCase();
  return v === 'true' || v === '1';
}

/** Reads `command` (repeated), `container`, `stdin`, `stdout`, `stderr`, `tty`. */
export function parseExecQuery(q: URLSearchParams): ExecParams {
  return {
    command: q.getAll('command'),
    container: q.get('container') ?? '',
    stdin: flag(q, 'stdin'),
    stdout: flag(q, 'stdout'),
    stderr: flag(q, 'stderr'),
    tty: flag(q, 'tty'),
  };
}

/** A command the runtime accepted; its output waits in these buffers until a transport drains them. */
export interface StartedExec {
  params: ExecParams;
  stdin: PassThrough | null;
  stdout: PassThrough;
  stderr: PassThrough;
  /** Exit code, or the runtime's error. */
  done: Promise<number>;
}

export type ExecStart =
  { ok: true; exec: StartedExec } | { ok: false; code: number; message: string; reason?: string };

/**
 * Starts the command before the connection is upgraded, so that a missing pod or
 * container (which the runtime reports at once) becomes an HTTP error as from a kubelet.
 */
export async function startExec(runtime: PodRuntime, pod: PodRef, params: ExecParams): Promise<ExecStart> {
  if (params.command.length === 0)
    return { ok: false, code: 400, message: 'you must specify at least 1 command' };
  if (!params.stdin && !params.stdout && !params.stderr) {
    return { ok: false, code: 400, message: 'you must specify at least 1 of stdin, stdout, stderr' };
  }
  const exec: StartedExec = {
    params,
    stdin: params.stdin ? new PassThrough() : null,
    stdout: new PassThrough(),
    stderr: new PassThrough(),
    done: Promise.resolve(0),
  };
  exec.done = runtime.exec({
    pod,
    container: params.container,
    command: params.command,
    stdin: exec.stdin,
    stdout: exec.stdout,
    stderr: exec.stderr,
    tty: params.tty,
  });
  const early = await Promise.race([
    exec.done.then(
      () => undefined,
      (err: unknown) => err ?? new Error('exec failed'),
    ),
    new Promise<undefined>((r) => setImmediate(() => r(undefined))),
  ]);
  if (early !== undefined) {
    return { ok: false, code: httpStatusOf(early), message: messageOf(early), reason: reasonOf(early) };
  }
  return { ok: true, exec };
}

/** The v4/v5 error-channel document for a finished command. */
export function exitStatus(command: string[], code: number): Record<string, unknown> {
  const rc = Number.isInteger(code) && code >= 0 ? Math.min(code, 255) : 1;
  if (rc === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${rc}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(rc) }] },
  };
}

/**
 * Pipes the command's output into the transport's sinks (one sink may take both, as
 * with a tty), waits for the command and for every byte to be handed over, ends the
 * sinks and returns the status document to send.
 */
export async function settle(
  exec: StartedExec,
  sinks: { stdout: Writable; stderr: Writable },
): Promise<Record<string, unknown>> {
  feed(exec.stdout, sinks.stdout);
  feed(exec.stderr, sinks.stderr);
  let status: Record<string, unknown>;
  try {
    status = exitStatus(exec.params.command, await exec.done);
  } catch (err) {
    status = statusFailure(httpStatusOf(err), reasonOf(err) ?? 'InternalError', messageOf(err));
  }
  for (const source of [exec.stdout, exec.stderr]) {
    if (!source.writableEnded) source.end();
    await finished(source).catch(() => undefined);
  }
  for (const sink of new Set([sinks.stdout, sinks.stderr])) {
    sink.end();
    // Only our writing side: nobody closes the reading side of an output stream.
    await finished(sink, { readable: false }).catch(() => undefined);
  }
  exec.stdin?.end();
  return status;
}

// Output for a client that went away is dropped, so the command can still finish.
function feed(source: PassThrough, sink: Writable): void {
  source.pipe(sink, { end: false });
  sink.once('close', () => {
    source.unpipe(sink);
    source.resume();
  });
}

/** Ends the command: its client went away or its pod is being deleted. */
export function abortExec(exec: StartedExec): void {
  exec.stdin?.end();
  killCommandWriting(exec.stdout);
}

/** A sink for output nobody asked for. */
export function discard(): Writable {
  return new Writable({ write: (_c, _e, cb) => cb() });
}
