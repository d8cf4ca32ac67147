import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { SPDY3_DICTIONARY } from './spdy-dictionary.ts';
import {
  adler32,
  dataFrame,
  FrameReader,
  FrameType,
  HeaderCodec,
  parseHeaderFrame,
  pingFrame,
} from './spdy-frames.ts';

/** A peer compressing like Go's spdy framer: one zlib stream with the dictionary, sync-flushed per block. */
function goLikeCompressor(): (raw: Buffer) => Promise<Buffer> {
  const deflate = zlib.createDeflate({ dictionary: SPDY3_DICTIONARY, level: 9 });
  return (raw) =>
    new Promise((resolve) => {
      deflate.write(raw);
      deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        const out: Buffer[] = [];
        for (let c: Buffer | null; (c = deflate.read() as Buffer | null) !== null;) out.push(c);
        resolve(Buffer.concat(out));
      });
    });
}

function block(pairs: [string, string][]): Buffer {
  const parts = [Buffer.alloc(4)];
  parts[0]?.writeUInt32BE(pairs.length);
  for (const [k, v] of pairs) {
    for (const s of [k, v]) {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(Buffer.byteLength(s));
      parts.push(len, Buffer.from(s));
    }
  }
  return Buffer.concat(parts);
}

describe('SPDY/3 framing', () => {
  it('has the SPDY/3 header dictionary (DICTID 0xe3c6a7c2)', () => {
    expect(SPDY3_DICTIONARY.length).toBe(1423);
    expect(adler32(SPDY3_DICTIONARY)).toBe(0xe3c6a7c2);
    expect(adler32(Buffer.from('Wikipedia'))).toBe(0x11e60398);
  });

  it('inflates header blocks of a real zlib peer across frames with one context', async () => {
    const codec = new HeaderCodec();
    const compress = goLikeCompressor();
    for (let id = 1; id < 40; id += 2) {
      const raw = block([
        ['streamtype', id % 4 === 1 ? 'error' : 'data'],
        ['port', '5432'],
        ['requestid', String(id >> 1)],
      ]);
      const fixed = Buffer.alloc(10);
      fixed.writeUInt32BE(id);
      const payload = Buffer.concat([fixed, await compress(raw)]);
      const parsed = await parseHeaderFrame(FrameType.SynStream, payload, codec);
      expect(parsed.streamId).toBe(id);
      expect(parsed.headers.requestid).toEqual([String(id >> 1)]);
      expect(parsed.headers.port).toEqual(['5432']);
    }
    codec.close();
  });

  it('writes header blocks any zlib reader can follow, multi-values NUL-joined', () => {
    const codec = new HeaderCodec();
    const inflate = (buf: Buffer): Buffer =>
      zlib.inflateSync(buf, { dictionary: SPDY3_DICTIONARY, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    const first = codec.compress({ streamtype: ['data'] });
    const second = codec.compress({ 'x-a': ['1', '2'] });
    expect(first.subarray(0, 2)).toEqual(Buffer.of(0x78, 0x20));
    // Go's inflater releases a stored block's bytes only at the sync-flush marker: each frame ends with one.
    for (const b of [first, second]) expect(b.subarray(-5)).toEqual(Buffer.of(0, 0, 0, 0xff, 0xff));
    expect(inflate(first)).toEqual(block([['streamtype', 'data']]));
    expect(inflate(Buffer.concat([first, second])).subarray(block([['streamtype', 'data']]).length)).toEqual(
      block([['x-a', '1\0' + '2']]),
    );
    codec.close();
  });

  it('splits a byte stream into frames whatever the chunking', () => {
    const bytes = Buffer.concat([
      dataFrame(3, Buffer.from('hello')),
      pingFrame(7),
      dataFrame(5, Buffer.alloc(0), true),
    ]);
    for (const step of [1, 3, 8, bytes.length]) {
      const reader = new FrameReader();
      const frames = [];
      for (let i = 0; i < bytes.length; i += step) frames.push(...reader.push(bytes.subarray(i, i + step)));
      expect(frames).toEqual([
        { kind: 'data', streamId: 3, flags: 0, data: Buffer.from('hello') },
        { kind: 'control', type: FrameType.Ping, flags: 0, payload: Buffer.of(0, 0, 0, 7) },
        { kind: 'data', streamId: 5, flags: 1, data: Buffer.alloc(0) },
      ]);
    }
  });
});
