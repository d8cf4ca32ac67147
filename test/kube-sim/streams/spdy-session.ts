import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import {
  dataFrame,
  FLAG_FIN,
  FrameReader,
  FrameType,
  goAwayFrame,
  HeaderCodec,
  parseHeaderFrame,
  parseStreamAndCode,
  pingFrame,
  RstStatus,
  rstStreamFrame,
  synReplyFrame,
  synStreamFrame,
  type Frame,
  type SpdyHeaders,
} from './spdy-frames.ts';

// Large writes are cut so one stream cannot hold the connection for long.
const MAX_DATA_FRAME = 64 * 1024;

/**
 * One SPDY stream as a Duplex: readable side = the peer's DATA, writable side = ours
 * (end() sends FIN). Back-pressure on the readable side pauses the whole connection,
 * which is what SPDY without flow-control windows (spdystream) relies on.
 */
export class SpdyStream extends Duplex {
  /** Set when the peer reset the stream. */
  remoteReset = false;
  private localReset = false;
  private replied = false;
  private finReceived = false;

  constructor(
    private readonly session: SpdySession,
    readonly id: number,
    readonly headers: SpdyHeaders,
  ) {
    super({ allowHalfOpen: true, highWaterMark: 256 * 1024 });
    // Failures surface as 'close' (and remoteReset); a late write must not crash the process.
    this.on('error', () => undefined);
  }

  /** Sends SYN_REPLY (servers must answer every stream the client opens). */
  reply(headers: SpdyHeaders = {}): void {
    if (this.replied) return;
    this.replied = true;
    this.session.send(synReplyFrame(this.session.codec, this.id, headers));
  }

  /** The peer is done sending (FIN), or the connection is gone: readers see EOF, as with spdystream. */
  remoteEnd(): void {
    if (this.finReceived) return;
    this.finReceived = true;
    this.push(null);
  }

  /** Aborts the stream with RST_STREAM. */
  reset(status: number = RstStatus.Cancel): void {
    if (!this.localReset && !this.remoteReset) {
      this.localReset = true;
      this.session.send(rstStreamFrame(this.id, status));
    }
    this.destroy();
  }

  override _read(): void {
    this.session.unblock(this);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.localReset || this.remoteReset) return cb(new Error(`SPDY stream ${this.id} was reset`));
    // Output for a closed connection is dropped, so writers can still finish.
    if (this.session.isClosed) return cb();
    let ok = true;
    for (let off = 0; off < chunk.length; off += MAX_DATA_FRAME) {
      ok = this.session.send(dataFrame(this.id, chunk.subarray(off, off + MAX_DATA_FRAME)));
    }
    if (ok) cb();
    else this.session.whenDrained(() => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (!this.localReset && !this.remoteReset) this.session.send(dataFrame(this.id, Buffer.alloc(0), true));
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const complete = this.readableEnded && this.writableFinished;
    if (!complete && !this.localReset && !this.remoteReset && !this.session.isClosed) {
      this.localReset = true;
      this.session.send(rstStreamFrame(this.id, RstStatus.Cancel));
    }
    this.session.forget(this);
    cb(err);
  }
}

export interface SpdySessionOptions {
  /** Servers use even stream ids for streams they open, clients odd ones. */
  server: boolean;
  /** Called for every stream the peer opens. */
  onStream?: (stream: SpdyStream) => void;
}

/** A SPDY/3.1 connection over any byte Duplex (a socket, or a WebSocket tunnel). */
export class SpdySession extends EventEmitter {
  readonly codec = new HeaderCodec();
  private readonly reader = new FrameReader();
  private readonly streams = new Map<number, SpdyStream>();
  private readonly blocked = new Set<SpdyStream>();
  private drainWaiters: (() => void)[] = [];
  private nextId: number;
  private lastPeerStream = 0;
  private closed = false;
  private tornDown = false;
  private readonly queue: Frame[] = [];
  private pumping = false;
  private inputDone = false;

  constructor(
    private readonly transport: Duplex,
    private readonly opts: SpdySessionOptions,
  ) {
    super();
    this.nextId = opts.server ? 2 : 1;
    transport.on('data', (chunk: Buffer) => this.onBytes(chunk));
    transport.on('drain', () => this.flushDrainWaiters());
    transport.on('error', () => this.teardown());
    // The peer's last frames may still wait in the queue (header blocks inflate asynchronously).
    const inputDone = (): void => {
      this.inputDone = true;
      void this.pump();
    };
    transport.on('end', inputDone);
    transport.on('close', inputDone);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Opens a stream from this side (SYN_STREAM); the peer's SYN_REPLY emits 'reply' on it. */
  openStream(headers: SpdyHeaders, fin = false): SpdyStream {
    const stream = new SpdyStream(this, this.nextId, headers);
    this.nextId += 2;
    this.streams.set(stream.id, stream);
    this.send(synStreamFrame(this.codec, stream.id, headers, fin));
    return stream;
  }

  /** Says GOAWAY, ends the transport and drops every stream. */
  close(): void {
    if (this.closed) return;
    this.send(goAwayFrame(this.lastPeerStream));
    this.closed = true;
    this.transport.end();
    // A peer that stops reading must not keep the transport (and its socket) alive.
    setTimeout(() => this.transport.destroy(), 2_000).unref();
    this.teardown();
  }

  /** Writes raw frame bytes; false when the transport buffer is full. */
  send(frame: Buffer): boolean {
    if (this.closed || this.transport.destroyed || this.transport.writableEnded) return true;
    return this.transport.write(frame);
  }

  /** Runs `fn` once the transport has drained. */
  whenDrained(fn: () => void): void {
    if (this.closed) return fn();
    this.drainWaiters.push(fn);
  }

  /** A stream's reader wants more: resume the transport once no stream is over its limit. */
  unblock(stream: SpdyStream): void {
    if (this.blocked.delete(stream) && this.blocked.size === 0) this.transport.resume();
  }

  /** Removes a finished or destroyed stream. */
  forget(stream: SpdyStream): void {
    this.streams.delete(stream.id);
    this.unblock(stream);
  }

  private flushDrainWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }

  private teardown(): void {
    if (this.tornDown) return;
    this.tornDown = true;
    this.closed = true;
    // Like spdystream: a lost connection is EOF for every stream, and data already received stays readable.
    for (const s of [...this.streams.values()]) s.remoteEnd();
    this.flushDrainWaiters();
    this.codec.close();
    this.emit('close');
  }

  private onBytes(chunk: Buffer): void {
    try {
      this.queue.push(...this.reader.push(chunk));
    } catch {
      this.teardown();
      return;
    }
    void this.pump();
  }

  // Frames are handled strictly in order; only header blocks make the loop wait (inflate).
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (let f = this.queue.shift(); f && !this.closed; f = this.queue.shift()) {
        if (f.kind === 'data') this.onData(f.streamId, f.flags, f.data);
        else if (isHeaderFrame(f.type)) await this.onHeaderFrame(f.type, f.flags, f.payload);
        else this.onControl(f.type, f.payload);
      }
    } catch {
      this.teardown();
    } finally {
      this.pumping = false;
    }
    if (this.inputDone && this.queue.length === 0) this.close();
  }

  private onData(id: number, flags: number, data: Buffer): void {
    const stream = this.streams.get(id);
    if (!stream || stream.destroyed || stream.readableEnded) return;
    if (data.length && !stream.push(data)) {
      this.blocked.add(stream);
      this.transport.pause();
    }
    if (flags & FLAG_FIN) stream.remoteEnd();
  }

  private async onHeaderFrame(type: number, flags: number, payload: Buffer): Promise<void> {
    const { streamId, headers } = await parseHeaderFrame(type, payload, this.codec);
    if (this.closed) return;
    if (type === FrameType.SynStream) {
      this.lastPeerStream = Math.max(this.lastPeerStream, streamId);
      const stream = new SpdyStream(this, streamId, headers);
      this.streams.set(streamId, stream);
      if (flags & FLAG_FIN) stream.remoteEnd();
      if (this.opts.onStream) this.opts.onStream(stream);
      else stream.reset(RstStatus.RefusedStream);
    } else if (type === FrameType.SynReply) {
      const stream = this.streams.get(streamId);
      stream?.emit('reply', headers);
      if (stream && flags & FLAG_FIN) stream.remoteEnd();
    }
    // HEADERS frames carry nothing used here; they were inflated to keep the zlib context in step.
  }

  private onControl(type: number, payload: Buffer): void {
    switch (type) {
      case FrameType.RstStream: {
        const stream = this.streams.get(parseStreamAndCode(payload).streamId);
        if (stream) {
          stream.remoteReset = true;
          stream.destroy();
        }
        return;
      }
      case FrameType.Ping: {
        // Answer the peer's pings (odd ids from a client, even from a server); ours come back as 'pong'.
        const id = payload.readUInt32BE(0);
        if ((id & 1) === (this.opts.server ? 1 : 0)) this.send(pingFrame(id));
        else this.emit('pong', id);
        return;
      }
      case FrameType.GoAway:
        this.close();
        return;
      default:
        // SETTINGS and WINDOW_UPDATE: kubectl's spdystream keeps no flow-control windows either.
        return;
    }
  }
}

function isHeaderFrame(type: number): boolean {
  return type === FrameType.SynStream || type === FrameType.SynReply || type === FrameType.Headers;
}
