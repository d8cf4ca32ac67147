// The pod runtime contract of the simulated kubelet, as specified for `test/kube-sim/runtime.ts`.
// Declared here structurally so these streams build on their own; the real module's types match.
import type { Duplex, Readable, Writable } from 'node:stream';

export interface PodRef {
  namespace: string;
  name: string;
}

export interface ExecRequest {
  pod: PodRef;
  container: string;
  command: string[];
  stdin: Readable | null;
  stdout: Writable;
  stderr: Writable;
  tty: boolean;
}

export interface PodRuntime {
  /** Exit code; throws for a missing pod/container (the error carries an HTTP status code). */
  exec(req: ExecRequest): Promise<number>;
  connectPort(pod: PodRef, port: number): Promise<Duplex>;
}

export interface PodProcessInfo {
  pod: PodRef;
  container: string;
  image: string;
  env: Record<string, string>;
  postgres?: { host: string; port: number; socketDir: string };
}

/** The HTTP status an error from the runtime asks for (500 when it names none). */
export function httpStatusOf(err: unknown): number {
  const e = (err ?? {}) as Record<string, unknown>;
  for (const field of ['statusCode', 'status', 'code', 'httpStatus']) {
    const v = e[field];
    if (typeof v === 'number' && v >= 400 && v < 600) return v;
  }
  return 500;
}

/** The message of an unknown thrown value. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
