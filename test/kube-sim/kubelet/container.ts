// The state of one container as the kubelet tracks it, and its ContainerStatus form.
import { createHash } from 'node:crypto';
import { imageRepository } from '../scenario.ts';
import { nowTimestamp, type JsonObject } from '../types.ts';
import { ContainerLog } from './logs.ts';
import type { ProgramProcess } from './program.ts';

export interface Terminated {
  exitCode: number;
  reason: string;
  message?: string;
  startedAt: string;
  finishedAt: string;
  containerID: string;
}

export interface State {
  waiting?: { reason: string; message?: string };
  running?: { startedAt: string };
  terminated?: Terminated;
}

/** One container of a pod (init, sidecar or main). */
export class Container {
  state: State;
  lastState: State = {};
  ready = false;
  started = false;
  restartCount = 0;
  containerID: string | undefined;
  /** The environment this run started with: fixed for its lifetime, as a real container's is. */
  env: Record<string, string> | undefined;
  readonly log = new ContainerLog();
  /** The program of this run, while it runs (a scenario `program`). */
  program: ProgramProcess | undefined;

  constructor(
    readonly spec: JsonObject,
    readonly kind: 'init' | 'sidecar' | 'main',
    waitingReason: string,
  ) {
    this.state = { waiting: { reason: waitingReason } };
  }

  get name(): string {
    return String(this.spec.name);
  }

  get image(): string {
    return String(this.spec.image ?? '');
  }

  /** Is the container running now? */
  running(): boolean {
    return this.state.running !== undefined;
  }

  /** Moves to Running with a new container id and log run. */
  markRunning(): void {
    this.containerID = `containerd://${createHash('sha256').update(`${this.name}${Date.now()}${Math.random()}`).digest('hex')}`;
    this.state = { running: { startedAt: nowTimestamp() } };
    this.started = true;
    this.log.start();
  }

  /** Moves to Terminated; the log run ends. */
  markTerminated(exitCode: number, reason: string, message?: string): Terminated {
    const t: Terminated = {
      exitCode,
      reason,
      ...(message && { message }),
      startedAt: this.state.running?.startedAt ?? nowTimestamp(),
      finishedAt: nowTimestamp(),
      containerID: this.containerID ?? '',
    };
    this.state = { terminated: t };
    this.ready = false;
    this.started = false;
    this.log.current()?.end();
    return t;
  }

  /** Waits (e.g. CrashLoopBackOff), keeping the last termination as lastState. */
  markWaiting(reason: string, message?: string): void {
    if (this.state.terminated) this.lastState = { terminated: this.state.terminated };
    this.state = { waiting: { reason, ...(message && { message }) } };
    this.ready = false;
    this.started = false;
  }

  /** The ContainerStatus document. */
  status(): JsonObject {
    const repo = imageRepository(this.image);
    const imageID = this.containerID
      ? `docker.io/${repo}@sha256:${createHash('sha256').update(this.image).digest('hex')}`
      : '';
    return {
      name: this.name,
      state: this.state,
      lastState: this.lastState,
      ready: this.ready,
      restartCount: this.restartCount,
      image: this.image,
      imageID,
      ...(this.containerID && { containerID: this.containerID }),
      started: this.started,
    };
  }
}
