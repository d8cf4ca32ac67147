// The validation rules clients run into most: object names, selectors that must match their
// template, and fields that cannot change after creation.
import type { ResourceType } from './resources.ts';
import { KubeSimError } from './runtime.ts';
import { fromLabelSelector, matchesLabels } from './selectors.ts';
import { getPath, isObject, type JsonObject, type KObject } from './types.ts';

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
// Kinds whose names must be DNS labels, not subdomains.
const LABEL_NAMED = new Set(['Namespace', 'Service']);

function invalid(rt: ResourceType, name: string, field: string, detail: string): KubeSimError {
  const kind = rt.group ? `${rt.kind}.${rt.group}` : rt.kind;
  const err = new KubeSimError(422, `${kind} "${name}" is invalid: ${field}: ${detail}`, 'Invalid');
  Object.assign(err, { causes: [{ reason: 'FieldValueInvalid', message: detail, field }] });
  return err;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
const spec = (o: KObject): JsonObject => (isObject(o.spec) ? o.spec : {});

/** Validates an object about to be stored; `old` is the stored version for updates. */
export function validate(rt: ResourceType, o: KObject, old?: KObject): void {
  const name = o.metadata.name;
  const re = LABEL_NAMED.has(rt.kind) ? LABEL : SUBDOMAIN;
  if (!old && (name.length > (LABEL_NAMED.has(rt.kind) ? 63 : 253) || !re.test(name))) {
    throw invalid(
      rt,
      name,
      'metadata.name',
      `Invalid value: "${name}": a lowercase RFC 1123 ${LABEL_NAMED.has(rt.kind) ? 'label' : 'subdomain'} must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
    );
  }
  if (['Deployment', 'ReplicaSet', 'StatefulSet'].includes(rt.kind)) {
    const sel = spec(o).selector;
    if (!isObject(sel)) throw invalid(rt, name, 'spec.selector', 'Required value');
    const labels = getPath(o, ['spec', 'template', 'metadata', 'labels']) as
      Record<string, string> | undefined;
    if (!matchesLabels(fromLabelSelector(sel), labels)) {
      throw invalid(
        rt,
        name,
        'spec.template.metadata.labels',
        `Invalid value: ${JSON.stringify(labels ?? {})}: \`selector\` does not match template \`labels\``,
      );
    }
    if (old && !same(sel, spec(old).selector))
      throw invalid(rt, name, 'spec.selector', `Invalid value: ${JSON.stringify(sel)}: field is immutable`);
  }
  if (!old) return;
  switch (rt.kind) {
    case 'StatefulSet': {
      const allowed = [
        'replicas',
        'ordinals',
        'template',
        'updateStrategy',
        'persistentVolumeClaimRetentionPolicy',
        'minReadySeconds',
      ];
      const strip = (s: JsonObject): JsonObject =>
        Object.fromEntries(Object.entries(s).filter(([k]) => !allowed.includes(k)));
      if (!same(strip(spec(o)), strip(spec(old)))) {
        throw invalid(
          rt,
          name,
          'spec',
          "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
        );
      }
      break;
    }
    case 'Job':
      if (
        !same(getPath(o, ['spec', 'template']), getPath(old, ['spec', 'template'])) &&
        spec(old).suspend !== true
      ) {
        throw invalid(
          rt,
          name,
          'spec.template',
          `Invalid value: ${JSON.stringify(getPath(o, ['spec', 'template']))}: field is immutable`,
        );
      }
      if (!same(spec(o).completions, spec(old).completions))
        throw invalid(rt, name, 'spec.completions', 'Invalid value: field is immutable');
      break;
    case 'Service':
      if (spec(old).clusterIP && !same(spec(o).clusterIP, spec(old).clusterIP)) {
        throw invalid(rt, name, 'spec.clusterIPs[0]', 'Invalid value: field is immutable');
      }
      break;
    case 'PersistentVolumeClaim': {
      const strip = (s: JsonObject): JsonObject => ({ ...s, resources: undefined, volumeName: undefined });
      if (!same(strip(spec(o)), strip(spec(old)))) {
        throw invalid(
          rt,
          name,
          'spec',
          'Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims',
        );
      }
      break;
    }
    case 'Secret':
    case 'ConfigMap':
      if (
        old.immutable === true &&
        (!same(o.data, old.data) || !same(o.binaryData, old.binaryData) || o.immutable !== true)
      ) {
        throw invalid(rt, name, 'data', 'Forbidden: field is immutable when `immutable` is set');
      }
      break;
    case 'Pod': {
      const strip = (s: JsonObject): string =>
        JSON.stringify({
          ...s,
          containers: Array.isArray(s.containers)
            ? s.containers.map((c: JsonObject) => ({ ...c, image: '' }))
            : s.containers,
          initContainers: Array.isArray(s.initContainers)
            ? s.initContainers.map((c: JsonObject) => ({ ...c, image: '' }))
            : s.initContainers,
          activeDeadlineSeconds: undefined,
          tolerations: undefined,
          terminationGracePeriodSeconds: undefined,
          nodeName: undefined,
        });
      if (strip(spec(o)) !== strip(spec(old))) {
        throw invalid(
          rt,
          name,
          'spec',
          'Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
        );
      }
      break;
    }
  }
}
