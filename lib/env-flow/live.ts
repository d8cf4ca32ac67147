import { createHash } from 'node:crypto';
import { releaseSelector } from '../components.ts';
import { type KubeObject, type Kubectl, matchesLabels } from '../kubectl.ts';
import { registerSecrets } from '../redact.ts';
import type { LinkResult } from '../flow-prove.ts';
import { secretValues } from '../config-scan.ts';
import { containersOf, findWorkload, podSpecOf, referencedObjects, resolveEnv } from '../workload-env.ts';

/**
 * How the live release compares with what the settings would deploy now (never a value). `stale`: the
 * live Secret or ConfigMap already holds the value, but the running pod started with another one.
 * `drifting`: the running pod has the value, but the live Secret or ConfigMap now holds another one
 * (the next restart would take that).
 */
export type LiveStatus = 'same' | 'differs' | 'stale' | 'drifting' | 'missing' | 'not-deployed' | 'unknown';

const hash = (s: string) => createHash('sha256').update(s).digest('hex');

/** The release's live workloads, ConfigMaps and the Secrets they reference (two kubectl calls). */
export async function readLive(kubectl: Kubectl, release: string): Promise<KubeObject[]> {
  const objects = await kubectl.list(
    ['deployments', 'statefulsets', 'cronjobs', 'configmaps', 'pods'],
    releaseSelector(release),
  );
  const names = [
    ...new Set(
      objects
        .flatMap((o) => referencedObjects(podSpecOf(o)))
        .filter((r) => r.kind === 'Secret')
        .map((r) => r.name),
    ),
  ];
  if (names.length === 0) return objects;
  const res = await kubectl.run(['get', 'secret', ...names, '--ignore-not-found', '-o', 'json']);
  if (res.exitCode !== 0 || !res.stdout.trim()) return objects;
  const doc = JSON.parse(res.stdout) as KubeObject & { items?: KubeObject[] };
  const secrets = doc.items ?? (doc.kind === 'Secret' ? [doc] : []);
  const all = [...objects, ...secrets];
  registerSecrets(...secretValues(all));
  return all;
}

/** The environment of running containers, by `pod/container` (undefined: could not be read). */
export type PodEnvs = Map<string, Map<string, string> | undefined>;

/** A running, not terminating pod of a Deployment or StatefulSet (by its selector's labels). */
export function runningPodOf(workload: KubeObject, live: readonly KubeObject[]): KubeObject | undefined {
  const sel = (workload.spec as { selector?: { matchLabels?: Record<string, string> } } | undefined)?.selector
    ?.matchLabels;
  return live.find(
    (p) =>
      p.kind === 'Pod' &&
      p.status?.phase === 'Running' &&
      !p.metadata.deletionTimestamp &&
      matchesLabels(sel ?? {}, p.metadata.labels),
  );
}

/** The running pod and container a link's value reaches, for env targets of Deployments and StatefulSets. */
function podTarget(
  link: LinkResult,
  live: readonly KubeObject[],
): { key: string; pod: string; container: string } | undefined {
  const t = link.target;
  if (!t || t.type !== 'env' || t.init || t.container === '*' || t.workload.kind === 'CronJob')
    return undefined;
  const workload = findWorkload(live, t.workload);
  const pod = workload ? runningPodOf(workload, live) : undefined;
  return pod
    ? { key: `${pod.metadata.name}/${t.container}`, pod: pod.metadata.name, container: t.container }
    : undefined;
}

/**
 * Reads the environment each running container was started with (`env -0` in it, one exec per
 * container, all at once). Values stay in memory for hashing; a container without `env` is undefined.
 */
export async function readPodEnvs(
  kubectl: Kubectl,
  links: readonly LinkResult[],
  live: readonly KubeObject[],
): Promise<PodEnvs> {
  const wanted = new Map<string, { pod: string; container: string }>();
  for (const l of links) {
    const p = podTarget(l, live);
    if (p) wanted.set(p.key, p);
  }
  const out: PodEnvs = new Map();
  await Promise.all(
    [...wanted].map(async ([key, p]) => {
      const res = await kubectl.exec(p.pod, p.container, ['env', '-0'], { timeoutMs: 15_000 });
      if (res.exitCode !== 0) return out.set(key, undefined);
      const env = new Map<string, string>();
      for (const entry of res.stdout.split('\0')) {
        const eq = entry.indexOf('=');
        if (eq > 0) env.set(entry.slice(0, eq), entry.slice(eq + 1));
      }
      out.set(key, env);
    }),
  );
  return out;
}

/**
 * Whether the live release gets the same value as the render for this link (compared by sha256): the
 * running pod's environment when it could be read, else the live pod template and its Secrets.
 */
export function liveStatus(link: LinkResult, live: readonly KubeObject[], podEnvs?: PodEnvs): LiveStatus {
  const template = templateStatus(link, live);
  const p = podTarget(link, live);
  const env = p ? podEnvs?.get(p.key) : undefined;
  if (!env || link.value === undefined || link.target?.type !== 'env') return template;
  const running = env.get(link.target.envVar);
  if (running === undefined) return 'missing';
  if (hash(running) === hash(link.value)) return template === 'differs' ? 'drifting' : 'same';
  return template === 'same' ? 'stale' : 'differs';
}

function templateStatus(link: LinkResult, live: readonly KubeObject[]): LiveStatus {
  const t = link.target;
  if (!t || link.value === undefined) return 'unknown';
  const workload = findWorkload(live, t.workload);
  if (!workload) return 'not-deployed';
  const spec = podSpecOf(workload);
  let value: string | undefined;
  if (t.type === 'storage') {
    const tpl = (workload.spec as { volumeClaimTemplates?: { spec?: { storageClassName?: string } }[] })
      ?.volumeClaimTemplates;
    value = tpl?.[0]?.spec?.storageClassName ?? '';
  } else if (t.type === 'image') {
    const image = containersOf(spec, false).find((c) => c.name === t.container)?.image ?? '';
    value = /:([\w][\w.-]*)$/.exec(image.replace(/@sha256:.*$/, ''))?.[1] ?? 'latest';
  } else {
    const containers =
      t.container === '*'
        ? [...containersOf(spec, true), ...containersOf(spec, false)]
        : containersOf(spec, t.init === true).filter((c) => c.name === t.container);
    const r = containers.map((c) => resolveEnv(c, t.envVar, live)).find((x) => x.found);
    if (!r) return 'missing';
    if (r.value === undefined) return 'unknown';
    value = r.value;
  }
  return hash(value) === hash(link.value) ? 'same' : 'differs';
}
