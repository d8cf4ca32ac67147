// Unit tests of the protobuf body decoder on hand-encoded messages (the real clients' bodies
// are covered by the kubectl and helm suites).
import { describe, expect, it } from 'vitest';
import { decodeProtobufObject, isProtobuf } from './protobuf/decode.ts';

/** Minimal protobuf writer for the test messages. */
const varint = (n: number): Buffer => {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
};
const bytesField = (num: number, data: Buffer | string): Buffer => {
  const b = Buffer.isBuffer(data) ? data : Buffer.from(data);
  return Buffer.concat([varint((num << 3) | 2), varint(b.length), b]);
};
const intField = (num: number, n: number): Buffer => Buffer.concat([varint(num << 3), varint(n)]);
const mapEntry = (num: number, k: string, v: Buffer | string): Buffer =>
  bytesField(num, Buffer.concat([bytesField(1, k), bytesField(2, v)]));
const envelope = (apiVersion: string, kind: string, raw: Buffer): Buffer =>
  Buffer.concat([
    Buffer.from('k8s\0', 'latin1'),
    bytesField(1, Buffer.concat([bytesField(1, apiVersion), bytesField(2, kind)])),
    bytesField(2, raw),
  ]);

describe('protobuf request bodies', () => {
  it('decodes a Secret: metadata, base64 data, type; zero values dropped unless the field is a pointer', () => {
    const meta = Buffer.concat([
      bytesField(1, 'creds'),
      bytesField(2, ''),
      bytesField(3, 'ns'),
      mapEntry(11, 'app', 'x'),
      bytesField(8, Buffer.alloc(0)),
    ]);
    const secret = Buffer.concat([
      bytesField(1, meta),
      mapEntry(2, 'password', Buffer.from([0, 255, 1])),
      bytesField(3, 'Opaque'),
      intField(5, 0),
    ]);
    const body = envelope('v1', 'Secret', secret);
    expect(isProtobuf(body)).toBe(true);
    expect(decodeProtobufObject(body)).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'creds', namespace: 'ns', labels: { app: 'x' } },
      data: { password: Buffer.from([0, 255, 1]).toString('base64') },
      type: 'Opaque',
      // immutable is a *bool: an explicit false on the wire is kept.
      immutable: false,
    });
  });

  it('decodes nested pod templates with int-or-string, quantities, lists and inlined volume sources', () => {
    const port = bytesField(2, Buffer.concat([intField(1, 1), bytesField(3, 'http')]));
    const probe = bytesField(
      1,
      Buffer.concat([bytesField(2, Buffer.concat([bytesField(1, '/health'), port]))]),
    );
    const resources = bytesField(
      1,
      Buffer.concat([bytesField(1, 'memory'), bytesField(2, bytesField(1, '64Mi'))]),
    );
    const container = Buffer.concat([
      bytesField(1, 'app'),
      bytesField(2, 'demo:1'),
      bytesField(4, 'a'),
      bytesField(4, 'b'),
      bytesField(8, resources),
      bytesField(11, probe),
    ]);
    const volume = Buffer.concat([
      bytesField(1, 'cfg'),
      bytesField(2, bytesField(19, bytesField(1, bytesField(1, 'settings')))),
    ]);
    const podSpec = Buffer.concat([bytesField(1, volume), bytesField(2, container), bytesField(3, 'Never')]);
    const job = Buffer.concat([
      bytesField(1, bytesField(1, 'run-1')),
      bytesField(2, Buffer.concat([intField(7, 0), bytesField(6, bytesField(2, podSpec))])),
    ]);
    const out = decodeProtobufObject(envelope('batch/v1', 'Job', job));
    expect(out).toEqual({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'run-1' },
      spec: {
        backoffLimit: 0,
        template: {
          spec: {
            volumes: [{ name: 'cfg', configMap: { name: 'settings' } }],
            containers: [
              {
                name: 'app',
                image: 'demo:1',
                args: ['a', 'b'],
                resources: { limits: { memory: '64Mi' } },
                readinessProbe: { httpGet: { path: '/health', port: 'http' } },
              },
            ],
            restartPolicy: 'Never',
          },
        },
      },
    });
  });

  it('refuses kinds it has no schema for with 415', () => {
    expect(() => decodeProtobufObject(envelope('v1', 'Binding', Buffer.alloc(0)))).toThrow(
      /cannot decode protobuf bodies of kind Binding/,
    );
  });
});
