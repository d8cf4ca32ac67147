// The contract between the simulated kubelet and the streaming layer (exec, port-forward).
// Kept stable: the streams module codes against it.
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

/** What the kubelet offers the streaming layer. */
export interface PodRuntime {
  /** Runs a command "inside" a running container; resolves to the exit code. Throws KubeSimError(404/400) for a missing pod/container or a container not running. */
  exec(req: ExecRequest): Promise<number>;
  /** Opens a TCP connection to a pod's port (the loopback server standing in for it). */
  connectPort(pod: PodRef, port: number): Promise<Duplex>;
}

/** Pod facts the exec emulation needs. */
export interface PodProcessInfo {
  pod: PodRef;
  container: string;
  image: string;
  env: Record<string, string>;
  /** set for postgres containers */
  postgres?: { host: string; port: number; socketDir: string };
}

/** An error that maps to an HTTP status (and a Kubernetes Status reason) at the API boundary. */
export class KubeSimError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly reason: string = reasonFor(statusCode),
  ) {
    super(message);
    this.name = 'KubeSimError';
  }
}

function reasonFor(code: number): string {
  switch (code) {
    case 400:
      return 'BadRequest';
    case 403:
      return 'Forbidden';
    case 404:
      return 'NotFound';
    case 409:
      return 'AlreadyExists';
    case 410:
      return 'Expired';
    case 415:
      return 'UnsupportedMediaType';
    case 422:
      return 'Invalid';
    default:
      return 'InternalError';
  }
}
