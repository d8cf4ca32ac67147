// Decodes Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`) into the
// JSON form of the object. Typed clients (kubectl create, helm's release storage) send them.
// The envelope is the magic "k8s\0" followed by a runtime.Unknown message.
import { KubeSimError } from '../runtime.ts';
import { DECODABLE_KINDS, MESSAGES, POINTER_SCALARS } from './schema.ts';

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

type Json = unknown;
interface FieldDef {
  type: string;
  name: string;
  repeated: boolean;
  map: boolean;
  inline: boolean;
}

const parsed = new Map<string, Map<number, FieldDef>>();
function fieldsOf(message: string): Map<number, FieldDef> {
  let m = parsed.get(message);
  if (m) return m;
  m = new Map();
  for (const entry of (MESSAGES[message] ?? '').split(' ').filter(Boolean)) {
    const [num = '', rawType = '', name = ''] = entry.split(':');
    let type = rawType;
    const map = type.startsWith('{');
    const repeated = type.startsWith('*');
    if (map || repeated) type = type.slice(1);
    const inline = type.startsWith('^');
    if (inline) type = type.slice(1);
    m.set(Number(num), { type, name, repeated, map, inline });
  }
  parsed.set(message, m);
  return m;
}

/** A minimal protobuf wire-format reader. */
class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error('truncated varint');
      const b = this.buf[this.pos++] ?? 0;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  }
  bytes(): Buffer {
    const len = Number(this.varint());
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
  /** Each field of the message as (number, wire type); the value is read by the caller. */
  *fields(): Generator<[number, number]> {
    while (!this.done()) {
      const tag = Number(this.varint());
      yield [tag >>> 3, tag & 7];
    }
  }
}

function scalar(type: string, r: Reader, wire: number): Json {
  switch (type) {
    case 's':
      return r.bytes().toString('utf8');
    case 'y':
      return r.bytes().toString('base64');
    case 'b':
      return r.varint() !== 0n;
    case 'i': {
      const v = BigInt.asIntN(64, r.varint());
      return Number(v);
    }
    case 'd': {
      if (wire === 1) {
        const v = r.buf.readDoubleLE(r.pos);
        r.pos += 8;
        return v;
      }
      const v = r.buf.readFloatLE(r.pos);
      r.pos += 4;
      return v;
    }
    default:
      return special(type, r.bytes());
  }
}

function special(type: string, buf: Buffer): Json {
  const r = new Reader(buf);
  const vals = new Map<number, bigint | Buffer>();
  for (const [num, wire] of r.fields()) vals.set(num, wire === 2 ? r.bytes() : wire === 0 ? r.varint() : 0n);
  const str = (n: number): string => {
    const v = vals.get(n);
    return Buffer.isBuffer(v) ? v.toString('utf8') : '';
  };
  const int = (n: number): number => {
    const v = vals.get(n);
    return typeof v === 'bigint' ? Number(BigInt.asIntN(64, v)) : 0;
  };
  switch (type) {
    case 'q':
      return str(1);
    case 'ios':
      return int(1) === 1 ? str(3) : int(2);
    case 't': {
      if (!vals.has(1)) return null;
      return new Date(int(1) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    }
    case 'dur':
      return `${int(1) / 1e9}s`;
    case 'raw': {
      const raw = vals.get(1);
      if (!Buffer.isBuffer(raw) || raw.length === 0) return null;
      return JSON.parse(raw.toString('utf8')) as Json;
    }
    default:
      return null;
  }
}

function isEmpty(v: Json): boolean {
  if (v === null || v === '' || v === undefined) return true;
  if (Array.isArray(v)) return v.length === 0;
  return typeof v === 'object' && Object.keys(v).length === 0;
}

function decodeMessage(message: string, buf: Buffer): Record<string, Json> {
  const defs = fieldsOf(message);
  const out: Record<string, Json> = {};
  const r = new Reader(buf);
  for (const [num, wire] of r.fields()) {
    const def = defs.get(num);
    if (!def || def.type === 'x') {
      r.skip(wire);
      continue;
    }
    if (def.map) {
      const entry = new Reader(r.bytes());
      let key = '';
      let value: Json = def.type === 's' || def.type === 'y' ? '' : null;
      for (const [n, w] of entry.fields()) {
        if (n === 1) key = entry.bytes().toString('utf8');
        else if (n === 2) value = readValue(def.type, entry, w);
        else entry.skip(w);
      }
      const obj = (out[def.name] ??= {}) as Record<string, Json>;
      obj[key] = value;
      continue;
    }
    if (def.repeated && wire === 2 && (def.type === 'i' || def.type === 'b')) {
      // packed scalars
      const packed = new Reader(r.bytes());
      const list = (out[def.name] ??= []) as Json[];
      while (!packed.done()) list.push(scalar(def.type, packed, 0));
      continue;
    }
    const value = readValue(def.type, r, wire);
    if (def.repeated) ((out[def.name] ??= []) as Json[]).push(value);
    else if (def.inline && value && typeof value === 'object') Object.assign(out, value);
    else out[def.name] = value;
  }
  // gogo protobuf writes non-pointer zero values; JSON omits them (omitempty).
  for (const [k, v] of Object.entries(out)) {
    const zero = v === 0 || v === false;
    if ((isEmpty(v) && k !== 'data' && k !== 'stringData') || (zero && !POINTER_SCALARS.has(k)))
      delete out[k];
  }
  return out;
}

function readValue(type: string, r: Reader, wire: number): Json {
  if (type.startsWith('m')) return decodeMessage(type.slice(1), r.bytes());
  return scalar(type, r, wire);
}

/** True for a body in the Kubernetes protobuf envelope. */
export function isProtobuf(body: Buffer): boolean {
  return body.length >= 4 && body.subarray(0, 4).equals(MAGIC);
}

/** Decodes an enveloped protobuf object into its JSON form (apiVersion and kind set). */
export function decodeProtobufObject(body: Buffer): Record<string, Json> {
  if (!isProtobuf(body)) throw new KubeSimError(400, 'protobuf body without the k8s envelope');
  const r = new Reader(body.subarray(4));
  let apiVersion = '';
  let kind = '';
  let raw: Buffer = Buffer.alloc(0);
  for (const [num, wire] of r.fields()) {
    if (num === 1) {
      const tm = new Reader(r.bytes());
      for (const [n, w] of tm.fields()) {
        if (n === 1) apiVersion = tm.bytes().toString('utf8');
        else if (n === 2) kind = tm.bytes().toString('utf8');
        else tm.skip(w);
      }
    } else if (num === 2) raw = r.bytes();
    else r.skip(wire);
  }
  if (!DECODABLE_KINDS.includes(kind)) {
    throw new KubeSimError(
      415,
      `the simulated cluster cannot decode protobuf bodies of kind ${kind || '(none)'}`,
    );
  }
  return { apiVersion, kind, ...decodeMessage(kind, raw) };
}
