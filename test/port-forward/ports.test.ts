import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode, OperationError } from '../../lib/errors.ts';
import {
  type ProcessSources,
  commandLine,
  describeHolder,
  findPortHolder,
  isZombie,
  listeningInodes,
} from '../../lib/processes.ts';
import { assignPorts, findFreePort, isPortFree } from '../../lib/forward-targets.ts';
import { FORWARD_TARGETS } from '../../lib/forward-targets.ts';

const PROC_NET_TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 11111 1 0000000000000000 100 0 0 10 0
   1: 0100007F:0BB8 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 22222 1 0000000000000000 20 4 30 10 -1
   2: 00000000:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 33333 1 0000000000000000 100 0 0 10 0
`;

describe('who holds a port (/proc)', () => {
  it('finds listening sockets of a port in /proc/net/tcp (not established ones)', () => {
    expect(listeningInodes(PROC_NET_TCP, 3000)).toEqual(['11111']);
    expect(listeningInodes(PROC_NET_TCP, 8000)).toEqual(['33333']);
    expect(listeningInodes(PROC_NET_TCP, 8001)).toEqual([]);
  });

  it('maps the socket inode to the process through its fds', () => {
    const files: Record<string, string> = {
      '/proc/net/tcp': PROC_NET_TCP,
      '/proc/77/cmdline': ['/usr/bin/python3', '-m', 'http.server', '3000', ''].join('\0'),
    };
    const fs: ProcessSources = {
      readFile: (p) => {
        const v = files[p];
        if (v === undefined) throw new Error('ENOENT');
        return v;
      },
      readdir: (p) => ({ '/proc': ['1', '77', 'self', 'net'], '/proc/77/fd': ['0', '5'] })[p] ?? [],
      readlink: (p) => (p === '/proc/77/fd/5' ? 'socket:[11111]' : '/dev/null'),
      exec: () => {
        throw new Error('Linux answers from /proc');
      },
    };
    expect(findPortHolder(3000, fs)).toEqual({ pid: 77, command: 'python3 -m http.server 3000' });
    expect(describeHolder(findPortHolder(3000, fs))).toBe('pid 77 (python3 -m http.server 3000)');
    expect(describeHolder(findPortHolder(8000, fs))).toBe('another process');
  });

  it('without /proc (macOS): lsof names the listener, ps its command line and state', () => {
    const calls: string[][] = [];
    const noProc: ProcessSources = {
      readFile: () => {
        throw new Error('ENOENT');
      },
      readdir: () => {
        throw new Error('ENOENT');
      },
      readlink: () => {
        throw new Error('ENOENT');
      },
      exec: (argv) => {
        calls.push(argv);
        if (argv[0] === 'lsof') return argv[2] === '-iTCP:3000' ? 'p4242\nf12\n' : undefined;
        if (argv.join(' ') === 'ps -o command= -p 4242') return '/usr/local/bin/node server.js\n';
        if (argv.join(' ') === 'ps -o stat= -p 4242') return 'Z+\n';
        if (argv.join(' ') === 'ps -o stat= -p 4243') return 'S\n';
        return undefined;
      },
    };
    expect(findPortHolder(3000, noProc)).toEqual({ pid: 4242, command: 'node server.js' });
    expect(calls[0]).toEqual(['lsof', '-nP', '-iTCP:3000', '-sTCP:LISTEN', '-Fp']);
    expect(findPortHolder(8000, noProc)).toBeUndefined();
    expect(commandLine(4242, noProc)).toBe('/usr/local/bin/node server.js');
    expect(commandLine(1, noProc)).toBeUndefined();
    expect(isZombie(4242, noProc)).toBe(true);
    expect(isZombie(4243, noProc)).toBe(false);
  });

  it('on Linux the command line and state come from /proc', () => {
    const proc: ProcessSources = {
      readFile: (p) =>
        ({
          '/proc/9/cmdline': 'node\0scripts/run.mjs\0port-forward-all\0',
          '/proc/9/stat': '9 (node) Z 1 9 9 0',
        })[p] ??
        (() => {
          throw new Error('ENOENT');
        })(),
      readdir: () => [],
      readlink: () => '',
      exec: () => {
        throw new Error('Linux answers from /proc');
      },
    };
    expect(commandLine(9, proc)).toBe('node scripts/run.mjs port-forward-all');
    expect(isZombie(9, proc)).toBe(true);
  });

  describe('on this machine', () => {
    let server: net.Server;
    let port: number;
    beforeAll(async () => {
      // Only occupies a port for the bind test: no API server is involved, so no simulated cluster.
      server = net.createServer();
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      port = (server.address() as net.AddressInfo).port;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it('a bind test tells a taken port from a free one', async () => {
      expect(await isPortFree(port)).toBe(false);
      const other = await findFreePort(port, new Set());
      expect(other).toBeGreaterThan(port);
      expect(await isPortFree(other!)).toBe(true);
    });

    it('names this test process as the holder', () => {
      const h = findPortHolder(port);
      expect(h?.pid).toBe(process.pid);
      expect(h?.command).toMatch(/node/);
    });
  });
});

describe('assignPorts', () => {
  const [web, sso, api] = FORWARD_TARGETS;
  const targets = [web!, sso!, api!];
  const holderOf = (p: number) => (p === 3000 ? { pid: 4242, command: 'node server.js' } : undefined);

  it('keeps free ports as they are', async () => {
    const got = await assignPorts(targets, { auto: false, isFree: async () => true, holderOf });
    expect(got.map((a) => a.localPort)).toEqual([3000, 3001, 8000]);
  });

  it('fails with one line naming the holder, and the way out', async () => {
    const err = await assignPorts(targets, {
      auto: false,
      isFree: async (p) => p !== 3000,
      holderOf,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperationError);
    const e = err as OperationError;
    expect([e.message, e.hint, e.exitCode]).toEqual([
      'local port 3000 (web) is in use by pid 4242 (node server.js)',
      'stop that process, or rerun with --auto-ports (or --ports NAME=PORT)',
      ExitCode.Failed,
    ]);
  });

  it('points to --stop when another port-forward holds the port', async () => {
    const err = (await assignPorts([web!], {
      auto: false,
      isFree: async () => false,
      holderOf: () => ({ pid: 31, command: 'kubectl --namespace tf port-forward svc/web-dashboard 3...' }),
    }).catch((e: unknown) => e)) as OperationError;
    expect(err.message).toBe(
      'local port 3000 (web) is in use by pid 31 (kubectl --namespace tf port-forward svc/web-dashboard 3...)',
    );
    expect(err.hint).toBe(
      'a port-forward already holds it: stop that one first (a background one: npm run port-forward -- --stop), or rerun with --auto-ports',
    );
  });

  it('lists every taken port at once', async () => {
    const err = (await assignPorts(targets, {
      auto: false,
      isFree: async (p) => p === 8000,
      holderOf,
    }).catch((e: unknown) => e)) as OperationError;
    expect(err.message).toBe(
      '2 local ports are taken: local port 3000 (web) is in use by pid 4242 (node server.js); local port 3001 (sso) is in use by another process',
    );
  });

  it('with auto moves to the next free port that no other target wants, and says why', async () => {
    const taken = new Set([3000, 3002]);
    const got = await assignPorts(targets, { auto: true, isFree: async (p) => !taken.has(p), holderOf });
    // 3001 belongs to sso, 3002 is taken: web goes to 3003.
    expect(got.map((a) => [a.target.name, a.localPort, a.moved?.holder])).toEqual([
      ['web', 3003, 'pid 4242 (node server.js)'],
      ['sso', 3001, undefined],
      ['api', 8000, undefined],
    ]);
  });
});
