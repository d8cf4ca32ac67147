// A container that runs a real program of this machine (the scenario's `program` for its image): the
// pod's resolved env as the container gets it, its output as the container's log, its exit as the
// container's. It runs in a process group of its own, stopped with its pod and with the simulator
// (and, should the simulator's process die, killed on the way out). As root it runs in a mount
// namespace of its own (`unshare -m`) whose /etc/hosts is its namespace's hosts file
// (network/dns.ts), so Service names resolve; without root or unshare they do not, and its log says so.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import os from 'node:os';
import { createInterface } from 'node:readline';

/** What the scenario says to run for an image. */
export interface ProgramSpec {
  /** argv; the first word is found on the simulator's PATH */
  command: string[];
  /** working directory (default: the OS temp dir) */
  cwd?: string;
  /** variables added to (and winning over) the container's env */
  env?: Record<string, string>;
}

const live = new Set<ChildProcess>();
let exitHook = false;

/** Kills every program's process group when the simulator's process goes without stopping them. */
function killAllOnExit(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const p of live) if (p.pid) killGroup(p.pid, 'SIGKILL');
  });
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

let mountNamespaces: boolean | undefined;

/** Whether programs can get their own /etc/hosts: root and a working `unshare -m`. */
export function canMountHosts(): boolean {
  if (mountNamespaces === undefined) {
    mountNamespaces =
      process.getuid?.() === 0 &&
      spawnSync('unshare', ['-m', '--propagation', 'private', 'true'], { stdio: 'ignore' }).status === 0;
  }
  return mountNamespaces;
}

/** The shell step that puts the hosts file over /etc/hosts, then becomes the program. */
const WITH_HOSTS = 'mount --bind "$0" /etc/hosts && exec "$@"';

/** One run of a program container. */
export class ProgramProcess {
  private readonly child: ChildProcess;
  readonly exited: Promise<{ code: number; signal: NodeJS.Signals | null }>;

  constructor(
    spec: ProgramSpec,
    opts: {
      /** the container's resolved env */
      env: Record<string, string>;
      podIp: string;
      podName: string;
      /** the namespace's hosts file */
      hostsFile?: string;
      onLine: (line: string) => void;
    },
  ) {
    if (spec.command.length === 0) throw new Error('kube-sim: a program needs a command');
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: os.tmpdir(),
      HOSTNAME: opts.podName,
      ...opts.env,
      // Where the program listens: pods share the host's network, each on an address of its own.
      KUBE_SIM_POD_IP: opts.podIp,
      ...spec.env,
    };
    const hosts = opts.hostsFile !== undefined && canMountHosts();
    const [cmd, ...args] = hosts
      ? [
          'unshare',
          '-m',
          '--propagation',
          'private',
          'sh',
          '-c',
          WITH_HOSTS,
          opts.hostsFile!,
          ...spec.command,
        ]
      : spec.command;
    if (opts.hostsFile !== undefined && !hosts)
      opts.onLine('kube-sim: Service names do not resolve in this container (it takes root and unshare -m)');
    killAllOnExit();
    this.child = spawn(cmd!, args, {
      cwd: spec.cwd ?? os.tmpdir(),
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(this.child);
    for (const stream of [this.child.stdout, this.child.stderr])
      if (stream) createInterface({ input: stream }).on('line', opts.onLine);
    this.exited = new Promise((resolve) => {
      this.child.once('error', (err) => {
        opts.onLine(`kube-sim: cannot start ${spec.command[0]}: ${err.message}`);
        live.delete(this.child);
        resolve({ code: 128, signal: null });
      });
      this.child.once('exit', (code, signal) => {
        live.delete(this.child);
        resolve({ code: code ?? 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0), signal });
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves when the program has exited. */
  async stop(graceMs = 2_000): Promise<void> {
    const pid = this.child.pid;
    if (pid === undefined || !live.has(this.child)) return;
    killGroup(pid, 'SIGTERM');
    const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
    // What the program started and left behind goes with it.
    killGroup(pid, 'SIGKILL');
  }
}
