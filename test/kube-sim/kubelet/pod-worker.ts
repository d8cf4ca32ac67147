// The life of one pod on the simulated node: scheduling (waiting for its claims), volume
// set-up, init containers in order, then the main containers, each behaving as the scenario
// says for its image (ready, crash with back-off, pull errors, never ready, OOM, complete,
// hang), with the status fields and Events a real kubelet reports.
import type { Cluster } from '../cluster.ts';
import { typeByKind } from '../resources.ts';
import { behaviourOf, type ImageBehaviour, isPostgresImage } from '../scenario.ts';
import { getPath, nowTimestamp, type JsonObject, type KObject } from '../types.ts';
import { failPull, runAs } from './behaviour.ts';
import { backoff, NODE_NAME } from './node.ts';
import { Container } from './container.ts';
import { ConfigError, missingVolumes, resolveEnv } from './env.ts';
import { PodNetwork } from './pod-network.ts';
import { PodPorts } from './ports.ts';
import { podStatus } from './status.ts';

const POD = typeByKind('Pod');
const PVC = typeByKind('PersistentVolumeClaim');

/** What a pod worker needs from the kubelet. */
export interface WorkerHost {
  cluster: Cluster;
  podIp(w: PodWorker): string;
  /** Starts the database of a postgres container; resolves when it accepts connections. */
  startPostgres(worker: PodWorker, c: Container, env: Record<string, string>): Promise<void>;
  stopPostgres(worker: PodWorker): Promise<void>;
  /** A container's image was pulled: the node now holds it (its status.images). */
  imagePulled(image: string): void;
  /** The hosts file a program container of the namespace sees as /etc/hosts. */
  hostsFile(namespace: string): string | undefined;
  /** The pod has its IP: its stand-in ports listen there. */
  exposePod(worker: PodWorker): void;
}

/** Runs one pod. */
export class PodWorker {
  readonly containers: Container[];
  readonly ports: PodPorts;
  readonly network = new PodNetwork();
  scheduled = false;
  sandboxReady = false;
  initialized = false;
  podIP = '';
  startTime = '';
  unschedulable: string | undefined;
  /** The postgres volume key this pod runs a database for. */
  pgKey: string | undefined;
  private stage: 'schedule' | 'volumes' | 'init' | 'main' | 'done' = 'schedule';
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly waitingConfig = new Map<string, () => void>();
  private stopped = false;
  /** Set once the pod is being terminated: its containers will not restart. */
  stopping = false;
  private initIndex = 0;
  private pod: KObject;

  constructor(
    readonly host: WorkerHost,
    pod: KObject,
  ) {
    this.pod = pod;
    const spec = pod.spec as JsonObject;
    const inits = ((spec.initContainers ?? []) as JsonObject[]).map(
      (c) => new Container(c, c.restartPolicy === 'Always' ? 'sidecar' : 'init', 'PodInitializing'),
    );
    const mains = ((spec.containers ?? []) as JsonObject[]).map(
      (c) => new Container(c, 'main', inits.length ? 'PodInitializing' : 'ContainerCreating'),
    );
    this.containers = [...inits, ...mains];
    this.ports = new PodPorts(pod.metadata.name, () =>
      this.containers.some(
        (c) => c.kind === 'main' && c.running() && !c.ready && this.behaviour(c).state === 'never-ready',
      )
        ? ((getPath(this.containers.find((c) => c.kind === 'main')?.spec, [
            'readinessProbe',
            'httpGet',
            'path',
          ]) as string | undefined) ?? '*')
        : undefined,
    );
  }

  get namespace(): string {
    return this.pod.metadata.namespace ?? 'default';
  }
  get name(): string {
    return this.pod.metadata.name;
  }
  get uid(): string {
    return this.pod.metadata.uid;
  }
  get spec(): JsonObject {
    return this.pod.spec as JsonObject;
  }
  get restartPolicy(): string {
    return String(this.spec.restartPolicy ?? 'Always');
  }
  /** The latest stored pod. */
  get object(): KObject {
    return this.pod;
  }

  behaviour(c: Container): ImageBehaviour {
    return behaviourOf(this.host.cluster.scenario, c.image);
  }

  /** Whether a container runs a program (its image's scenario names one). */
  runsProgram(c: Container): boolean {
    const b = this.behaviour(c);
    return b.program !== undefined && (b.state ?? 'ready') === 'ready';
  }

  /** The container ports the simulator answers for (of the containers that run no program). */
  standInPorts(): Set<number> {
    const ports = new Set<number>();
    for (const c of this.containers) {
      if (this.runsProgram(c)) continue;
      for (const p of (c.spec.ports ?? []) as JsonObject[]) ports.add(Number(p.containerPort));
      if (isPostgresImage(c.image)) ports.add(5432);
    }
    return ports;
  }

  /** Records an Event about the pod (or one of its containers). */
  event(type: 'Normal' | 'Warning', reason: string, message: string, c?: Container): void {
    const fieldPath = c
      ? `spec.${c.kind === 'main' ? 'containers' : 'initContainers'}{${c.name}}`
      : undefined;
    this.host.cluster.events.record(
      this.pod,
      type,
      reason,
      message,
      reason === 'Scheduled' || reason === 'FailedScheduling' ? 'default-scheduler' : 'kubelet',
      fieldPath,
    );
  }

  /** Runs `fn` after `ms` unless the pod stops first. */
  later(ms: number, fn: () => void): void {
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.stopped) fn();
    }, ms);
    this.timers.add(t);
  }

  /** Writes the pod status (and picks up the latest pod object). */
  sync(): void {
    if (this.stopped && this.stage !== 'done') return;
    const status = podStatus(this);
    const updated = this.host.cluster.store.mutate(
      POD,
      this.namespace,
      this.name,
      (p) => {
        if (p.metadata.uid !== this.uid) return false;
        p.status = status;
      },
      { subresource: 'status' },
    );
    if (updated && updated.metadata.uid === this.uid) this.pod = updated;
  }

  /** Starts the pod's life. */
  start(): void {
    this.startTime = nowTimestamp();
    this.poke();
  }

  /** Re-checks whatever the pod waits for (claims bound, secrets present). */
  poke(): void {
    if (this.stopped) return;
    if (this.stage === 'schedule') this.trySchedule();
    else if (this.stage === 'volumes') this.trySetup();
    for (const retry of [...this.waitingConfig.values()]) retry();
  }

  private trySchedule(): void {
    for (const v of (this.spec.volumes ?? []) as JsonObject[]) {
      const claim = getPath(v, ['persistentVolumeClaim', 'claimName']);
      if (typeof claim !== 'string') continue;
      const pvc = this.host.cluster.store.get(PVC, this.namespace, claim);
      const msg = !pvc
        ? `0/1 nodes are available: persistentvolumeclaim "${claim}" not found. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.`
        : (pvc.status as JsonObject | undefined)?.phase !== 'Bound'
          ? '0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.'
          : pvc.metadata.deletionTimestamp
            ? `0/1 nodes are available: persistentvolumeclaim "${claim}" is being deleted. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.`
            : undefined;
      if (msg) {
        if (this.unschedulable !== msg) this.event('Warning', 'FailedScheduling', msg);
        this.unschedulable = msg;
        this.sync();
        return;
      }
    }
    this.unschedulable = undefined;
    this.stage = 'volumes';
    this.scheduled = true;
    const bound = this.host.cluster.store.mutate(
      POD,
      this.namespace,
      this.name,
      (p) => {
        if (p.metadata.uid !== this.uid) return false;
        (p.spec as JsonObject).nodeName = NODE_NAME;
      },
      { internal: true },
    );
    if (bound) this.pod = bound;
    this.event('Normal', 'Scheduled', `Successfully assigned ${this.namespace}/${this.name} to ${NODE_NAME}`);
    this.trySetup();
  }

  private trySetup(): void {
    const missing = missingVolumes(this.host.cluster.store, this.pod);
    if (missing.length) {
      for (const m of missing) this.event('Warning', 'FailedMount', m);
      this.sync();
      this.later(1000, () => this.poke());
      return;
    }
    this.stage = 'init';
    this.sandboxReady = true;
    this.podIP = this.host.podIp(this);
    this.host.exposePod(this);
    this.runInit();
  }

  private runInit(): void {
    const inits = this.containers.filter((c) => c.kind !== 'main');
    const c = inits[this.initIndex];
    if (!c) {
      this.initialized = true;
      this.stage = 'main';
      for (const m of this.containers.filter((x) => x.kind === 'main')) this.startContainer(m);
      this.sync();
      return;
    }
    this.startContainer(c);
    this.sync();
  }

  /** Pull, configure, create and start a container, then let it behave. */
  private startContainer(c: Container): void {
    if (this.stopped) return;
    const b = this.behaviour(c);
    if (b.state === 'pull-error') return failPull(this, c, 0);
    const policy = String(c.spec.imagePullPolicy ?? 'IfNotPresent');
    if (policy === 'IfNotPresent' && c.restartCount + c.log.runs.length > 0) {
      this.event(
        'Normal',
        'Pulled',
        `Container image "${c.image}" already present on machine and can be accessed by the pod`,
        c,
      );
    } else {
      this.event('Normal', 'Pulling', `Pulling image "${c.image}"`, c);
      this.event(
        'Normal',
        'Pulled',
        `Successfully pulled image "${c.image}" in 212ms (212ms including waiting). Image size: 48213456 bytes.`,
        c,
      );
      this.host.imagePulled(c.image);
    }
    let env: Record<string, string>;
    try {
      env = resolveEnv(this.host.cluster.store, this.pod, c.spec);
      this.waitingConfig.delete(c.name);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      c.markWaiting('CreateContainerConfigError', err.message);
      this.event('Warning', 'Failed', `Error: ${err.message}`, c);
      this.waitingConfig.set(c.name, () => {
        this.waitingConfig.delete(c.name);
        this.startContainer(c);
      });
      this.later(1000, () => this.poke());
      this.sync();
      return;
    }
    this.event('Normal', 'Created', `Created container: ${c.name}`, c);
    this.event('Normal', 'Started', `Started container ${c.name}`, c);
    c.markRunning();
    c.env = env;
    this.sync();
    runAs(this, c, b, env);
  }

  /** A container ended: decide restart (with back-off), next init container, or pod end. */
  exited(c: Container, code: number, reason: string): void {
    if (!c.running() || this.stopped) return;
    c.markTerminated(code, reason);
    this.sync();
    const policy = c.kind === 'sidecar' ? 'Always' : this.restartPolicy;
    const restart = policy === 'Always' || (policy === 'OnFailure' && code !== 0);
    if (c.kind === 'init' && code === 0) {
      this.initIndex++;
      this.runInit();
      return;
    }
    if (!restart) {
      this.sync();
      return;
    }
    const delay = backoff(c.restartCount);
    this.later(50, () => {
      c.markWaiting(
        'CrashLoopBackOff',
        `back-off ${delay / 1000}s restarting failed container=${c.name} pod=${this.name}_${this.namespace}(${this.uid})`,
      );
      this.event(
        'Warning',
        'BackOff',
        `Back-off restarting failed container ${c.name} in pod ${this.name}_${this.namespace}(${this.uid})`,
        c,
      );
      this.sync();
      this.later(delay, () => {
        c.restartCount++;
        this.startContainer(c);
      });
    });
  }

  /** Stops every container (pod deleted): Killing events, servers closed, database stopped. */
  async terminate(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.stopping = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const c of this.containers) {
      if (c.running()) {
        this.host.cluster.events.record(
          this.pod,
          'Normal',
          'Killing',
          `Stopping container ${c.name}`,
          'kubelet',
          `spec.${c.kind === 'main' ? 'containers' : 'initContainers'}{${c.name}}`,
        );
        c.markTerminated(0, 'Completed');
      }
      c.log.current()?.end();
    }
    await Promise.all(this.containers.map((c) => c.program?.stop()));
    this.network.close();
    await this.ports.close();
    await this.host.stopPostgres(this);
    this.stage = 'done';
  }
}
