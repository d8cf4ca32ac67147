import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** The API groups and kinds the chart renders: discovery for `helm template --dry-run=server`. */
const KINDS: Record<string, { kind: string; plural: string }[]> = {
  v1: [
    { kind: 'Secret', plural: 'secrets' },
    { kind: 'ConfigMap', plural: 'configmaps' },
    { kind: 'Service', plural: 'services' },
    { kind: 'Pod', plural: 'pods' },
  ],
  'apps/v1': [
    { kind: 'Deployment', plural: 'deployments' },
    { kind: 'StatefulSet', plural: 'statefulsets' },
  ],
  'batch/v1': [{ kind: 'CronJob', plural: 'cronjobs' }],
  'networking.k8s.io/v1': [
    { kind: 'NetworkPolicy', plural: 'networkpolicies' },
    { kind: 'Ingress', plural: 'ingresses' },
  ],
};

export interface StubApiServer {
  /** Env for helm: KUBECONFIG pointing at this server. */
  env: NodeJS.ProcessEnv;
  /** Secrets helm asked for, in order (what `lookup` read). */
  secretReads: string[];
  close(): Promise<void>;
}

/**
 * Just enough of a Kubernetes API server for `helm template --dry-run=server` (helm 3 and 4): discovery
 * of the chart's kinds and GET of the given Secrets, owned by the release as a previous install would
 * have left them; every other object is NotFound. This is what Helm's `lookup` sees in a real cluster.
 */
export async function startStubApiServer(opts: {
  namespace: string;
  release: string;
  secrets: Record<string, Record<string, string>>;
}): Promise<StubApiServer> {
  const secretReads: string[] = [];
  const server = http.createServer((req, res) => {
    const send = (code: number, body: unknown): void => {
      res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const p = new URL(req.url ?? '/', 'http://stub').pathname;
    if (p === '/version') return send(200, { major: '1', minor: '35', gitVersion: 'v1.35.0' });
    // Plain JSON lists make the clients fall back from aggregated to per-group discovery.
    if (p === '/api')
      return send(200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
    if (p === '/apis') {
      const groups = Object.keys(KINDS)
        .filter((gv) => gv.includes('/'))
        .map((gv) => ({
          name: gv.split('/')[0],
          versions: [{ groupVersion: gv, version: 'v1' }],
          preferredVersion: { groupVersion: gv, version: 'v1' },
        }));
      return send(200, { kind: 'APIGroupList', apiVersion: 'v1', groups });
    }
    const gv = p === '/api/v1' ? 'v1' : p.match(/^\/apis\/([^/]+\/[^/]+)$/)?.[1];
    if (gv && KINDS[gv]) {
      const resources = KINDS[gv].map((k) => ({
        name: k.plural,
        singularName: k.kind.toLowerCase(),
        namespaced: true,
        kind: k.kind,
        verbs: ['get', 'list', 'create', 'update', 'patch', 'delete'],
      }));
      return send(200, { kind: 'APIResourceList', groupVersion: gv, resources });
    }
    const m = p.match(/^\/api\/v1\/namespaces\/([^/]+)\/secrets\/([^/]+)$/);
    if (m && req.method === 'GET') {
      const [, ns, name] = m as unknown as [string, string, string];
      secretReads.push(name);
      const data = ns === opts.namespace ? opts.secrets[name] : undefined;
      if (data) {
        return send(200, {
          apiVersion: 'v1',
          kind: 'Secret',
          type: 'Opaque',
          metadata: {
            name,
            namespace: ns,
            labels: { 'app.kubernetes.io/managed-by': 'Helm' },
            annotations: { 'meta.helm.sh/release-name': opts.release, 'meta.helm.sh/release-namespace': ns },
          },
          data: Object.fromEntries(
            Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
          ),
        });
      }
    }
    return send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tf-chart-stub-'));
  const kubeconfig = path.join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{name: stub, cluster: {server: "http://127.0.0.1:' + port + '"}}]',
      'users: [{name: stub, user: {token: stub}}]',
      `contexts: [{name: stub, context: {cluster: stub, user: stub, namespace: ${opts.namespace}}}]`,
      'current-context: stub',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return {
    env: { KUBECONFIG: kubeconfig, KUBECACHEDIR: path.join(dir, 'cache') },
    secretReads,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** helm arguments that make `helm template` read the cluster (lookup) without validating against its OpenAPI. */
export const SERVER_DRY_RUN = ['--dry-run=server', '--disable-openapi-validation'];
