// Creating pods from a template on behalf of a controller.
import type { Cluster } from '../cluster.ts';
import { typeByKind } from '../resources.ts';
import { clone, controllerRef, makeObject, randomSuffix, type JsonObject, type KObject } from '../types.ts';

const POD = typeByKind('Pod');

/** Creates a pod from `owner`'s template; events SuccessfulCreate/FailedCreate like the real controllers. */
export function createPodFromTemplate(
  cluster: Cluster,
  owner: KObject,
  template: JsonObject,
  opts: {
    name?: string;
    labels?: Record<string, string>;
    spec?: JsonObject;
    component: string;
    message?: (pod: string) => string;
  },
): KObject | undefined {
  const tplMeta = (template.metadata ?? {}) as JsonObject;
  const spec = { ...(clone(template.spec) as JsonObject), ...opts.spec };
  const name = opts.name ?? `${owner.metadata.name}-${randomSuffix()}`;
  try {
    const pod = cluster.create(
      POD,
      makeObject(
        'v1',
        'Pod',
        {
          name,
          namespace: owner.metadata.namespace,
          labels: { ...(tplMeta.labels as Record<string, string> | undefined), ...opts.labels },
          ...(tplMeta.annotations !== undefined && {
            annotations: clone(tplMeta.annotations) as Record<string, string>,
          }),
          ownerReferences: [controllerRef(owner)],
        },
        { spec },
      ),
    );
    cluster.events.record(
      owner,
      'Normal',
      'SuccessfulCreate',
      opts.message ? opts.message(name) : `Created pod: ${name}`,
      opts.component,
    );
    return pod;
  } catch (err) {
    cluster.events.record(
      owner,
      'Warning',
      'FailedCreate',
      `Error creating: ${err instanceof Error ? err.message : String(err)}`,
      opts.component,
    );
    return undefined;
  }
}
