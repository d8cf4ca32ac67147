import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sendError } from '../api/http.ts';
import { bootstrap } from '../bootstrap.ts';
import { Cluster } from '../cluster.ts';
import { writeKubeconfig } from '../kubeconfig.ts';
import { typeByKind } from '../resources.ts';
import { KubeSimError } from '../runtime.ts';
import { loadScenario } from '../scenario.ts';
import { startApiServer } from '../server.ts';
import { makeObject } from '../types.ts';
import { handleStreamUpgrade } from './index.ts';
import type { PodRuntime } from './runtime-types.ts';

/** A pod as the API serves it: Running, Ready, one container per name. */
export interface SimPod {
  name: string;
  containers: string[];
  ports?: number[];
}

export interface SimApi {
  url: string;
  port: number;
  kubeconfigPath: string;
  /** Env for a kubectl child: this kubeconfig and a private discovery cache. */
  env: NodeJS.ProcessEnv;
  close(): Promise<void>;
}

/** The namespace the pods live in. */
const NS = 'ns';

/**
 * The simulated cluster's own API server (discovery, store, pods in namespace "ns") with `runtime`
 * serving exec and port-forward in place of its kubelet, so the streaming layer is tested on its
 * own: against the real kubectl, and against raw WebSocket/SPDY clients on `port`. No controllers
 * and no kubelet run: the pods stay as given.
 */
export async function startSimApi(runtime: PodRuntime, pods: SimPod[] = []): Promise<SimApi> {
  const cluster = new Cluster(loadScenario(undefined));
  bootstrap(cluster);
  cluster.create(typeByKind('Namespace'), makeObject('v1', 'Namespace', { name: NS }));
  const POD = typeByKind('Pod');
  for (const pod of pods) {
    const ports = (pod.ports ?? []).map((containerPort) => ({ containerPort }));
    cluster.create(
      POD,
      makeObject(
        'v1',
        'Pod',
        { name: pod.name, namespace: NS },
        { spec: { containers: pod.containers.map((name) => ({ name, image: 'stub', ports })) } },
      ),
    );
    cluster.store.mutate(
      POD,
      NS,
      pod.name,
      (p) => {
        p.status = {
          phase: 'Running',
          conditions: [{ type: 'Ready', status: 'True' }],
          containerStatuses: pod.containers.map((name) => ({ name, ready: true, state: { running: {} } })),
        };
      },
      { subresource: 'status' },
    );
  }
  const unserved = new KubeSimError(404, 'not served: the pods of this API server run no kubelet');
  const server = await startApiServer(cluster, {
    logs: (_req, res) => sendError(res, unserved),
    proxy: async (_req, res) => sendError(res, unserved),
    upgrade: (req, socket, head) => handleStreamUpgrade(req, socket, head, runtime),
  });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ksim-streams-api-'));
  const kubeconfigPath = path.join(dir, 'kubeconfig');
  writeKubeconfig(kubeconfigPath, server.url, NS);
  return {
    url: server.url,
    port: server.port,
    kubeconfigPath,
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      KUBECONFIG: kubeconfigPath,
      KUBECACHEDIR: path.join(dir, 'cache'),
    },
    close: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
