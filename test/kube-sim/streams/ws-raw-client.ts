import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { Duplex } from 'node:stream';

// Test-only WebSocket client. `ws` (and WHATWG clients) refuse the subprotocol name
// `SPDY/3.1+portforward.k8s.io`; Go's gorilla/websocket, which kubectl uses, does not.

function frame(opcode: number, payload: Buffer): Buffer {
  const mask = randomBytes(4);
  const len = payload.length;
  const head =
    len < 126
      ? Buffer.of(0x80 | opcode, 0x80 | len)
      : len < 65536
        ? Buffer.of(0x80 | opcode, 0x80 | 126, len >> 8, len & 0xff)
        : Buffer.concat([Buffer.of(0x80 | opcode, 0x80 | 127), u64(len)]);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] = (body[i] ?? 0) ^ (mask[i & 3] ?? 0);
  return Buffer.concat([head, mask, body]);
}

function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

/** A WebSocket as a byte stream: binary messages in both directions, masked as a client must. */
class RawWsDuplex extends Duplex {
  private buf = Buffer.alloc(0);

  constructor(private readonly socket: net.Socket) {
    super();
    socket.on('data', (c: Buffer) => this.onBytes(c));
    socket.on('close', () => {
      this.push(null);
      this.destroy();
    });
    socket.on('error', () => this.destroy());
  }

  private onBytes(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      if (this.buf.length < 2) return;
      const opcode = (this.buf[0] ?? 0) & 0x0f;
      let len = (this.buf[1] ?? 0) & 0x7f;
      let off = 2;
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        len = Number(this.buf.readBigUInt64BE(2));
        off = 10;
      }
      if (this.buf.length < off + len) return;
      const payload = this.buf.subarray(off, off + len);
      this.buf = this.buf.subarray(off + len);
      if (opcode === 0x2 || opcode === 0x0) {
        if (!this.push(payload)) this.socket.pause();
      } else if (opcode === 0x9) this.socket.write(frame(0xa, payload));
      else if (opcode === 0x8) {
        this.socket.end(frame(0x8, payload.subarray(0, 2)));
        this.push(null);
      }
    }
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.socket.write(frame(0x2, chunk))) cb();
    else this.socket.once('drain', () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.socket.end(frame(0x8, Buffer.of(0x03, 0xe8)));
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.socket.destroy();
    cb(err);
  }
}

/** Opens a WebSocket to `path` offering `protocol`; rejects unless the server picks it. */
export async function rawWebSocket(port: number, path: string, protocol: string): Promise<Duplex> {
  const socket = net.connect(port, '127.0.0.1');
  const key = randomBytes(16).toString('base64');
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
      `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`,
  );
  const rest = await new Promise<Buffer>((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (c: Buffer): void => {
      buf = Buffer.concat([buf, c]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.pause();
      const head = buf.subarray(0, end).toString();
      const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      if (!head.startsWith('HTTP/1.1 101') || !head.includes(`Sec-WebSocket-Accept: ${accept}`)) {
        return reject(new Error(`websocket refused: ${head}`));
      }
      if (!head.includes(`Sec-WebSocket-Protocol: ${protocol}`))
        return reject(new Error(`no subprotocol: ${head}`));
      resolve(buf.subarray(end + 4));
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
  const duplex = new RawWsDuplex(socket);
  if (rest.length) socket.unshift(rest);
  socket.resume();
  return duplex;
}
