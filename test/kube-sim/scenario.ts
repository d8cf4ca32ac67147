// The failure-injection scenario: how the containers of each image behave, which storage
// classes exist, and how fast pods get ready.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type ApiFaults, checkApiFaults } from './faults.ts';
import type { ProgramSpec } from './kubelet/program.ts';

export type ImageState = 'ready' | 'crash' | 'pull-error' | 'never-ready' | 'oom' | 'complete' | 'hang';

/** How the containers of one image behave. */
export interface ImageBehaviour {
  state?: ImageState;
  /** Exit code of `crash` (default 1). */
  exitCode?: number;
  /** What the container prints (each run, for `crash`). */
  logs?: string;
  /** How long a run lasts before a `crash`, `oom` or `complete` container exits (ms, default 100). */
  runMs?: number;
  /** Lines per second a running container keeps printing after its start-up lines (a chatty app). */
  chatty?: number;
  /**
   * For a postgres image: how long its server takes, after the container starts, before it accepts
   * connections (ms, default 0: as long as the real initdb and start take). Meanwhile the container
   * runs, its client tools are there and a connection is refused.
   */
  serverStartMs?: number;
  /**
   * Run this program of the machine as the container (kubelet/program.ts), with the pod's env: its
   * output is the log, its exit the container's, its readiness the container's readinessProbe
   * (httpGet, tcpSocket) against the pod IP. `state` other than `ready` still wins (a pull error).
   */
  program?: ProgramSpec;
}

/** The scenario file's shape (testing.md). */
export interface Scenario {
  images?: Record<string, ImageBehaviour>;
  /** Storage classes that exist; the first is the default one. Default ["standard"]. */
  storageClasses?: string[];
  /** How long a started container takes to become ready, in ms. Default 300. */
  readyAfterMs?: number;
  /** Factor applied to progressDeadlineSeconds (default 0.01: 600 s becomes 6 s). */
  progressDeadlineScale?: number;
  /**
   * The images the node holds before any pod pulled one: its `status.images`, to which every image a
   * pod pulls is added, as kubelet does (never one in state `pull-error`). Unset: the node reports no
   * image list at all, so a client cannot tell which images it has.
   */
  nodeImages?: string[];
  /** A flaky API server: errors, resets, latency, watches closed early, 410 Gone (see faults.ts). */
  api?: ApiFaults;
}

const STATES: ImageState[] = ['ready', 'crash', 'pull-error', 'never-ready', 'oom', 'complete', 'hang'];

/** Loads a scenario from an object or a JSON file path, checking its states. */
export function loadScenario(input: Scenario | string | undefined): Scenario {
  const s: Scenario =
    typeof input === 'string' ? (JSON.parse(readFileSync(input, 'utf8')) as Scenario) : (input ?? {});
  for (const [image, b] of Object.entries(s.images ?? {})) {
    const cmd = b.program?.command as unknown;
    if (
      b.program !== undefined &&
      !(Array.isArray(cmd) && cmd.length > 0 && cmd.every((w) => typeof w === 'string'))
    )
      throw new Error(`scenario: image ${image}: program.command must be a non-empty list of words`);
    if (b.state !== undefined && !STATES.includes(b.state)) {
      throw new Error(
        `scenario: image ${image}: unknown state "${String(b.state)}" (one of ${STATES.join(', ')})`,
      );
    }
  }
  if (s.storageClasses !== undefined && !Array.isArray(s.storageClasses))
    throw new Error('scenario: storageClasses must be a list');
  if (
    s.nodeImages !== undefined &&
    !(Array.isArray(s.nodeImages) && s.nodeImages.every((i) => typeof i === 'string'))
  )
    throw new Error('scenario: nodeImages must be a list of image references');
  checkApiFaults(s.api);
  return s;
}

/** The repository part of an image reference: registry host kept, tag and digest dropped. */
export function imageRepository(image: string): string {
  let ref = image.split('@')[0] ?? image;
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) ref = ref.slice(0, colon);
  return ref;
}

/** The behaviour the scenario gives an image (by repository, tag ignored; registry prefixes tolerated). */
export function behaviourOf(s: Scenario, image: string): ImageBehaviour {
  const repo = imageRepository(image);
  const images = s.images ?? {};
  if (images[repo]) return images[repo];
  const parts = repo.split('/');
  // docker.io/library/postgres, registry.local:5000/taskflow/api ... match the shorter names too.
  for (let i = 1; i < parts.length; i++) {
    const tail = parts.slice(i).join('/');
    if (images[tail]) return images[tail];
  }
  return {};
}

/** Is this a PostgreSQL server image (official `postgres`, any registry or tag)? */
export function isPostgresImage(image: string): boolean {
  const repo = imageRepository(image);
  return repo === 'postgres' || repo.endsWith('/postgres');
}

/**
 * The names a node lists for an image, as containerd reports them: the reference with Docker Hub's
 * `docker.io/` (and `library/` for official images) spelt out, and a digest name.
 */
export function nodeImageNames(image: string): string[] {
  const repo = imageRepository(image);
  const rest = image.slice(repo.length);
  const first = repo.split('/')[0] ?? '';
  const hub = !repo.includes('/')
    ? `docker.io/library/${repo}`
    : /[.:]|^localhost$/.test(first)
      ? repo
      : `docker.io/${repo}`;
  const tagged = rest.startsWith('@') ? [] : [`${hub}${rest || ':latest'}`];
  const digest = createHash('sha256').update(image).digest('hex');
  return [`${hub}@sha256:${digest}`, ...tagged];
}
