import { Duplex, Writable } from 'node:stream';
import type { WebSocket } from 'ws';

// Above this much unsent data a writer waits for the socket instead of queueing more.
const WS_HIGH_WATER = 1024 * 1024;

function sendBinary(ws: WebSocket, data: Buffer, cb: (err?: Error | null) => void): void {
  if (ws.readyState !== ws.OPEN) return cb(new Error('websocket closed'));
  let called = false;
  ws.send(data, { binary: true }, (err) => {
    if (!called) {
      called = true;
      cb(err);
    }
  });
  if (ws.bufferedAmount < WS_HIGH_WATER && !called) {
    called = true;
    cb();
  }
}

/**
 * A WebSocket seen as a byte stream: each binary message is a chunk, as kubectl's
 * tunnelling connection treats them (message boundaries carry no meaning).
 */
export class WebSocketDuplex extends Duplex {
  constructor(private readonly ws: WebSocket) {
    super({ allowHalfOpen: false });
    ws.on('message', (data: Buffer) => {
      if (!this.push(data)) ws.pause();
    });
    ws.on('close', () => {
      this.push(null);
      process.nextTick(() => this.destroy());
    });
    ws.on('error', () => this.destroy());
  }

  override _read(): void {
    this.ws.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    sendBinary(this.ws, chunk, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.close(1000);
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.close(1000);
    // A peer that never answers the close handshake must not keep the socket.
    setTimeout(() => this.ws.terminate(), 2_000).unref();
    cb(err);
  }
}

/** Writes each chunk as one binary message prefixed with a channel byte (k8s channel protocol). */
export class ChannelWriter extends Writable {
  constructor(
    private readonly ws: WebSocket,
    private readonly channel: number,
  ) {
    super();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    // A closed client just loses output; the command still runs to its end.
    sendBinary(this.ws, Buffer.concat([Buffer.of(this.channel), chunk]), () => cb());
  }
}
