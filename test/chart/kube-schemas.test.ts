import { describe, expect, test } from 'vitest';
import type { K8sObject } from '../support/chart.ts';
import { NAMESPACE, PROFILE_NAMES, RELEASE, render } from './profiles.ts';

interface Model {
  new (data: unknown): { validate(): void };
}

/** Validates one object with the kubernetes-models class of its apiVersion and kind. */
async function validate(o: K8sObject): Promise<string | undefined> {
  const spec = `kubernetes-models/${o.apiVersion}/${o.kind}`;
  const mod = (await import(/* @vite-ignore */ spec)) as Record<string, Model>;
  const Model = mod[o.kind];
  if (!Model) return `no schema for ${o.apiVersion} ${o.kind}`;
  try {
    new Model(o).validate();
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

const ALLOWED_KINDS = new Set([
  'v1/ConfigMap',
  'v1/Secret',
  'v1/Service',
  'v1/PersistentVolumeClaim',
  'v1/Pod',
  'apps/v1/Deployment',
  'apps/v1/StatefulSet',
  'batch/v1/CronJob',
  'networking.k8s.io/v1/NetworkPolicy',
  'networking.k8s.io/v1/Ingress',
]);

describe.each(PROFILE_NAMES)('profile %s', (profile) => {
  test('every object is valid Kubernetes, of a standard kind, in the release namespace (helm 4)', async () => {
    const objects = await render(profile, 'v35');
    expect(objects.length).toBeGreaterThan(10);
    const problems: string[] = [];
    for (const o of objects) {
      const id = `${o.kind}/${o.metadata.name}`;
      if (!ALLOWED_KINDS.has(`${o.apiVersion}/${o.kind}`)) problems.push(`${id}: unexpected ${o.apiVersion}`);
      if (o.metadata.namespace !== NAMESPACE) problems.push(`${id}: namespace ${o.metadata.namespace}`);
      const err = await validate(o);
      if (err) problems.push(`${id}: ${err}`);
    }
    expect(problems).toEqual([]);
  });

  test('helm 3 renders the same objects as helm 4', async () => {
    const ids = (objects: K8sObject[]): string[] => objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    const [v4, v3] = await Promise.all([render(profile, 'v35'), render(profile, 'v33')]);
    expect(ids(v3)).toEqual(ids(v4));
    // Same content too, once the random values of a cluster-less render are set aside.
    const stable = (objects: K8sObject[]): unknown[] =>
      objects
        .filter((o) => o.kind !== 'Secret')
        .map((o) => {
          const copy = structuredClone(o) as K8sObject & {
            spec?: { template?: { metadata?: { annotations?: object } } };
          };
          if (copy.spec?.template?.metadata?.annotations) delete copy.spec.template.metadata.annotations;
          return copy;
        })
        .sort((a, b) => `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`));
    expect(stable(v3)).toEqual(stable(v4));
  });
});

test('the release name and namespace come from the release, never from the chart', async () => {
  const objects = await render('default');
  for (const o of objects) {
    expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(NAMESPACE);
    expect(o.metadata.labels?.['app.kubernetes.io/instance']).toBe(RELEASE);
  }
});
