import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { ExecRequest, PodRef, PodRuntime } from './runtime-types.ts';

/** An error as the runtime throws it for a missing pod or container. */
export class RuntimeError extends Error {
  constructor(
    message: string,
    readonly statusCode: number,
  ) {
    super(message);
  }
}

/**
 * A runtime with a few built-in commands, for testing the transports alone:
 * `out TEXT`, `err TEXT`, `exit N`, `cat` (stdin to stdout), `bytes N` (N bytes of a pattern).
 * Pod "ghost" does not exist; ports map to `ports[port]` on loopback.
 */
export function fakeRuntime(ports: Record<number, number> = {}): PodRuntime & { execs: ExecRequest[] } {
  const execs: ExecRequest[] = [];
  return {
    execs,
    async exec(req) {
      if (req.pod.name === 'ghost') throw new RuntimeError(`pods "ghost" not found`, 404);
      execs.push(req);
      const [cmd, arg = ''] = req.command;
      switch (cmd) {
        case 'out':
          req.stdout.write(arg);
          return 0;
        case 'err':
          req.stderr.write(arg);
          return 0;
        case 'exit':
          req.stdout.write('bye\n');
          req.stderr.write('oops\n');
          return Number(arg);
        case 'bytes':
          req.stdout.write(pattern(Number(arg)));
          return 0;
        case 'cat':
          if (!req.stdin) return 2;
          for await (const chunk of req.stdin) {
            if (!req.stdout.write(chunk)) await new Promise((r) => req.stdout.once('drain', r));
          }
          return 0;
        default:
          req.stderr.write(`sh: ${cmd}: not found\n`);
          return 127;
      }
    },
    async connectPort(pod: PodRef, port: number): Promise<Duplex> {
      const target = ports[port];
      if (pod.name === 'ghost' || target === undefined) {
        throw new Error(`dial tcp4 127.0.0.1:${port}: connect: connection refused`);
      }
      const socket = net.connect(target, '127.0.0.1');
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      });
      return socket;
    },
  };
}

/** Deterministic bytes for transfer checks. */
export function pattern(n: number, seed = 7): Buffer {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    b[i] = x >>> 16;
  }
  return b;
}
