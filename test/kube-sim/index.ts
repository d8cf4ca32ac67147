// The simulated Kubernetes cluster: an in-memory API server that the real kubectl and helm
// talk to, with controllers, a kubelet, failure injection and real PostgreSQL for postgres
// pods. `startKubeSim()` starts an isolated instance (own port, kubeconfig, caches).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { toolset, type ToolsetName } from '../support/tools.ts';
import { serveProxy } from './api/proxy.ts';
import { bootstrap, syncNodeImages, syncStorageClasses } from './bootstrap.ts';
import { Cluster } from './cluster.ts';
import { startControllers } from './controllers/index.ts';
import { claimAddressBlock } from './network/addresses.ts';
import { Kubelet } from './kubelet/index.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import type { FaultCounts } from './faults.ts';
import { loadScenario, type Scenario } from './scenario.ts';
import { startApiServer, type RequestObserver } from './server.ts';
import type { Store } from './store.ts';
import { handleStreamUpgrade } from './streams/index.ts';
import { startThreaded } from './thread.ts';

export type { ImageBehaviour, ImageState, Scenario } from './scenario.ts';
export type { ApiFaults, FaultCounts } from './faults.ts';
export type { Cluster } from './cluster.ts';

export interface KubeSimOptions {
  /** Port to listen on (default: a free one). */
  port?: number;
  /** The scenario object, or the path of its JSON file. */
  scenario?: Scenario | string;
  /** Where to write the kubeconfig (default: inside the instance's temp dir). */
  kubeconfigPath?: string;
  /** Log every request to stderr. */
  debug?: boolean;
  /**
   * Run in the calling thread (default: a worker thread of its own). In-process instances
   * expose `cluster` and `store`, but stop serving while the caller blocks its thread, e.g. in
   * spawnSync.
   */
  inProcess?: boolean;
  /** Called with each request's method and path (in-process instances only), e.g. to see what helm's lookup read. */
  onRequest?: RequestObserver;
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface KubeSim {
  url: string;
  port: number;
  kubeconfigPath: string;
  /** The instance's private folder (kubeconfig, caches, database data); removed by stop(). */
  dir: string;
  /** The environment for kubectl/helm children: process env plus this cluster's KUBECONFIG, KUBECACHEDIR and helm dirs. */
  env: NodeJS.ProcessEnv;
  /** The cluster state (store, watches, events) for assertions: in-process instances only. */
  cluster: Cluster | undefined;
  store: Store | undefined;
  /** Changes the injected failures from now on (new containers and restarts see it; `api` faults the next request). */
  setScenario(scenario: Scenario | string): Promise<void>;
  /**
   * An API server outage (true) or its end (false): open connections dropped, new ones refused; every
   * object and pod is kept.
   */
  setApiDown(down: boolean): Promise<void>;
  /** A control-plane restart: down for `downMs`, then serving again on the same port. */
  restartApiServer(downMs: number): Promise<void>;
  /** What the API server's faults injected so far. */
  faultCounts(): Promise<FaultCounts>;
  /** Runs the real kubectl of a toolset (default v35) against this cluster. */
  kubectl(
    args: string[],
    opts?: { toolset?: ToolsetName; input?: string; timeoutMs?: number },
  ): Promise<CommandResult>;
  /** Runs the real helm of a toolset (default v35) against this cluster. */
  helm(
    args: string[],
    opts?: { toolset?: ToolsetName; input?: string; timeoutMs?: number },
  ): Promise<CommandResult>;
  /** Stops every server, pod stand-in and database this instance started, and removes its files. */
  stop(): Promise<void>;
}

/** kubectl/helm children still running: killed by pid if the test process exits before they do. */
const liveChildren = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of liveChildren) c.kill('SIGKILL');
});

function run(
  bin: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  input: string | undefined,
  timeoutMs: number,
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    liveChildren.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      liveChildren.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

function toolEnv(dir: string, kubeconfigPath: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    KUBECONFIG: kubeconfigPath,
    KUBECACHEDIR: path.join(dir, 'kube-cache'),
    HELM_CACHE_HOME: path.join(dir, 'helm', 'cache'),
    HELM_CONFIG_HOME: path.join(dir, 'helm', 'config'),
    HELM_DATA_HOME: path.join(dir, 'helm', 'data'),
  };
}

/** Starts a simulated cluster (in a worker thread unless `inProcess`); resolves once it serves. */
export async function startKubeSim(opts: KubeSimOptions = {}): Promise<KubeSim> {
  if (!opts.inProcess) {
    if (opts.onRequest) throw new Error('startKubeSim: onRequest needs inProcess: true');
    // Scenario errors surface here, in the caller's thread, with a stack that points at it.
    loadScenario(opts.scenario);
    const t = await startThreaded(opts);
    const env = toolEnv(t.dir, t.kubeconfigPath);
    return {
      url: t.url,
      port: t.port,
      kubeconfigPath: t.kubeconfigPath,
      dir: t.dir,
      env,
      cluster: undefined,
      store: undefined,
      setScenario: (s) => t.setScenario(s),
      setApiDown: (down) => t.setApiDown(down),
      restartApiServer: async (downMs) => {
        await t.setApiDown(true);
        await new Promise((r) => setTimeout(r, downMs));
        await t.setApiDown(false);
      },
      faultCounts: () => t.faultCounts(),
      kubectl: (args, o = {}) =>
        run(toolset(o.toolset ?? 'v35').kubectl, args, env, o.input, o.timeoutMs ?? 60_000),
      helm: (args, o = {}) =>
        run(toolset(o.toolset ?? 'v35').helm, args, env, o.input, o.timeoutMs ?? 120_000),
      stop: () => t.stop(),
    };
  }
  return startInProcess(opts);
}

async function startInProcess(opts: KubeSimOptions): Promise<KubeSim> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kube-sim-'));
  const addresses = await claimAddressBlock();
  const cluster = new Cluster(loadScenario(opts.scenario), addresses);
  const kubelet = new Kubelet(cluster, path.join(dir, 'pg'), dir);
  const stopControllers = startControllers(cluster, {
    onClaimDeleted: (ns, name) => kubelet.dropClaim(ns, name),
    onEvent: (e) => kubelet.onEvent(e),
  });
  bootstrap(cluster);
  let server;
  try {
    server = await startApiServer(cluster, {
      ...(opts.port !== undefined && { port: opts.port }),
      logs: (req, res, ns, name, q) => kubelet.serveLogs(req, res, ns, name, q),
      proxy: (req, res, m) => serveProxy(cluster, (pod, port) => kubelet.connectPort(pod, port), req, res, m),
      upgrade: (req, socket, head) => handleStreamUpgrade(req, socket, head, kubelet),
      debug: opts.debug ?? process.env.KUBE_SIM_DEBUG === '1',
      ...(opts.onRequest && { onRequest: opts.onRequest }),
    });
  } catch (err) {
    stopControllers();
    await kubelet.stop();
    await addresses.release();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const kubeconfigPath = opts.kubeconfigPath ?? path.join(dir, 'kubeconfig');
  writeKubeconfig(kubeconfigPath, server.url);
  const env = toolEnv(dir, kubeconfigPath);
  let stopped: Promise<void> | undefined;
  const srv = server;
  return {
    url: server.url,
    port: server.port,
    kubeconfigPath,
    dir,
    env,
    cluster,
    store: cluster.store,
    setScenario(s) {
      cluster.scenario = loadScenario(s);
      syncStorageClasses(cluster);
      syncNodeImages(cluster);
      return Promise.resolve();
    },
    setApiDown: (down) => srv.setDown(down),
    async restartApiServer(downMs) {
      await srv.setDown(true);
      await new Promise((r) => setTimeout(r, downMs));
      await srv.setDown(false);
    },
    faultCounts: () => Promise.resolve(cluster.faults.snapshot()),
    kubectl: (args, o = {}) =>
      run(toolset(o.toolset ?? 'v35').kubectl, args, env, o.input, o.timeoutMs ?? 60_000),
    helm: (args, o = {}) => run(toolset(o.toolset ?? 'v35').helm, args, env, o.input, o.timeoutMs ?? 120_000),
    stop() {
      stopped ??= (async () => {
        stopControllers();
        await srv.close();
        await kubelet.stop();
        await addresses.release();
        rmSync(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
