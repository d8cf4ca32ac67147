import type { Duplex } from 'node:stream';
import { finished } from 'node:stream/promises';
import { abortExec, discard, settle, type StartedExec } from './exec.ts';
import { header } from './spdy-frames.ts';
import { SpdySession, type SpdyStream } from './spdy-session.ts';

/** Remote-command protocols accepted over SPDY (kubectl's fallback when WebSockets fail). */
export const EXEC_SPDY_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;

// A kubelet gives the client this long to open every stream it announced.
const STREAM_WAIT_MS = 10_000;

/**
 * Runs the exec protocol over SPDY: the client opens one stream per channel
 * (`streamtype` error/stdin/stdout/stderr/resize); once all expected ones exist the
 * output flows, the status JSON goes on the error stream, and the session closes.
 */
export async function serveExecSpdy(transport: Duplex, exec: StartedExec): Promise<void> {
  const { params } = exec;
  const expected = new Set(['error']);
  if (params.stdin) expected.add('stdin');
  if (params.stdout) expected.add('stdout');
  if (params.stderr && !params.tty) expected.add('stderr');
  if (params.tty) expected.add('resize');
  const streams = new Map<string, SpdyStream>();
  let allThere: () => void = () => undefined;
  const ready = new Promise<void>((r) => (allThere = r));
  const session = new SpdySession(transport, {
    server: true,
    onStream: (s) => {
      const type = header(s.headers, 'streamtype') ?? '';
      s.reply();
      if (!expected.has(type) || streams.has(type)) return s.reset();
      streams.set(type, s);
      if (streams.size === expected.size) allThere();
    },
  });
  const timer = setTimeout(() => session.close(), STREAM_WAIT_MS);
  let done = false;
  session.once('close', () => {
    clearTimeout(timer);
    if (!done) abortExec(exec);
    allThere();
  });
  await ready;
  clearTimeout(timer);
  if (session.isClosed) {
    exec.stdout.resume();
    exec.stderr.resume();
    await exec.done.catch(() => undefined);
    return;
  }

  const stdinStream = streams.get('stdin');
  if (stdinStream && exec.stdin) stdinStream.pipe(exec.stdin);
  streams.get('resize')?.resume();
  const errorStream = streams.get('error');
  errorStream?.resume();
  // With a tty, stderr shares the stdout stream (the client opened no stderr stream).
  const stdout = streams.get('stdout') ?? discard();
  const stderr = streams.get('stderr') ?? (params.tty ? stdout : discard());
  const status = await settle(exec, { stdout, stderr });
  done = true;
  if (errorStream) {
    errorStream.end(JSON.stringify(status));
    await finished(errorStream, { readable: false }).catch(() => undefined);
  }
  session.close();
}
