// Discovery documents: /version, /api, /apis (aggregated v2 and the older per-group form) and
// the OpenAPI v3 stubs clients read to learn that the server validates fields itself.
import { apiGroups, apiVersionOf, RESOURCE_TYPES, verbsOf, type ResourceType } from './resources.ts';

/** The Kubernetes version the simulated server reports: within one minor of kubectl 1.33 and 1.35. */
export const SERVER_VERSION = { major: '1', minor: '34', gitVersion: 'v1.34.2' };

/** The /version document. */
export function versionInfo(): Record<string, string> {
  return {
    ...SERVER_VERSION,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2025-11-11T00:00:00Z',
    goVersion: 'go1.24.9',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

/** The Accept media type of aggregated discovery. */
export const AGGREGATED_V2 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

/** Does an Accept header ask for aggregated discovery (v2)? */
export function wantsAggregated(accept: string | undefined): boolean {
  return (accept ?? '')
    .split(',')
    .some((t) => /as=APIGroupDiscoveryList/.test(t) && /v=v2(;|$)/.test(t.replace(/\s/g, '')));
}

const SUB_KINDS: Record<string, { group: string; version: string; kind: string; verbs: string[] }> = {
  scale: { group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] },
  log: { group: '', version: 'v1', kind: 'Pod', verbs: ['get'] },
  exec: { group: '', version: 'v1', kind: 'PodExecOptions', verbs: ['create', 'get'] },
  attach: { group: '', version: 'v1', kind: 'PodAttachOptions', verbs: ['create', 'get'] },
  portforward: { group: '', version: 'v1', kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
  eviction: { group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] },
  binding: { group: '', version: 'v1', kind: 'Binding', verbs: ['create'] },
  token: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: ['create'] },
  finalize: { group: '', version: 'v1', kind: 'Namespace', verbs: ['update'] },
  proxy: {
    group: '',
    version: 'v1',
    kind: 'PodProxyOptions',
    verbs: ['create', 'delete', 'get', 'patch', 'update'],
  },
  ephemeralcontainers: { group: '', version: 'v1', kind: 'Pod', verbs: ['get', 'patch', 'update'] },
};

function subKind(
  rt: ResourceType,
  sub: string,
): { group: string; version: string; kind: string; verbs: string[] } {
  if (sub === 'status')
    return { group: rt.group, version: rt.version, kind: rt.kind, verbs: ['get', 'patch', 'update'] };
  return SUB_KINDS[sub] ?? { group: rt.group, version: rt.version, kind: rt.kind, verbs: ['get'] };
}

function typesOf(group: string, version: string): ResourceType[] {
  return RESOURCE_TYPES.filter((rt) => rt.group === group && rt.version === version);
}

/** The legacy APIResourceList of one group version. */
export function resourceList(group: string, version: string): Record<string, unknown> | undefined {
  const types = typesOf(group, version);
  if (!types.length) return undefined;
  const resources: Record<string, unknown>[] = [];
  for (const rt of types) {
    resources.push({
      name: rt.plural,
      singularName: rt.singular,
      namespaced: rt.namespaced,
      kind: rt.kind,
      verbs: verbsOf(rt),
      ...(rt.shortNames && { shortNames: rt.shortNames }),
      ...(rt.categories && { categories: rt.categories }),
      storageVersionHash: Buffer.from(rt.plural).toString('base64').slice(0, 11),
    });
    for (const sub of rt.subresources ?? []) {
      const k = subKind(rt, sub);
      resources.push({
        name: `${rt.plural}/${sub}`,
        singularName: '',
        namespaced: rt.namespaced,
        ...(k.group !== rt.group && { group: k.group }),
        ...(k.version !== rt.version && { version: k.version }),
        kind: k.kind,
        verbs: k.verbs,
      });
    }
  }
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources,
  };
}

/** The legacy /api document. */
export function coreVersions(host: string): Record<string, unknown> {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: host }],
  };
}

function groupDoc(g: { name: string; versions: string[] }): Record<string, unknown> {
  const versions = g.versions.map((v) => ({ groupVersion: `${g.name}/${v}`, version: v }));
  return { name: g.name, versions, preferredVersion: versions[0] };
}

/** The legacy /apis document. */
export function groupList(): Record<string, unknown> {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: apiGroups().map(groupDoc) };
}

/** The legacy /apis/{group} document. */
export function groupInfo(name: string): Record<string, unknown> | undefined {
  const g = apiGroups().find((x) => x.name === name);
  return g && { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(g) };
}

function aggregatedGroup(name: string, versions: string[]): Record<string, unknown> {
  return {
    metadata: { name, creationTimestamp: null },
    versions: versions.map((version) => ({
      version,
      freshness: 'Current',
      resources: typesOf(name, version).map((rt) => ({
        resource: rt.plural,
        responseKind: { group: rt.group, version: rt.version, kind: rt.kind },
        scope: rt.namespaced ? 'Namespaced' : 'Cluster',
        singularResource: rt.singular,
        verbs: verbsOf(rt),
        ...(rt.shortNames && { shortNames: rt.shortNames }),
        ...(rt.categories && { categories: rt.categories }),
        ...(rt.subresources && {
          subresources: rt.subresources.map((sub) => {
            const k = subKind(rt, sub);
            return {
              subresource: sub,
              responseKind: { group: k.group, version: k.version, kind: k.kind },
              verbs: k.verbs,
            };
          }),
        }),
      })),
    })),
  };
}

/** The aggregated discovery document of /api (core) or /apis (all named groups). */
export function aggregated(core: boolean): Record<string, unknown> {
  const items = core
    ? [aggregatedGroup('', ['v1'])]
    : apiGroups().map((g) => aggregatedGroup(g.name, g.versions));
  return { kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2', metadata: {}, items };
}

/** The OpenAPI v3 root: one document per group version. */
export function openapiV3Root(): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  const gvs = new Set(
    RESOURCE_TYPES.map((rt) => (rt.group ? `apis/${apiVersionOf(rt)}` : `api/${rt.version}`)),
  );
  for (const gv of gvs) paths[gv] = { serverRelativeURL: `/openapi/v3/${gv}?hash=KUBESIM1` };
  return { paths };
}

/**
 * A stub OpenAPI v3 document for one group version: no schemas, but each kind's PATCH
 * operation declares the `fieldValidation` parameter, which tells kubectl and helm to leave
 * field validation to the server instead of downloading the full schema.
 */
export function openapiV3Doc(group: string, version: string): Record<string, unknown> | undefined {
  const types = typesOf(group, version);
  if (!types.length) return undefined;
  const paths: Record<string, unknown> = {};
  const param = (name: string): Record<string, unknown> => ({
    name,
    in: 'query',
    schema: { type: 'string', uniqueItems: true },
  });
  for (const rt of types) {
    const base = group ? `/apis/${group}/${version}` : `/api/${version}`;
    const p = rt.namespaced
      ? `${base}/namespaces/{namespace}/${rt.plural}/{name}`
      : `${base}/${rt.plural}/{name}`;
    const gvk = { group: rt.group, version: rt.version, kind: rt.kind };
    const op = (verb: string): Record<string, unknown> => ({
      operationId: `${verb}${rt.kind}`,
      parameters: [param('dryRun'), param('fieldManager'), param('fieldValidation')],
      responses: { '200': { description: 'OK' } },
      'x-kubernetes-action': verb,
      'x-kubernetes-group-version-kind': gvk,
    });
    paths[p] = { patch: op('patch'), put: op('put') };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: SERVER_VERSION.gitVersion },
    paths,
    components: { schemas: {} },
  };
}
