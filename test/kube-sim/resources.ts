// The resource types the simulated API server serves, with their discovery facts.

/** One served resource type (a REST collection). */
export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  /** The REST collection name, e.g. "deployments". */
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  /** Subresources, e.g. "status", "scale", "log". */
  subresources?: string[];
  /** False for types only the server writes (e.g. ControllerRevision still writable; Node etc.). */
  hasStatus?: boolean;
}

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

const all = ['all'];
const core = (
  kind: string,
  plural: string,
  namespaced: boolean,
  extra: Partial<ResourceType> = {},
): ResourceType => ({
  group: '',
  version: 'v1',
  kind,
  plural,
  singular: kind.toLowerCase(),
  namespaced,
  ...extra,
});
const grp = (
  group: string,
  version: string,
  kind: string,
  plural: string,
  namespaced: boolean,
  extra: Partial<ResourceType> = {},
): ResourceType => ({ group, version, kind, plural, singular: kind.toLowerCase(), namespaced, ...extra });

/** Every served type, in discovery order (the core group first, like a real server). */
export const RESOURCE_TYPES: readonly ResourceType[] = [
  core('Binding', 'bindings', true),
  core('ConfigMap', 'configmaps', true, { shortNames: ['cm'] }),
  core('Endpoints', 'endpoints', true, { shortNames: ['ep'] }),
  core('Event', 'events', true, { shortNames: ['ev'] }),
  core('LimitRange', 'limitranges', true, { shortNames: ['limits'] }),
  core('Namespace', 'namespaces', false, {
    shortNames: ['ns'],
    subresources: ['status', 'finalize'],
    hasStatus: true,
  }),
  core('Node', 'nodes', false, { shortNames: ['no'], subresources: ['status', 'proxy'], hasStatus: true }),
  core('PersistentVolumeClaim', 'persistentvolumeclaims', true, {
    shortNames: ['pvc'],
    subresources: ['status'],
    hasStatus: true,
  }),
  core('PersistentVolume', 'persistentvolumes', false, {
    shortNames: ['pv'],
    subresources: ['status'],
    hasStatus: true,
  }),
  core('Pod', 'pods', true, {
    shortNames: ['po'],
    categories: all,
    subresources: [
      'status',
      'log',
      'exec',
      'portforward',
      'attach',
      'eviction',
      'binding',
      'ephemeralcontainers',
      'proxy',
    ],
    hasStatus: true,
  }),
  core('PodTemplate', 'podtemplates', true),
  core('ReplicationController', 'replicationcontrollers', true, {
    shortNames: ['rc'],
    categories: all,
    subresources: ['status', 'scale'],
    hasStatus: true,
  }),
  core('ResourceQuota', 'resourcequotas', true, {
    shortNames: ['quota'],
    subresources: ['status'],
    hasStatus: true,
  }),
  core('Secret', 'secrets', true),
  core('ServiceAccount', 'serviceaccounts', true, { shortNames: ['sa'], subresources: ['token'] }),
  core('Service', 'services', true, {
    shortNames: ['svc'],
    categories: all,
    subresources: ['status', 'proxy'],
    hasStatus: true,
  }),
  grp('apps', 'v1', 'ControllerRevision', 'controllerrevisions', true),
  grp('apps', 'v1', 'DaemonSet', 'daemonsets', true, {
    shortNames: ['ds'],
    categories: all,
    subresources: ['status'],
    hasStatus: true,
  }),
  grp('apps', 'v1', 'Deployment', 'deployments', true, {
    shortNames: ['deploy'],
    categories: all,
    subresources: ['status', 'scale'],
    hasStatus: true,
  }),
  grp('apps', 'v1', 'ReplicaSet', 'replicasets', true, {
    shortNames: ['rs'],
    categories: all,
    subresources: ['status', 'scale'],
    hasStatus: true,
  }),
  grp('apps', 'v1', 'StatefulSet', 'statefulsets', true, {
    shortNames: ['sts'],
    categories: all,
    subresources: ['status', 'scale'],
    hasStatus: true,
  }),
  grp('autoscaling', 'v2', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers', true, {
    shortNames: ['hpa'],
    categories: all,
    subresources: ['status'],
    hasStatus: true,
  }),
  grp('batch', 'v1', 'CronJob', 'cronjobs', true, {
    shortNames: ['cj'],
    categories: all,
    subresources: ['status'],
    hasStatus: true,
  }),
  grp('batch', 'v1', 'Job', 'jobs', true, { categories: all, subresources: ['status'], hasStatus: true }),
  grp('coordination.k8s.io', 'v1', 'Lease', 'leases', true),
  grp('discovery.k8s.io', 'v1', 'EndpointSlice', 'endpointslices', true),
  grp('networking.k8s.io', 'v1', 'IngressClass', 'ingressclasses', false),
  grp('networking.k8s.io', 'v1', 'Ingress', 'ingresses', true, {
    shortNames: ['ing'],
    subresources: ['status'],
    hasStatus: true,
  }),
  grp('networking.k8s.io', 'v1', 'NetworkPolicy', 'networkpolicies', true, { shortNames: ['netpol'] }),
  grp('policy', 'v1', 'PodDisruptionBudget', 'poddisruptionbudgets', true, {
    shortNames: ['pdb'],
    subresources: ['status'],
    hasStatus: true,
  }),
  grp('rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding', 'clusterrolebindings', false),
  grp('rbac.authorization.k8s.io', 'v1', 'ClusterRole', 'clusterroles', false),
  grp('rbac.authorization.k8s.io', 'v1', 'RoleBinding', 'rolebindings', true),
  grp('rbac.authorization.k8s.io', 'v1', 'Role', 'roles', true),
  grp('scheduling.k8s.io', 'v1', 'PriorityClass', 'priorityclasses', false, { shortNames: ['pc'] }),
  grp('storage.k8s.io', 'v1', 'StorageClass', 'storageclasses', false, { shortNames: ['sc'] }),
  grp('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition', 'customresourcedefinitions', false, {
    shortNames: ['crd', 'crds'],
    subresources: ['status'],
    hasStatus: true,
  }),
];

/** The "group/version" string of a type ("v1" for the core group). */
export function apiVersionOf(rt: ResourceType): string {
  return rt.group ? `${rt.group}/${rt.version}` : rt.version;
}

/** A stable key for a type: "apps/deployments", "/pods" for the core group. */
export function typeKey(rt: ResourceType): string {
  return `${rt.group}/${rt.plural}`;
}

/** The group-qualified resource name used in error messages: "deployments.apps", "pods". */
export function qualifiedName(rt: ResourceType): string {
  return rt.group ? `${rt.plural}.${rt.group}` : rt.plural;
}

/** The verbs every collection supports. */
export function verbsOf(rt: ResourceType): string[] {
  return rt.kind === 'Binding' ? ['create'] : VERBS;
}

const byGroupPlural = new Map(RESOURCE_TYPES.map((rt) => [`${rt.group}/${rt.version}/${rt.plural}`, rt]));
const byKind = new Map(RESOURCE_TYPES.map((rt) => [`${apiVersionOf(rt)}/${rt.kind}`, rt]));

/** The type served at /apis/{group}/{version}/{plural} (group "" for /api/v1). */
export function findType(group: string, version: string, plural: string): ResourceType | undefined {
  return byGroupPlural.get(`${group}/${version}/${plural}`);
}

/** The type of an object with the given apiVersion and kind. */
export function typeOfKind(apiVersion: string, kind: string): ResourceType | undefined {
  return byKind.get(`${apiVersion}/${kind}`);
}

/** A type by kind name alone (unique among the served types). */
export function typeByKind(kind: string): ResourceType {
  const rt = RESOURCE_TYPES.find((t) => t.kind === kind);
  if (!rt) throw new Error(`unknown kind ${kind}`);
  return rt;
}

/** The groups with their versions, in discovery order (core excluded). */
export function apiGroups(): { name: string; versions: string[] }[] {
  const groups: { name: string; versions: string[] }[] = [];
  for (const rt of RESOURCE_TYPES) {
    if (!rt.group) continue;
    let g = groups.find((x) => x.name === rt.group);
    if (!g) groups.push((g = { name: rt.group, versions: [] }));
    if (!g.versions.includes(rt.version)) g.versions.push(rt.version);
  }
  return groups;
}
