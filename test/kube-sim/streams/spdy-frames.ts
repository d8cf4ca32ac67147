import type { TransformOptions } from 'node:stream';
import zlib from 'node:zlib';
import { SPDY3_DICTIONARY } from './spdy-dictionary.ts';

/** SPDY/3 control frame types (SPDY/3.1 only adds session-level WINDOW_UPDATE). */
export const FrameType = {
  SynStream: 1,
  SynReply: 2,
  RstStream: 3,
  Settings: 4,
  Ping: 6,
  GoAway: 7,
  Headers: 8,
  WindowUpdate: 9,
} as const;

export const FLAG_FIN = 0x01;
/** RST_STREAM status codes used here. */
export const RstStatus = { ProtocolError: 1, InvalidStream: 2, RefusedStream: 3, Cancel: 5 } as const;

/** Header names are lower-case; a value list is NUL-joined on the wire. */
export type SpdyHeaders = Record<string, string[]>;

export type Frame =
  | { kind: 'data'; streamId: number; flags: number; data: Buffer }
  | { kind: 'control'; type: number; flags: number; payload: Buffer };

const MAX_LENGTH = 0xffffff;

/** Splits a byte stream into SPDY frames; feed it chunks in arrival order. */
export class FrameReader {
  private chunks: Buffer[] = [];
  private length = 0;

  /** Adds bytes and returns every frame now complete. */
  push(chunk: Buffer): Frame[] {
    if (chunk.length) {
      this.chunks.push(chunk);
      this.length += chunk.length;
    }
    const frames: Frame[] = [];
    while (this.length >= 8) {
      const head = this.peek(8);
      const bodyLen = head.readUInt32BE(4) & MAX_LENGTH;
      if (this.length < 8 + bodyLen) break;
      this.take(8);
      const body = this.take(bodyLen);
      const flags = head[4] ?? 0;
      const first = head.readUInt32BE(0);
      if (first & 0x80000000) {
        const version = (first >>> 16) & 0x7fff;
        if (version !== 3) throw new Error(`unsupported SPDY version ${version}`);
        frames.push({ kind: 'control', type: first & 0xffff, flags, payload: body });
      } else {
        frames.push({ kind: 'data', streamId: first & 0x7fffffff, flags, data: body });
      }
    }
    return frames;
  }

  private peek(n: number): Buffer {
    const first = this.chunks[0];
    if (first && first.length >= n) return first.subarray(0, n);
    return Buffer.concat(this.chunks).subarray(0, n);
  }

  private take(n: number): Buffer {
    const first = this.chunks[0];
    let out: Buffer;
    if (first && first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      const all = Buffer.concat(this.chunks);
      out = all.subarray(0, n);
      this.chunks = all.length > n ? [all.subarray(n)] : [];
    }
    this.length -= n;
    return out;
  }
}

/** zlib's Adler-32 checksum (the DICTID that names a preset dictionary). */
export function adler32(data: Buffer): number {
  let a = 1;
  let b = 0;
  for (const byte of data) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

// zlib header announcing the SPDY dictionary: CMF 0x78, FLG 0x20 (FDICT; 0x7820 % 31 == 0), DICTID.
const ZLIB_HEADER = Buffer.concat([Buffer.of(0x78, 0x20), u32(adler32(SPDY3_DICTIONARY))]);

const SYNC_MARKER = Buffer.of(0x00, 0x00, 0x00, 0xff, 0xff);

function serialise(headers: SpdyHeaders): Buffer {
  const parts: Buffer[] = [u32(Object.keys(headers).length)];
  for (const [name, values] of Object.entries(headers)) {
    const n = Buffer.from(name.toLowerCase(), 'utf8');
    const v = Buffer.from(values.join('\0'), 'utf8');
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return Buffer.concat(parts);
}

function parse(raw: Buffer): SpdyHeaders {
  const headers: SpdyHeaders = {};
  let p = 4;
  const read = (): Buffer => {
    const len = raw.readUInt32BE(p);
    const out = raw.subarray(p + 4, p + 4 + len);
    if (out.length !== len) throw new Error('truncated SPDY header block');
    p += 4 + len;
    return out;
  };
  const count = raw.readUInt32BE(0);
  for (let i = 0; i < count; i++) {
    const name = read().toString('utf8').toLowerCase();
    headers[name] = [...(headers[name] ?? []), ...read().toString('utf8').split('\0')];
  }
  return headers;
}

const INFLATE_OPTIONS: zlib.ZlibOptions & TransformOptions = {
  dictionary: SPDY3_DICTIONARY,
  highWaterMark: 1024 * 1024,
};

/**
 * Header block (de)compression of one SPDY connection. Outgoing blocks are written as
 * zlib "stored" blocks: valid for any zlib reader (Go's included) and synchronous, so
 * frames leave in order. Incoming blocks go through one persistent inflate context
 * (Node's streaming zlib is asynchronous: callers must decompress one block at a time).
 */
export class HeaderCodec {
  private started = false;
  // Room for any header block, so the flush callback never waits on an unread buffer.
  private readonly inflater = zlib.createInflate(INFLATE_OPTIONS);

  /** Serialises a header block and wraps it for the peer's inflate context. */
  compress(headers: SpdyHeaders): Buffer {
    const raw = serialise(headers);
    const parts: Buffer[] = [];
    if (!this.started) {
      this.started = true;
      parts.push(ZLIB_HEADER);
    }
    for (let off = 0; off < raw.length; off += 0xffff) {
      const piece = raw.subarray(off, off + 0xffff);
      const head = Buffer.alloc(5);
      head.writeUInt16LE(piece.length, 1);
      head.writeUInt16LE(~piece.length & 0xffff, 3);
      parts.push(head, piece);
    }
    // The empty stored block that ends a Z_SYNC_FLUSH: Go's inflater hands out the block's
    // bytes only when it reaches this marker, and must reach it within this frame.
    parts.push(SYNC_MARKER);
    return Buffer.concat(parts);
  }

  /** Decompresses and parses one frame's header block. */
  decompress(block: Buffer): Promise<SpdyHeaders> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.inflater.once('error', onError);
      this.inflater.write(block);
      this.inflater.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        this.inflater.off('error', onError);
        const out: Buffer[] = [];
        for (let c: Buffer | null; (c = this.inflater.read() as Buffer | null) !== null;) out.push(c);
        try {
          resolve(parse(Buffer.concat(out)));
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
    });
  }

  /** Releases the inflate context. */
  close(): void {
    this.inflater.destroy();
  }
}

/** First value of a header, if present. */
export function header(h: SpdyHeaders, name: string): string | undefined {
  return h[name.toLowerCase()]?.[0];
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/** A control frame with its 8-byte header. */
export function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE((0x8000 | 3) * 0x10000 + type);
  head.writeUInt32BE(((flags & 0xff) << 24) + payload.length, 4);
  return Buffer.concat([head, payload]);
}

/** A DATA frame; `fin` half-closes the stream. */
export function dataFrame(streamId: number, data: Buffer, fin = false): Buffer {
  if (data.length > MAX_LENGTH) throw new Error('SPDY data frame too large');
  const head = Buffer.alloc(8);
  head.writeUInt32BE(streamId & 0x7fffffff);
  head.writeUInt32BE(((fin ? FLAG_FIN : 0) << 24) + data.length, 4);
  return Buffer.concat([head, data]);
}

/** SYN_STREAM (what a client sends to open a stream). */
export function synStreamFrame(
  codec: HeaderCodec,
  streamId: number,
  headers: SpdyHeaders,
  fin = false,
): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt32BE(streamId & 0x7fffffff);
  return controlFrame(
    FrameType.SynStream,
    fin ? FLAG_FIN : 0,
    Buffer.concat([fixed, codec.compress(headers)]),
  );
}

/** SYN_REPLY (the answer that lets the opener use a stream). */
export function synReplyFrame(
  codec: HeaderCodec,
  streamId: number,
  headers: SpdyHeaders,
  fin = false,
): Buffer {
  return controlFrame(
    FrameType.SynReply,
    fin ? FLAG_FIN : 0,
    Buffer.concat([u32(streamId), codec.compress(headers)]),
  );
}

export function rstStreamFrame(streamId: number, status: number): Buffer {
  return controlFrame(FrameType.RstStream, 0, Buffer.concat([u32(streamId), u32(status)]));
}

export function pingFrame(id: number): Buffer {
  return controlFrame(FrameType.Ping, 0, u32(id));
}

export function goAwayFrame(lastGoodStreamId: number, status = 0): Buffer {
  return controlFrame(FrameType.GoAway, 0, Buffer.concat([u32(lastGoodStreamId), u32(status)]));
}

/** Stream id and header block of SYN_STREAM (10 fixed bytes) or SYN_REPLY/HEADERS (4). */
export async function parseHeaderFrame(type: number, payload: Buffer, codec: HeaderCodec) {
  const fixed = type === FrameType.SynStream ? 10 : 4;
  return {
    streamId: payload.readUInt32BE(0) & 0x7fffffff,
    headers: await codec.decompress(payload.subarray(fixed)),
  };
}

export function parseStreamAndCode(payload: Buffer) {
  return { streamId: payload.readUInt32BE(0) & 0x7fffffff, code: payload.readUInt32BE(4) };
}
