import type { Duplex } from 'node:stream';
import { finished } from 'node:stream/promises';
import { messageOf, type PodRef, type PodRuntime } from './runtime-types.ts';
import { header, RstStatus } from './spdy-frames.ts';
import { SpdySession, type SpdyStream } from './spdy-session.ts';

/** The port-forward protocol over plain SPDY, and its name when tunnelled in a WebSocket. */
export const PORTFORWARD_PROTOCOL = 'portforward.k8s.io';
export const PORTFORWARD_WS_PROTOCOL = `SPDY/3.1+${PORTFORWARD_PROTOCOL}`;

interface Pair {
  error?: SpdyStream;
  data?: SpdyStream;
  started: boolean;
}

/**
 * Serves kubectl port-forward on a SPDY connection: for each local connection kubectl
 * opens an error stream and a data stream sharing `requestid` and `port`; the data
 * stream is joined to `runtime.connectPort`, and a failed connect is reported on the
 * error stream (kubectl then drops the whole session: "lost connection to pod").
 */
export function servePortForward(transport: Duplex, runtime: PodRuntime, pod: PodRef): SpdySession {
  const pairs = new Map<string, Pair>();
  const backends = new Set<Duplex>();
  const session = new SpdySession(transport, {
    server: true,
    onStream: (s) => {
      const type = header(s.headers, 'streamtype');
      const requestId = header(s.headers, 'requestid');
      if ((type !== 'error' && type !== 'data') || requestId === undefined)
        return s.reset(RstStatus.ProtocolError);
      s.reply();
      // kubectl never writes on the error stream: read its FIN so the stream can complete.
      if (type === 'error') s.resume();
      const pair = pairs.get(requestId) ?? { started: false };
      pairs.set(requestId, pair);
      if (pair[type]) return s.reset(RstStatus.ProtocolError);
      pair[type] = s;
      if (pair.error && pair.data && !pair.started) {
        pair.started = true;
        void forward(pair.error, pair.data, header(s.headers, 'port') ?? '').finally(() =>
          pairs.delete(requestId),
        );
      }
    },
  });
  session.once('close', () => {
    for (const b of backends) b.destroy();
  });

  async function forward(errorStream: SpdyStream, dataStream: SpdyStream, portText: string): Promise<void> {
    const port = Number(portText);
    let backend: Duplex;
    try {
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`invalid port "${portText}"`);
      backend = await runtime.connectPort(pod, port);
    } catch (err) {
      errorStream.end(
        `error forwarding port ${portText} to pod ${pod.name}_${pod.namespace}, uid : ${messageOf(err)}`,
      );
      dataStream.end();
      return;
    }
    if (dataStream.destroyed || session.isClosed) {
      backend.destroy();
      return;
    }
    backends.add(backend);
    await new Promise<void>((resolve) => {
      // kubectl's FIN half-closes the backend; the backend's end is our FIN. Like a kubelet,
      // the forward is over once the backend is done (or kubectl resets the stream).
      dataStream.pipe(backend);
      backend.pipe(dataStream);
      backend.on('error', () => dataStream.end());
      backend.once('close', () => {
        if (!dataStream.writableEnded) dataStream.end();
        void finishedWriting(dataStream).then(resolve);
      });
      dataStream.once('close', () => resolve());
    });
    backends.delete(backend);
    backend.destroy();
    errorStream.end();
  }

  return session;
}

function finishedWriting(s: SpdyStream): Promise<void> {
  return finished(s, { readable: false }).catch(() => undefined);
}
