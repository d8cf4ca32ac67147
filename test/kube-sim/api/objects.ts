// Reading request bodies into objects of the addressed type, and the list/scale shapes.
import { apiVersionOf, type ResourceType } from '../resources.ts';
import { KubeSimError } from '../runtime.ts';
import { fromLabelSelector } from '../selectors.ts';
import { getPath, isObject, type KObject } from '../types.ts';
import type { ResourcePath } from './request.ts';

/** Checks a body is an object of the path's type and fills in what the path implies. */
export function asObject(body: unknown, p: ResourcePath): KObject {
  if (!isObject(body)) throw new KubeSimError(400, 'the body of the request must be an object');
  const o = body as unknown as KObject;
  const want = apiVersionOf(p.rt);
  if (o.kind && o.kind !== p.rt.kind) {
    throw new KubeSimError(
      400,
      `the kind in the data (${o.kind}) does not match the expected kind (${p.rt.kind})`,
    );
  }
  if (o.apiVersion && o.apiVersion !== want) {
    throw new KubeSimError(
      400,
      `the API version in the data (${o.apiVersion}) does not match the expected API version (${want})`,
    );
  }
  o.kind = p.rt.kind;
  o.apiVersion = want;
  if (!isObject(o.metadata)) o.metadata = {} as KObject['metadata'];
  const meta = o.metadata;
  if (p.rt.namespaced && p.namespace !== undefined) {
    if (meta.namespace && meta.namespace !== p.namespace) {
      throw new KubeSimError(
        400,
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    meta.namespace = p.namespace;
  }
  if (p.name !== undefined) {
    if (meta.name && meta.name !== p.name) {
      throw new KubeSimError(
        400,
        `the name of the object (${meta.name}) does not match the name on the URL (${p.name})`,
      );
    }
    meta.name = p.name;
  }
  return o;
}

/** A list document of objects of one type. */
export function listOf(rt: ResourceType, items: KObject[], rv: number): Record<string, unknown> {
  return {
    kind: `${rt.kind}List`,
    apiVersion: apiVersionOf(rt),
    metadata: { resourceVersion: String(rv) },
    items,
  };
}

/** The autoscaling/v1 Scale view of a scalable object. */
export function scaleOf(o: KObject): Record<string, unknown> {
  const sel = fromLabelSelector(getPath(o, ['spec', 'selector']));
  const selector = sel
    .map((r) => ('values' in r ? `${r.key}${r.op === 'in' ? '=' : '!='}${r.values[0] ?? ''}` : r.key))
    .join(',');
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: o.metadata.name,
      namespace: o.metadata.namespace,
      uid: o.metadata.uid,
      resourceVersion: o.metadata.resourceVersion,
      creationTimestamp: o.metadata.creationTimestamp,
    },
    spec: { replicas: getPath(o, ['spec', 'replicas']) ?? 0 },
    status: { replicas: getPath(o, ['status', 'replicas']) ?? 0, selector },
  };
}
