// The TCP server below (startHashBackend) stays: it is not an API server but the peer a scripted pod
// runtime forwards to. kubectl.test.ts talks to the simulated cluster's own API server (sim-api.ts)
// and checks the streaming layer byte for byte, which needs a raw TCP peer that reads an upload to
// its half-close and answers with its hash; the simulated cluster's pods answer HTTP only, and
// forwarding to them is covered by sim-e2e.test.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import net from 'node:net';
import { pattern } from './fake-runtime.ts';

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs kubectl to completion, optionally feeding stdin. */
export function kubectl(bin: string, args: string[], env: NodeJS.ProcessEnv, stdin?: string): Promise<Ran> {
  const child = spawn(bin, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(stdin);
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

export interface PortForward {
  child: ChildProcess;
  /** Local port for each remote port, in argument order. */
  local: number[];
  output(): { stdout: string; stderr: string };
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** Starts `kubectl port-forward <target> 0:<port>...` and waits for every "Forwarding from" line. */
export async function portForward(
  bin: string,
  target: string,
  remotePorts: number[],
  env: NodeJS.ProcessEnv,
): Promise<PortForward> {
  const child = spawn(bin, ['port-forward', target, ...remotePorts.map((p) => `0:${p}`)], { env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const local = await new Promise<number[]>((resolve, reject) => {
    const timer = setInterval(() => {
      const found = remotePorts.map((p) =>
        new RegExp(`Forwarding from 127\\.0\\.0\\.1:(\\d+) -> ${p}\\n`).exec(stdout),
      );
      if (found.every(Boolean)) {
        clearInterval(timer);
        resolve(found.map((m) => Number(m?.[1])));
      }
    }, 10);
    void exited.then(() => {
      clearInterval(timer);
      reject(new Error(`kubectl port-forward exited: ${stderr}`));
    });
  });
  return {
    child,
    local,
    exited,
    output: () => ({ stdout, stderr }),
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

export const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/**
 * A backend that reads a whole upload (until the client half-closes), then answers with
 * the upload's sha256 (64 hex chars) followed by `pattern(size)` of the same size.
 */
export async function startHashBackend(): Promise<{ port: number; close(): Promise<void> }> {
  const server = net.createServer({ allowHalfOpen: true }, (sock) => {
    const chunks: Buffer[] = [];
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('error', () => sock.destroy());
    sock.on('end', () => {
      const got = Buffer.concat(chunks);
      sock.end(Buffer.concat([Buffer.from(sha(got)), pattern(got.length, 3)]));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Uploads `size` bytes through a local port and checks the hash backend's answer both ways. */
export function roundTrip(port: number, size: number): Promise<boolean> {
  const upload = pattern(size, size);
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', () => resolve(false));
    s.on('end', () => {
      const got = Buffer.concat(chunks);
      resolve(got.subarray(0, 64).toString() === sha(upload) && got.subarray(64).equals(pattern(size, 3)));
      s.destroy();
    });
    s.end(upload);
  });
}
