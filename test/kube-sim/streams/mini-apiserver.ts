import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { handleStreamUpgrade } from './index.ts';
import type { PodRuntime } from './runtime-types.ts';

/** A pod as the stub serves it: Running, Ready, one container per name. */
export interface StubPod {
  name: string;
  containers: string[];
  ports?: number[];
}

export interface MiniApiServer {
  url: string;
  kubeconfigPath: string;
  /** Env for a kubectl child: this kubeconfig and a private discovery cache. */
  env: NodeJS.ProcessEnv;
  close(): Promise<void>;
}

/**
 * Just enough of an API server for `kubectl exec` and `kubectl port-forward pod/...`
 * (legacy discovery, GET pod, the upgrade subresources), so the streaming layer can be
 * tested against the real kubectl on its own. Namespace "ns".
 */
export async function startMiniApiServer(runtime: PodRuntime, pods: StubPod[]): Promise<MiniApiServer> {
  const byName = new Map(pods.map((p) => [p.name, p]));
  const server = http.createServer((req, res) => {
    const send = (code: number, body: unknown): void => {
      res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const p = new URL(req.url ?? '/', 'http://stub').pathname;
    if (p === '/version') return send(200, { major: '1', minor: '35', gitVersion: 'v1.35.0' });
    // Plain JSON answers make kubectl fall back from aggregated to legacy discovery.
    if (p === '/api')
      return send(200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
    if (p === '/apis') return send(200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [] });
    if (p === '/api/v1') {
      return send(200, {
        kind: 'APIResourceList',
        groupVersion: 'v1',
        resources: [
          {
            name: 'pods',
            singularName: 'pod',
            namespaced: true,
            kind: 'Pod',
            verbs: ['get', 'list'],
            shortNames: ['po'],
          },
          {
            name: 'pods/exec',
            singularName: '',
            namespaced: true,
            kind: 'PodExecOptions',
            verbs: ['create', 'get'],
          },
          {
            name: 'pods/portforward',
            singularName: '',
            namespaced: true,
            kind: 'PodPortForwardOptions',
            verbs: ['create'],
          },
        ],
      });
    }
    const pod = byName.get(/^\/api\/v1\/namespaces\/ns\/pods\/([^/]+)$/.exec(p)?.[1] ?? '');
    if (pod) return send(200, podObject(pod));
    send(404, {
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      reason: 'NotFound',
      code: 404,
      message: `${p} not found`,
    });
  });
  const sockets = new Set<Duplex>();
  server.on('upgrade', (req, socket: Duplex, head: Buffer) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    if (!handleStreamUpgrade(req, socket, head, runtime)) socket.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ksim-mini-api-'));
  const kubeconfigPath = path.join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfigPath,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{name: stub, cluster: {server: "' + url + '"}}]',
      'users: [{name: stub, user: {token: stub}}]',
      'contexts: [{name: stub, context: {cluster: stub, user: stub, namespace: ns}}]',
      'current-context: stub',
      '',
    ].join('\n'),
  );
  return {
    url,
    kubeconfigPath,
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      KUBECONFIG: kubeconfigPath,
      KUBECACHEDIR: path.join(dir, 'cache'),
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
        server.close(() => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
      }),
  };
}

function podObject(pod: StubPod): Record<string, unknown> {
  return {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: { name: pod.name, namespace: 'ns', uid: `uid-${pod.name}`, resourceVersion: '1' },
    spec: {
      containers: pod.containers.map((c) => ({
        name: c,
        image: 'stub',
        ports: (pod.ports ?? []).map((containerPort) => ({ containerPort })),
      })),
    },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: pod.containers.map((c) => ({ name: c, ready: true, state: { running: {} } })),
    },
  };
}
