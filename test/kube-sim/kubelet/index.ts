// The simulated kubelet: runs a PodWorker per pod on the single node, serves logs, exec and
// port connections (the PodRuntime of the streaming layer), and backs postgres containers by
// real PostgreSQL servers, one per volume.
import type { IncomingMessage, ServerResponse } from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { syncNodeImages } from '../bootstrap.ts';
import type { Cluster } from '../cluster.ts';
import { PostgresBacking } from '../postgres/index.ts';
import { typeByKind } from '../resources.ts';
import {
  type ExecRequest,
  KubeSimError,
  type PodProcessInfo,
  type PodRef,
  type PodRuntime,
} from '../runtime.ts';
import { isPostgresImage } from '../scenario.ts';
import type { StoreEvent } from '../store.ts';
import { closePodStreams, runInContainer } from '../streams/index.ts';
import { getPath, type JsonObject, type KObject } from '../types.ts';
import type { Container } from './container.ts';
import { resolveEnv } from './env.ts';
import { serveLogs } from './log-handler.ts';
import { PodWorker, type WorkerHost } from './pod-worker.ts';
import { ClusterDns } from '../network/dns.ts';
import { KubeProxy } from '../network/proxy.ts';

const POD = typeByKind('Pod');
const POKE_KINDS = new Set(['PersistentVolumeClaim', 'Secret', 'ConfigMap']);

interface PgEndpoint {
  host: string;
  port: number;
  socketDir: string;
}

/** Where a postgres container's server is reached before it runs: nowhere (connections are refused). */
const SERVER_NOT_UP = { host: '127.0.0.1', port: 1, socketDir: '/nonexistent/postgres-not-started' };

/** The node agent of the simulated cluster. */
export class Kubelet implements PodRuntime, WorkerHost {
  private readonly workers = new Map<string, PodWorker>();
  private readonly byName = new Map<string, PodWorker>();
  private readonly pgUsers = new Map<string, Set<string>>();
  private readonly pgEndpoints = new Map<string, PgEndpoint>();
  private readonly pgLogs = new Map<string, Container>();
  private readonly backing: PostgresBacking;
  private readonly dns: ClusterDns;
  private readonly proxy: KubeProxy;
  private stopping = false;

  constructor(
    readonly cluster: Cluster,
    pgRoot: string,
    /** where the namespaces' hosts files live */
    netDir: string = pgRoot,
  ) {
    this.dns = new ClusterDns(cluster, netDir);
    this.proxy = new KubeProxy(cluster);
    this.backing = new PostgresBacking({
      rootDir: pgRoot,
      onLog: (key, line) => this.pgLogs.get(key)?.log.current()?.write(line),
    });
  }

  /** Reacts to pods (start, terminate) and to what pods wait for. */
  onEvent(e: StoreEvent): void {
    this.dns.onEvent(e);
    this.proxy.onEvent(e);
    if (e.rt === POD) return this.onPod(e);
    if (POKE_KINDS.has(e.rt.kind)) {
      for (const w of this.workers.values()) if (w.namespace === e.object.metadata.namespace) w.poke();
    }
  }

  private onPod(e: StoreEvent): void {
    const pod = e.object;
    const uid = pod.metadata.uid;
    const w = this.workers.get(uid);
    if (e.type === 'DELETED') {
      if (w) void this.finish(w, false);
      return;
    }
    if (pod.metadata.deletionTimestamp) {
      if (w) void this.finish(w, true);
      else if ((pod.metadata.deletionGracePeriodSeconds ?? 0) > 0) this.finalize(pod);
      return;
    }
    if (!w && !this.stopping && e.type === 'ADDED') {
      const worker = new PodWorker(this, pod);
      this.workers.set(uid, worker);
      this.byName.set(`${worker.namespace}/${worker.name}`, worker);
      worker.start();
    }
  }

  private finalize(pod: KObject): void {
    this.cluster.store.mutate(
      POD,
      pod.metadata.namespace,
      pod.metadata.name,
      (p) => {
        if (p.metadata.uid !== pod.metadata.uid) return false;
        p.metadata.deletionGracePeriodSeconds = 0;
      },
      { internal: true },
    );
  }

  private async finish(w: PodWorker, finalize: boolean): Promise<void> {
    if (this.workers.get(w.uid) !== w) return;
    this.workers.delete(w.uid);
    if (this.byName.get(`${w.namespace}/${w.name}`) === w) this.byName.delete(`${w.namespace}/${w.name}`);
    closePodStreams(this, { namespace: w.namespace, name: w.name });
    await w.terminate();
    if (finalize) setTimeout(() => this.finalize(w.object), 30);
  }

  /** A pod's IP on loopback (the same for a pod of the same name). */
  podIp(w: PodWorker): string {
    return this.cluster.addresses.podIp(w.namespace, w.name);
  }

  hostsFile(namespace: string): string | undefined {
    return this.dns.hostsFile(namespace);
  }

  /** The pod's stand-in ports listen on its IP (a program listens there itself). */
  exposePod(w: PodWorker): void {
    w.network.open(w.podIP, w.standInPorts(), (port) =>
      this.connectPort({ namespace: w.namespace, name: w.name }, port),
    );
  }

  private pgKeyOf(w: PodWorker, c: Container): string {
    const mounts = ((c.spec.volumeMounts ?? []) as JsonObject[]).map((m) => m.name);
    const vols = ((w.spec.volumes ?? []) as JsonObject[]).filter((v) =>
      getPath(v, ['persistentVolumeClaim', 'claimName']),
    );
    const v = vols.find((x) => mounts.includes(x.name)) ?? vols[0];
    const claim = v && getPath(v, ['persistentVolumeClaim', 'claimName']);
    return typeof claim === 'string' ? `${w.namespace}/${claim}` : `${w.namespace}/pod-${w.uid}`;
  }

  /** Starts (or shares) the database of a postgres container's volume. */
  imagePulled(image: string): void {
    if (this.cluster.pulledImages.has(image)) return;
    this.cluster.pulledImages.add(image);
    syncNodeImages(this.cluster);
  }

  async startPostgres(w: PodWorker, c: Container, env: Record<string, string>): Promise<void> {
    const key = this.pgKeyOf(w, c);
    w.pgKey = key;
    const users = this.pgUsers.get(key) ?? new Set<string>();
    users.add(w.uid);
    this.pgUsers.set(key, users);
    this.pgLogs.set(key, c);
    const ep = await this.backing.start(key, {
      POSTGRES_USER: env.POSTGRES_USER,
      POSTGRES_PASSWORD: env.POSTGRES_PASSWORD,
      POSTGRES_DB: env.POSTGRES_DB,
    });
    this.pgEndpoints.set(key, ep);
  }

  /** Stops a pod's database when no other pod uses it (an emptyDir database is dropped). */
  async stopPostgres(w: PodWorker): Promise<void> {
    const key = w.pgKey;
    if (!key) return;
    const users = this.pgUsers.get(key);
    users?.delete(w.uid);
    if (users && users.size > 0) return;
    this.pgUsers.delete(key);
    this.pgEndpoints.delete(key);
    this.pgLogs.delete(key);
    if (key.includes('/pod-')) await this.backing.drop(key).catch(() => undefined);
    else await this.backing.stop(key).catch(() => undefined);
  }

  /** Deletes the data of a claim that is gone. */
  dropClaim(namespace: string, name: string): void {
    void this.backing.drop(`${namespace}/${name}`).catch(() => undefined);
  }

  /** Serves `kubectl logs`. */
  serveLogs(
    req: IncomingMessage,
    res: ServerResponse,
    namespace: string,
    name: string,
    q: URLSearchParams,
  ): void {
    serveLogs(this.byName.get(`${namespace}/${name}`), req, res, name, q);
  }

  private running(pod: PodRef, container?: string): { w: PodWorker; c: Container } {
    const w = this.byName.get(`${pod.namespace}/${pod.name}`);
    if (!w) {
      const exists = this.cluster.store.get(POD, pod.namespace, pod.name);
      if (!exists) throw new KubeSimError(404, `pods "${pod.name}" not found`);
      throw new KubeSimError(400, `pod ${pod.name} is not running`);
    }
    const c = container
      ? w.containers.find((x) => x.name === container)
      : w.containers.find((x) => x.kind === 'main');
    if (!c) throw new KubeSimError(400, `container ${container ?? ''} is not valid for pod ${pod.name}`);
    if (!c.running())
      throw new KubeSimError(400, `unable to upgrade connection: container not found ("${c.name}")`);
    return { w, c };
  }

  /** Runs a command in a running container (PodRuntime). */
  async exec(req: ExecRequest): Promise<number> {
    const { w, c } = this.running(req.pod, req.container);
    // What the container started with: a Secret changed since reaches it only after a restart.
    const env = c.env ?? resolveEnv(this.cluster.store, w.object, c.spec);
    // A postgres image has its client tools whether or not its server accepts yet; before it does, a
    // connection is refused (port 1, a socket folder that does not exist), as in the real image.
    const pg = isPostgresImage(c.image)
      ? ((w.pgKey && this.pgEndpoints.get(w.pgKey)) ?? SERVER_NOT_UP)
      : undefined;
    const info: PodProcessInfo = {
      pod: req.pod,
      container: c.name,
      image: c.image,
      env,
      ...(pg && { postgres: pg }),
    };
    return runInContainer(info, req.command, { stdin: req.stdin, stdout: req.stdout, stderr: req.stderr });
  }

  /** Connects to a pod's port: the database for postgres pods, else the pod's HTTP stand-in. */
  async connectPort(pod: PodRef, port: number): Promise<Duplex> {
    const w = this.byName.get(`${pod.namespace}/${pod.name}`);
    if (!w) throw new KubeSimError(404, `pods "${pod.name}" not found`);
    if (!w.containers.some((c) => c.kind === 'main' && c.running())) {
      throw new KubeSimError(
        400,
        `pod ${pod.name} is not running. Current status=${String((w.object.status as JsonObject | undefined)?.phase ?? 'Pending')}`,
      );
    }
    // A program listens on the pod IP itself, on whatever ports it opens.
    if (w.containers.some((c) => c.program) && !w.standInPorts().has(port)) {
      return new Promise((resolve, reject) => {
        const s = net.connect(port, w.podIP);
        s.once('connect', () => resolve(s));
        s.once('error', reject);
      });
    }
    const pgContainer = w.containers.find((c) => isPostgresImage(c.image) && c.running());
    const pg = pgContainer && w.pgKey ? this.pgEndpoints.get(w.pgKey) : undefined;
    const target =
      pg && port === 5432
        ? { host: pg.host, port: pg.port }
        : { host: '127.0.0.1', port: await w.ports.local(port) };
    return new Promise((resolve, reject) => {
      const s = net.connect(target.port, target.host);
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    });
  }

  /** Stops every pod, server and database. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.proxy.stop();
    this.dns.stop();
    await Promise.all([...this.workers.values()].map((w) => w.terminate()));
    this.workers.clear();
    this.byName.clear();
    await this.backing.stopAll();
  }
}
