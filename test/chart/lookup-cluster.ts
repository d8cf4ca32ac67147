import { stringify } from 'yaml';
import { startKubeSim } from '../kube-sim/index.ts';

export interface LookupCluster {
  /** Env for helm: KUBECONFIG and a private discovery cache of this cluster. */
  env: NodeJS.ProcessEnv;
  /** Secrets of the namespace that clients read, in order (what helm's `lookup` asked for). */
  secretReads: string[];
  stop(): Promise<void>;
}

/**
 * A simulated cluster holding the given Secrets in `namespace`, owned by `release` as a previous
 * install would have left them: what Helm's `lookup` sees under `helm template --dry-run=server`.
 * In-process, so the test can see which Secrets were read; one per test file (beforeAll).
 */
export async function startLookupCluster(opts: {
  namespace: string;
  release: string;
  secrets: Record<string, Record<string, string>>;
}): Promise<LookupCluster> {
  const secretReads: string[] = [];
  const secretPath = new RegExp(`^/api/v1/namespaces/${opts.namespace}/secrets/([^/]+)$`);
  const sim = await startKubeSim({
    inProcess: true,
    onRequest: (method, path) => {
      const name = method === 'GET' ? secretPath.exec(path)?.[1] : undefined;
      if (name !== undefined) secretReads.push(decodeURIComponent(name));
    },
  });
  const docs = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: opts.namespace } },
    ...Object.entries(opts.secrets).map(([name, data]) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: {
        name,
        namespace: opts.namespace,
        labels: { 'app.kubernetes.io/managed-by': 'Helm' },
        annotations: {
          'meta.helm.sh/release-name': opts.release,
          'meta.helm.sh/release-namespace': opts.namespace,
        },
      },
      stringData: data,
    })),
  ];
  const applied = await sim.kubectl(['apply', '-f', '-'], {
    input: docs.map((d) => stringify(d)).join('---\n'),
  });
  if (applied.code !== 0) {
    await sim.stop();
    throw new Error(`kubectl apply of the kept Secrets failed:\n${applied.stderr}`);
  }
  secretReads.length = 0;
  return {
    env: { KUBECONFIG: sim.kubeconfigPath, KUBECACHEDIR: sim.env.KUBECACHEDIR },
    secretReads,
    stop: () => sim.stop(),
  };
}

/** helm arguments that make `helm template` read the cluster (lookup) without validating against its OpenAPI. */
export const SERVER_DRY_RUN = ['--dry-run=server', '--disable-openapi-validation'];
