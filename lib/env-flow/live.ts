import { createHash } from 'node:crypto';
import { releaseSelector } from '../components.ts';
import type { KubeObject, Kubectl } from '../kubectl.ts';
import { registerSecrets } from '../redact.ts';
import type { LinkResult } from './prove.ts';
import { secretValues } from './scan.ts';
import { containersOf, findWorkload, podSpecOf, referencedObjects, resolveEnv } from './resolve.ts';

/** How the live release compares with what the settings would deploy now (never a value). */
export type LiveStatus = 'same' | 'differs' | 'missing' | 'not-deployed' | 'unknown';

const hash = (s: string) => createHash('sha256').update(s).digest('hex');

/** The release's live workloads, ConfigMaps and the Secrets they reference (two kubectl calls). */
export async function readLive(kubectl: Kubectl, release: string): Promise<KubeObject[]> {
  const objects = await kubectl.list(
    ['deployments', 'statefulsets', 'cronjobs', 'configmaps'],
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

/** Whether the live pod template gets the same value as the render for this link (compared by sha256). */
export function liveStatus(link: LinkResult, live: readonly KubeObject[]): LiveStatus {
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
