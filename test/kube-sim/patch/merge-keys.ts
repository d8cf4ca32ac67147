// Strategic-merge metadata of the built-in types: which lists merge by which key, which are
// sets of primitives, and which maps honour $retainKeys. Looked up by field path, the way the
// Go struct tags (patchStrategy/patchMergeKey) describe them.

/** How a list field merges. */
export type ListStrategy = { kind: 'map'; key: string } | { kind: 'set' } | { kind: 'atomic' };

const CONTAINER_LISTS = new Set(['containers', 'initContainers', 'ephemeralContainers']);

/**
 * The merge strategy of the list at `path` (field names only, no indexes) in an object of
 * `kind`. Lists without a strategy are replaced whole.
 */
export function listStrategy(kind: string, path: readonly string[]): ListStrategy {
  const field = path[path.length - 1] ?? '';
  const parent = path[path.length - 2] ?? '';
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'imagePullSecrets':
    case 'volumes':
    case 'resourceClaims':
    case 'schedulingGates':
    case 'claims':
      return { kind: 'map', key: 'name' };
    case 'env':
      return CONTAINER_LISTS.has(parent) ? { kind: 'map', key: 'name' } : { kind: 'atomic' };
    case 'volumeMounts':
      return { kind: 'map', key: 'mountPath' };
    case 'volumeDevices':
      return { kind: 'map', key: 'devicePath' };
    case 'ports':
      if (CONTAINER_LISTS.has(parent)) return { kind: 'map', key: 'containerPort' };
      if (kind === 'Service' && parent === 'spec') return { kind: 'map', key: 'port' };
      return { kind: 'atomic' };
    case 'conditions':
      return { kind: 'map', key: 'type' };
    case 'ownerReferences':
      return { kind: 'map', key: 'uid' };
    case 'hostAliases':
    case 'podIPs':
    case 'hostIPs':
      return { kind: 'map', key: 'ip' };
    case 'topologySpreadConstraints':
      return { kind: 'map', key: 'topologyKey' };
    case 'finalizers':
      return parent === 'metadata' ? { kind: 'set' } : { kind: 'atomic' };
    default:
      return { kind: 'atomic' };
  }
}

/** Maps whose patch strategy includes retainKeys (a $retainKeys directive prunes them). */
export function hasRetainKeys(path: readonly string[]): boolean {
  const field = path[path.length - 1] ?? '';
  return field === 'strategy' || field === 'updateStrategy' || path[path.length - 2] === 'volumes';
}

/** The merge-key fields of a list item, for use in structured-merge paths (k:{...}). */
export function itemKey(strategy: ListStrategy, item: unknown): Record<string, unknown> | undefined {
  if (strategy.kind !== 'map' || typeof item !== 'object' || item === null) return undefined;
  const rec = item as Record<string, unknown>;
  const key: Record<string, unknown> = { [strategy.key]: rec[strategy.key] };
  // Container and Service ports are keyed by port and protocol in server-side apply.
  if (strategy.key === 'containerPort' || strategy.key === 'port') key.protocol = rec.protocol ?? 'TCP';
  return key;
}
