import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  type AppContract,
  type LayoutName,
  detectLayout,
  fillTemplate,
  loadContract,
} from '../app-contract.ts';
import { NotReadyError, OperationError, UsageError } from '../errors.ts';
import type { Runner } from '../exec.ts';
import { type ImageSpec, imageSpecs } from '../images.ts';
import type { Values } from './plan.ts';
import { atPath, deepMerge } from '../values.ts';

export type Builder = 'minikube' | 'docker';

/**
 * Folders never part of a build context's identity (dependencies, caches, VCS).
 */
const SKIP_DIRS = new Set([
  '.git',
  'node_modules',
  '.next',
  '.turbo',
  '__pycache__',
  '.venv',
  '.pytest_cache',
  'coverage',
]);

/**
 * The build arguments of an image, filled from the values the release gets (the chart's defaults, the
 * deploy's values, then the -f files), so the browser URLs baked in are the ones the chart serves.
 */
export function buildArgs(spec: ImageSpec, values: Values): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of spec.args) {
    const v = fillTemplate(a.value, values);
    if (v === undefined) {
      throw new UsageError(
        `cannot build ${spec.image}: ${a.name} needs ${a.value}, which the values do not set`,
        {
          hint: 'set the value named in braces in a values file (-f), or restore it in charts/taskflow/values.yaml',
        },
      );
    }
    out[a.name] = v;
  }
  return out;
}

/** The source layout of a folder, or a UsageError naming the Dockerfiles each layout needs. */
export function sourceLayout(
  src: string,
  contract: AppContract = loadContract(),
  exists: (p: string) => boolean = existsSync,
): LayoutName {
  const layout = detectLayout(src, contract, exists);
  if (layout) return layout;
  const expected = (Object.keys(contract.source.layouts) as LayoutName[]).map(
    (l) =>
      `${l} (${contract.source.layouts[l].commit}): ${(['sso', 'api', 'mcp', 'web'] as const)
        .map((a) => `${contract.source.layouts[l][a]}/Dockerfile`)
        .join(', ')}`,
  );
  throw new UsageError(`${src} holds neither TaskFlow source layout`, {
    hint: `expected ${expected.join('; or ')} (set TASKFLOW_SRC or --src to the platform sources)`,
  });
}

/** The build context folder of an image in a source folder of the given layout. */
export function contextDir(
  src: string,
  spec: ImageSpec,
  layout: LayoutName,
  contract: AppContract = loadContract(),
): string {
  return path.join(src, contract.source.layouts[layout][spec.app]);
}

/** Every file of a build context, relative and sorted (dependency and cache folders skipped). */
export function contextFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) walk(r);
      } else if (e.isFile()) out.push(r);
    }
  };
  walk('');
  return out.sort();
}

/**
 * A content tag: a short hash of the context's file list and contents, the target and the build args,
 * so pods roll exactly when something that goes into the image changed.
 */
export function contentTag(dir: string, target: string | undefined, args: Record<string, string>): string {
  const h = createHash('sha256');
  for (const f of contextFiles(dir)) {
    h.update(f)
      .update('\0')
      .update(readFileSync(path.join(dir, f)))
      .update('\0');
  }
  h.update(`target=${target ?? ''}\0`);
  for (const k of Object.keys(args).sort()) h.update(`${k}=${args[k]}\0`);
  return h.digest('hex').slice(0, 12);
}

/** argv of one image build (pure). */
export function buildArgv(
  builder: Builder,
  ref: string,
  dir: string,
  target: string | undefined,
  args: Record<string, string>,
  profile?: string,
): string[] {
  const pairs = Object.entries(args).sort(([a], [b]) => a.localeCompare(b));
  if (builder === 'minikube') {
    return [
      'minikube',
      'image',
      'build',
      ...(profile ? ['-p', profile] : []),
      '-t',
      ref,
      ...(target ? [`--build-opt=target=${target}`] : []),
      ...pairs.map(([k, v]) => `--build-opt=build-arg=${k}=${v}`),
      dir,
    ];
  }
  return [
    'docker',
    'build',
    '-t',
    ref,
    ...(target ? ['--target', target] : []),
    ...pairs.flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]),
    dir,
  ];
}

/** argv listing the images already in the builder's store (pure). */
export function listImagesArgv(builder: Builder, profile?: string): string[] {
  return builder === 'minikube'
    ? ['minikube', 'image', 'ls', '--format', 'short', ...(profile ? ['-p', profile] : [])]
    : ['docker', 'image', 'ls', '--format', '{{.Repository}}:{{.Tag}}'];
}

/** Image references from an image listing, without the default registry prefix. */
export function parseImageList(text: string): Set<string> {
  return new Set(
    text
      .split('\n')
      .map((l) => l.trim().replace(/^docker\.io\/(library\/)?/, ''))
      .filter(Boolean),
  );
}

/** One planned build. */
export interface PlannedBuild {
  spec: ImageSpec;
  ref: string;
  tag: string;
  argv: string[];
}

/** Works out every build (layout, content tags, argv) without running anything. */
export function planBuilds(opts: {
  src: string;
  builder: Builder;
  /** the values the release gets, chart defaults included (chartValues) */
  values: Values;
  profile?: string;
}): PlannedBuild[] {
  if (!existsSync(opts.src) || !statSync(opts.src).isDirectory()) {
    throw new UsageError(`the source folder ${opts.src} does not exist`, {
      hint: 'set TASKFLOW_SRC (or --src) to the platform sources',
    });
  }
  const contract = loadContract();
  const layout = sourceLayout(opts.src, contract);
  return imageSpecs(contract).map((spec) => {
    const dir = contextDir(opts.src, spec, layout, contract);
    const args = buildArgs(spec, opts.values);
    const tag = contentTag(dir, spec.target, args);
    const ref = `${spec.image}:${tag}`;
    return { spec, ref, tag, argv: buildArgv(opts.builder, ref, dir, spec.target, args, opts.profile) };
  });
}

/** The chart values that make the release use the built images. */
export function imageValues(builds: PlannedBuild[]): Values {
  let v: Values = { global: { imagePullPolicy: 'IfNotPresent' } };
  for (const b of builds)
    v = deepMerge(v, atPath(b.spec.valuesPath, { repository: b.spec.image, tag: b.tag }));
  return v;
}

/** Which builder to use: the one asked for, else minikube when on PATH, else docker. */
export function pickBuilder(asked: Builder | undefined, env: NodeJS.ProcessEnv): Builder {
  const onPath = (name: string) =>
    (env.PATH ?? '').split(path.delimiter).some((d) => {
      try {
        accessSync(path.join(d, name), constants.X_OK);
        return d !== '';
      } catch {
        return false;
      }
    });
  const choice = asked ?? (onPath('minikube') ? 'minikube' : 'docker');
  if (!onPath(choice)) {
    throw new NotReadyError(`--build needs ${choice}, which is not on PATH`, {
      hint:
        choice === 'minikube'
          ? 'install minikube, or build with --builder docker'
          : 'install docker (or minikube), or deploy without --build',
    });
  }
  return choice;
}

/**
 * Runs the builds two at a time, skipping images whose content tag is already in the store.
 * Returns the refs built and the refs reused.
 */
export async function runBuilds(
  runner: Runner,
  builds: PlannedBuild[],
  opts: {
    builder: Builder;
    profile?: string;
    concurrency?: number;
    onBuild?: (ref: string, state: 'start' | 'done' | 'reused') => void;
  },
): Promise<{ built: string[]; reused: string[] }> {
  const listing = await runner.run(listImagesArgv(opts.builder, opts.profile), { timeoutMs: 60_000 });
  const present = listing.exitCode === 0 ? parseImageList(listing.stdout) : new Set<string>();
  const todo = builds.filter((b) => !present.has(b.ref));
  const reused = builds.filter((b) => present.has(b.ref)).map((b) => b.ref);
  for (const r of reused) opts.onBuild?.(r, 'reused');
  const queue = [...todo];
  const built: string[] = [];
  const worker = async (): Promise<void> => {
    for (let b = queue.shift(); b; b = queue.shift()) {
      opts.onBuild?.(b.ref, 'start');
      const res = await runner.run(b.argv);
      if (res.exitCode !== 0) {
        const tail = `${res.stdout}\n${res.stderr}`.trim().split('\n').slice(-30).join('\n');
        queue.length = 0;
        throw new OperationError(`building ${b.ref} failed (exit code ${res.exitCode}):\n${tail}`, {
          hint: `fix the build, or run it by hand to see everything: ${b.argv.join(' ')}`,
        });
      }
      built.push(b.ref);
      opts.onBuild?.(b.ref, 'done');
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 2, todo.length) }, worker));
  return { built, reused };
}
