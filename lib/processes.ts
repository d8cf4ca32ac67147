import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { Runner } from './exec.ts';

/**
 * Questions about local processes (who holds a port, a process's command line, is it a zombie), answered
 * from /proc on Linux and with `ps`/`lsof` where there is no /proc (macOS, the BSDs). What they read is
 * injected, so both paths are tested on any machine.
 */

/** What the lookups read. */
export interface ProcessSources {
  readFile(path: string): string;
  readdir(path: string): string[];
  readlink(path: string): string;
  /** Runs a small read-only tool (ps, lsof) and returns its stdout; undefined when missing or failing. */
  exec(argv: string[]): string | undefined;
}

const tools = new Runner();

export const realSources: ProcessSources = {
  readFile: (p) => readFileSync(p, 'utf8'),
  readdir: (p) => readdirSync(p),
  readlink: (p) => readlinkSync(p),
  exec: (argv) => {
    const r = tools.runSync(argv, { timeoutMs: 5_000 });
    return r.exitCode === 0 ? r.stdout : undefined;
  },
};

/** A process holding a local port. */
export interface PortHolder {
  pid: number;
  command: string;
}

const LISTEN = '0A';

/** Socket inodes listening on `port` in the text of /proc/net/tcp or /proc/net/tcp6. */
export function listeningInodes(procNetText: string, port: number): string[] {
  const out: string[] = [];
  for (const line of procNetText.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    const local = cols[1];
    if (!local || cols[3] !== LISTEN) continue;
    const portHex = local.slice(local.lastIndexOf(':') + 1);
    if (Number.parseInt(portHex, 16) === port && cols[9] && cols[9] !== '0') out.push(cols[9]);
  }
  return out;
}

/** A process's command line (arguments joined by spaces), or undefined when it cannot be read. */
export function commandLine(pid: number, src: ProcessSources = realSources): string | undefined {
  try {
    const text = src.readFile(`/proc/${pid}/cmdline`).split('\0').filter(Boolean).join(' ');
    if (text) return text;
  } catch {
    // no /proc (macOS), or the process is gone: ask ps
  }
  const out = src.exec(['ps', '-o', 'command=', '-p', String(pid)])?.trim();
  return out ? out : undefined;
}

/** Whether a process is a zombie (exited, not yet reaped by its parent). */
export function isZombie(pid: number, src: ProcessSources = realSources): boolean {
  try {
    // /proc/<pid>/stat: "pid (comm) S ..."; the state letter follows the last ')'.
    const stat = src.readFile(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return (
      src
        .exec(['ps', '-o', 'stat=', '-p', String(pid)])
        ?.trim()
        .startsWith('Z') ?? false
    );
  }
}

/** A command line shortened for messages, the program without its folder. */
function shortCommand(text: string | undefined): string {
  if (!text) return 'unknown';
  const [exe = '', ...rest] = text.split(' ');
  const short = [exe.slice(exe.lastIndexOf('/') + 1), ...rest].join(' ');
  return short.length > 80 ? `${short.slice(0, 77)}...` : short;
}

/**
 * The process listening on a local TCP port: on Linux the socket inode from /proc/net/tcp{,6}, then the
 * process whose fd links to `socket:[inode]`; elsewhere `lsof`. Undefined when it cannot be told (another
 * user's process, no lsof).
 */
export function findPortHolder(port: number, src: ProcessSources = realSources): PortHolder | undefined {
  const inodes = new Set<string>();
  let procNet = false;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    try {
      for (const i of listeningInodes(src.readFile(file), port)) inodes.add(i);
      procNet = true;
    } catch {
      // no /proc (not Linux) or no IPv6
    }
  }
  if (!procNet) return lsofHolder(port, src);
  if (inodes.size === 0) return undefined;
  let pids: string[];
  try {
    pids = src.readdir('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = src.readdir(`/proc/${pid}/fd`);
    } catch {
      continue; // another user's process, or gone
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = src.readlink(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m && inodes.has(m[1] ?? '')) {
        return { pid: Number(pid), command: shortCommand(commandLine(Number(pid), src)) };
      }
    }
  }
  return undefined;
}

/** The listener of a port by `lsof` (field output: a `p<pid>` line per process). */
function lsofHolder(port: number, src: ProcessSources): PortHolder | undefined {
  const out = src.exec(['lsof', '-nP', `-iTCP:${port}`, '-sTCP:LISTEN', '-Fp']);
  const pid = Number(/^p(\d+)$/m.exec(out ?? '')?.[1]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return { pid, command: shortCommand(commandLine(pid, src)) };
}

/** "pid 1234 (node server.js)", or "another process" when the holder cannot be told. */
export function describeHolder(holder: PortHolder | undefined): string {
  return holder ? `pid ${holder.pid} (${holder.command})` : 'another process';
}

/**
 * Whether a process exists, and when it started: its start time (clock ticks since boot, from
 * /proc/<pid>/stat) when it runs, `false` when there is none (or only its zombie), `undefined` when it
 * runs but its start cannot be read (no /proc: macOS asks with signal 0, which sends nothing).
 */
export function processStart(
  pid: number,
  src: Pick<ProcessSources, 'readFile'> = realSources,
): number | false | undefined {
  try {
    const stat = src.readFile(`/proc/${pid}/stat`);
    // After "pid (comm) ": field 3 (state) onward; the start time is field 22.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return false;
    const start = Number(fields[19]);
    return Number.isInteger(start) ? start : undefined;
  } catch {
    // no /proc entry: gone on Linux; elsewhere there is no /proc at all
  }
  try {
    src.readFile('/proc/self/stat');
    return false;
  } catch {
    try {
      process.kill(pid, 0);
      return undefined;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM' ? undefined : false;
    }
  }
}

/** This boot of this machine (Linux); undefined where it cannot be read. */
export function bootId(src: Pick<ProcessSources, 'readFile'> = realSources): string | undefined {
  try {
    return src.readFile('/proc/sys/kernel/random/boot_id').trim() || undefined;
  } catch {
    return undefined;
  }
}
