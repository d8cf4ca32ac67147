import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/** The few file-system reads the holder search needs (injected in tests). */
export interface ProcFs {
  readFile(path: string): string;
  readdir(path: string): string[];
  readlink(path: string): string;
}

export const realProcFs: ProcFs = {
  readFile: (p) => readFileSync(p, 'utf8'),
  readdir: (p) => readdirSync(p),
  readlink: (p) => readlinkSync(p),
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

/** A process's command line for messages: arguments joined by spaces, shortened. */
export function commandOf(fs: ProcFs, pid: number): string {
  let text = '';
  try {
    const [exe, ...args] = fs.readFile(`/proc/${pid}/cmdline`).split('\0').filter(Boolean);
    // The program's name without its folder: "python3 -m http.server 3000" reads better than the full path.
    text = exe === undefined ? '' : [exe.slice(exe.lastIndexOf('/') + 1), ...args].join(' ');
  } catch {
    // the process may have ended meanwhile
  }
  if (!text) {
    try {
      text = fs.readFile(`/proc/${pid}/comm`).trim();
    } catch {
      text = 'unknown';
    }
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * The process listening on a local TCP port, found through /proc (Linux; `lsof` is not always there):
 * the socket inode from /proc/net/tcp{,6}, then the process whose fd links to `socket:[inode]`.
 * Undefined when it cannot be told (another OS, another user's process).
 */
export function findPortHolder(port: number, fs: ProcFs = realProcFs): PortHolder | undefined {
  const inodes = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    try {
      for (const i of listeningInodes(fs.readFile(file), port)) inodes.add(i);
    } catch {
      // no /proc (not Linux) or no IPv6
    }
  }
  if (inodes.size === 0) return undefined;
  let pids: string[];
  try {
    pids = fs.readdir('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = fs.readdir(`/proc/${pid}/fd`);
    } catch {
      continue; // another user's process, or gone
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = fs.readlink(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m && inodes.has(m[1] ?? '')) return { pid: Number(pid), command: commandOf(fs, Number(pid)) };
    }
  }
  return undefined;
}

/** "pid 1234 (node server.js)", or "another process" when the holder cannot be told. */
export function describeHolder(holder: PortHolder | undefined): string {
  return holder ? `pid ${holder.pid} (${holder.command})` : 'another process';
}
