import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  type AppContract,
  type AppFolder,
  type BuildArg,
  contractApp,
  loadContract,
} from './app-contract.ts';
import { type ParsedValues, targetOptionArgs } from './cli.ts';
import { CHART_PATH } from './context.ts';
import type { EnvFile } from './envfile.ts';
import { UsageError } from './errors.ts';
import { type Helm, translateHelmError, valuesArgs } from './helm.ts';
import type { Kubectl } from './kubectl.ts';
import { translateKubectlError } from './kubectl.ts';
import type { Place } from './kube-context.ts';
import { npmRun } from './suggest.ts';
import { type Values, atPath, deepMerge, getPath } from './values.ts';

/** The chart's appVersion: the tag of the TaskFlow images when neither a tag nor --build sets one. */
export function chartAppVersion(chartDir: string = CHART_PATH): string | undefined {
  try {
    const text = readFileSync(path.join(chartDir, 'Chart.yaml'), 'utf8');
    return /^appVersion:\s*['"]?([^'"\s]+)['"]?\s*$/m.exec(text)?.[1];
  } catch {
    return undefined;
  }
}

/**
 * Says so plainly when an image is a TaskFlow image with the chart's default tag: the TaskFlow images are
 * not published anywhere, so no registry and no build produces that tag. Undefined for any other image.
 */
export function defaultTagProblem(image: string, chartDir: string = CHART_PATH): string | undefined {
  const m = /^(?:[\w.-]+(?::\d+)?\/)?(taskflow\/[\w.-]+):([\w.-]+)$/.exec(image);
  const version = chartAppVersion(chartDir);
  if (!m || version === undefined || m[2] !== version) return undefined;
  return `${image} carries the chart's default tag ${version}, which no build produces (the TaskFlow images are not published): build them into the cluster with ${npmRun('deploy', '--build')} (TASKFLOW_SRC set to your TaskFlow checkout), or set TASKFLOW_IMAGE_TAG to a tag you built and pushed`;
}

/** One of the five images built from the platform sources (the app contract's `images`). */
export interface ImageSpec {
  image: string;
  /** The application whose folder is the build context (its path depends on the source layout). */
  app: AppFolder;
  target?: string;
  /** Where its repository/tag go in the chart values. */
  valuesPath: string;
  /** The application's build arguments (NEXT_PUBLIC_* baked in at build time). */
  args: readonly BuildArg[];
}

/** The images the contract names, with their apps' build arguments. */
export function imageSpecs(contract: AppContract = loadContract()): ImageSpec[] {
  return (['sso', 'api', 'mcp', 'web'] as const).flatMap((id) => {
    const app = contractApp(contract, id);
    return (app.images ?? []).map((img) => ({
      image: img.repository,
      app: id,
      ...(img.target !== undefined && { target: img.target }),
      valuesPath: img.values,
      args: app.build ?? [],
    }));
  });
}

/** Where the chart takes each built image (repository + tag). */
export const IMAGE_PATHS = ['sso.image', 'sso.migrations.image', 'api.image', 'mcp.image', 'web.image'];

/** The tags `--build` gives images: 12 hex characters of a content hash. */
export const CONTENT_TAG = /^[0-9a-f]{12}$/;

/**
 * The images an earlier `--build` gave the installed release (recognised by their content tag), with
 * its pull policy: a plain redeploy keeps them, else it would roll the pods back to the default images.
 */
export function keptImageValues(previous: Values): Values {
  let out: Values = {};
  let built = false;
  for (const p of IMAGE_PATHS) {
    const tag = getPath(previous, `${p}.tag`);
    const repository = getPath(previous, `${p}.repository`);
    if (typeof tag !== 'string' || !CONTENT_TAG.test(tag)) continue;
    built = true;
    out = deepMerge(out, atPath(p, { tag, ...(typeof repository === 'string' && { repository }) }));
  }
  const policy = getPath(previous, 'global.imagePullPolicy');
  if (built && typeof policy === 'string') out = deepMerge(out, { global: { imagePullPolicy: policy } });
  return out;
}

/**
 * The TaskFlow source folder (the one reading of it): `--src`, else TASKFLOW_SRC from the environment,
 * else from the env file. Undefined when none names one.
 */
export function platformSource(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  envFile: Pick<EnvFile, 'entries'> | undefined,
): string | undefined {
  const e = envFile?.entries.get('TASKFLOW_SRC');
  const fromFile = e === undefined ? undefined : typeof e.value === 'string' ? e.value : e.value.reveal();
  for (const v of [flag, env.TASKFLOW_SRC, fromFile]) if (v !== undefined && v.trim() !== '') return v.trim();
  return undefined;
}

/**
 * Whether a reference names a registry: its first path segment has a '.' or ':' or is `localhost`
 * (`ghcr.io/x/api:1`, `localhost:5000/api:1`). `taskflow/api:1` names none: it means Docker Hub.
 */
export function namesRegistry(image: string): boolean {
  const slash = image.indexOf('/');
  if (slash < 0) return false;
  const first = image.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost';
}

/** A reference as a node's image list and the pod spec can both be compared: Docker Hub's prefixes dropped, `:latest` made explicit. */
export function normalImageName(name: string): string {
  const n = name
    .replace(/^(?:docker\.io|index\.docker\.io|registry-1\.docker\.io)\//, '')
    .replace(/^library\//, '');
  const last = n.slice(n.lastIndexOf('/') + 1);
  return last.includes(':') || last.includes('@') ? n : `${n}:latest`;
}

/**
 * The platform's images a release with these values runs (values over the chart's values.yaml): the
 * contract's repositories at their values paths, tagged as the chart's `taskflow.appImage` does (the
 * image's tag, else global.imageTag, else the chart's appVersion); the images of a disabled app are left out.
 */
export function platformImages(values: Values, chartDir: string = CHART_PATH): string[] {
  const appVersion = chartAppVersion(chartDir);
  const global = getPath(values, 'global.imageTag');
  const out = new Set<string>();
  for (const spec of imageSpecs()) {
    const app = spec.valuesPath.split('.')[0] ?? spec.app;
    if (getPath(values, `${app}.enabled`) === false) continue;
    const repository = getPath(values, `${spec.valuesPath}.repository`);
    const own = getPath(values, `${spec.valuesPath}.tag`);
    const tag = [own, global, appVersion].find(
      (t) => (typeof t === 'string' || typeof t === 'number') && t !== '',
    );
    if (typeof repository !== 'string' || repository === '' || tag === undefined) continue;
    out.add(`${repository}:${String(tag)}`);
  }
  return [...out];
}

/**
 * kubelet reports at most this many images per node (its --node-status-max-images, the largest first):
 * a list this long may leave out an image the node has.
 */
export const NODE_IMAGE_CAP = 50;

/** What the Nodes say of the images they hold. */
export interface NodeImages {
  nodes: string[];
  /** every name some node lists, normalised; undefined when a node reports no image list (it may hold any) */
  names?: Set<string>;
  /** a node's list is at kubelet's cap: an image missing from it may still be there */
  capped: boolean;
}

/** kubectl arguments (cluster-scoped) that read the Nodes with their `status.images`. */
export const NODE_IMAGES_ARGS: readonly string[] = ['get', 'nodes', '-o', 'json', '--request-timeout=15s'];

interface NodeDoc {
  items?: { metadata?: { name?: string }; status?: { images?: { names?: string[] }[] } }[];
}

/** The image lists of a `kubectl get nodes -o json` document (pure). */
export function nodeImagesOf(doc: NodeDoc): NodeImages {
  const items = doc.items ?? [];
  const lists = items.map((n) => n.status?.images).filter((l) => Array.isArray(l));
  return {
    nodes: items.map((n) => n.metadata?.name ?? '?'),
    ...(lists.length > 0 &&
      lists.length === items.length && {
        names: new Set(lists.flat().flatMap((i) => (i.names ?? []).map(normalImageName))),
      }),
    capped: lists.some((l) => l.length >= NODE_IMAGE_CAP),
  };
}

/** Reads the Nodes' image lists; a failure (no right to list nodes, ...) is thrown, translated. */
export async function readNodeImages(k: Kubectl): Promise<NodeImages> {
  const res = await k.run(NODE_IMAGES_ARGS, { clusterScoped: true, timeoutMs: 20_000 });
  if (res.exitCode !== 0) throw translateKubectlError(res.stderr, k.target, 'list the nodes');
  return nodeImagesOf(JSON.parse(res.stdout) as NodeDoc);
}

/** Whether the images a release would run can start, as far as the Nodes tell. */
export interface ImagesVerdict {
  /** ok: every judged image is on a node; missing: some cannot be pulled; unknown: cannot tell; not-judged: not a local cluster */
  status: 'ok' | 'missing' | 'unknown' | 'not-judged';
  /** the images no node has and no registry serves (status missing) */
  missing: string[];
  detail: string;
}

/** "a, b and c" */
export function listed(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/**
 * Judges the platform's images against the Nodes (pure). Only on a local cluster: an image no node has
 * that names no registry means Docker Hub, where the TaskFlow images are not published. Images that
 * name a registry are pulled from it and not judged; Nodes without image lists cannot tell.
 */
export function judgeImages(
  images: readonly string[],
  place: Pick<Place, 'local' | 'context' | 'reason'> | undefined,
  nodes: NodeImages | undefined,
): ImagesVerdict {
  const none = { missing: [] };
  if (!place?.local) {
    const where = place?.context ? `${place.context} is ${place.reason}` : 'no kube context read';
    return { ...none, status: 'not-judged', detail: `not judged: ${where} (its nodes pull from registries)` };
  }
  if (images.length === 0) return { ...none, status: 'ok', detail: 'the values run no TaskFlow image' };
  const judged = images.filter((i) => !namesRegistry(i));
  if (judged.length === 0)
    return { ...none, status: 'ok', detail: `every TaskFlow image names a registry: ${listed(images)}` };
  if (!nodes?.names) {
    return {
      ...none,
      status: 'unknown',
      detail: 'cannot tell: a node reports no image list (status.images)',
    };
  }
  const have = nodes.names;
  const missing = judged.filter((i) => !have.has(normalImageName(i)));
  if (missing.length === 0) {
    return {
      ...none,
      status: 'ok',
      detail: `${listed(judged)} ${judged.length === 1 ? 'is' : 'are'} on the node${nodes.nodes.length === 1 ? '' : 's'} (${nodes.nodes.join(', ')})`,
    };
  }
  if (nodes.capped) {
    return {
      ...none,
      status: 'unknown',
      detail: `cannot tell: ${listed(missing)} ${missing.length === 1 ? 'is' : 'are'} not in the nodes' image lists, but a node lists ${NODE_IMAGE_CAP} images, kubelet's limit, and may hold more`,
    };
  }
  const where = place.context ? `kube context "${place.context}"` : 'the cluster';
  return {
    status: 'missing',
    missing,
    detail: `${listed(missing)} ${missing.length === 1 ? 'is' : 'are'} on no node of ${where} and name${missing.length === 1 ? 's' : ''} no registry, so no pod can pull ${missing.length === 1 ? 'it' : 'them'}: the TaskFlow images are not published, they are built from the TaskFlow source`,
  };
}

/** The command that builds the images from a TaskFlow checkout and deploys (the deploy's target options first). */
export function buildCommand(targetArgs: readonly string[]): string {
  return npmRun('deploy', ...targetArgs, '--build', '--src', '<path>');
}

/** The refusal when images are missing and no TaskFlow source is named (exit 2). */
export function missingImagesError(verdict: ImagesVerdict, targetArgs: readonly string[]): UsageError {
  return new UsageError(`${verdict.detail}. Nothing was changed.`, {
    hint: `build them into the cluster from your TaskFlow checkout: ${buildCommand(targetArgs)} (or set TASKFLOW_SRC in the env file)`,
  });
}

/** What `--build` would say when it builds images no node has (the source is known). */
export function buildingFrom(verdict: ImagesVerdict, src: string): string {
  const n = verdict.missing.length;
  return `${listed(verdict.missing)} ${n === 1 ? 'is' : 'are'} on no node and name${n === 1 ? 's' : ''} no registry: building the images from ${src} first (as --build)`;
}

/** The target options of a command line, -f files included, to repeat in a deploy command. */
export function deployTargetArgs(v: ParsedValues): string[] {
  return targetOptionArgs(v, { values: true });
}

/**
 * The installed release's user-supplied values (`helm get values`); {} when none is installed. Another
 * failure is thrown, translated.
 */
export async function installedUserValues(helm: Helm): Promise<Values> {
  const res = await helm.run(valuesArgs(helm.target, false));
  if (res.exitCode !== 0) {
    if (/release: not found|release not found/i.test(res.stderr)) return {};
    throw translateHelmError(res.stderr, helm.target, 'read the release values');
  }
  const doc: unknown = JSON.parse(res.stdout || '{}');
  return doc !== null && typeof doc === 'object' ? (doc as Values) : {};
}

/** The image values a plain deploy keeps from the installed release (keptImageValues of its values). */
export async function installedImageValues(helm: Helm): Promise<Values> {
  return keptImageValues(await installedUserValues(helm));
}
