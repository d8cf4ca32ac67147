import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Harmless programs every simulated container has (busybox-like images have more, but these suffice). */
const COMMON = [
  'sh',
  'cat',
  'echo',
  'env',
  'printenv',
  'true',
  'false',
  'test',
  '[',
  'sleep',
  'head',
  'tail',
  'wc',
  'grep',
  'sed',
  'tr',
  'cut',
  'sort',
  'base64',
  'date',
  'ls',
  'printf',
  'id',
  'whoami',
];

/** Client programs of the postgres image, taken from the machine's PostgreSQL 15 client. */
const POSTGRES = [
  'psql',
  'pg_dump',
  'pg_dumpall',
  'pg_restore',
  'pg_isready',
  'createdb',
  'dropdb',
  'createuser',
  'dropuser',
];

// Stand-ins: containers answer HTTP on their own ports (200 on any path); other hosts do not resolve.
const HTTP_HELPERS = `
local_host() {
  h=\${1#*://}; h=\${h%%/*}; h=\${h%:*}
  case "$h" in localhost|127.0.0.1|0.0.0.0|"[::1]"|"$HOSTNAME") return 0 ;; esac
  echo "$h"; return 1
}
`;

const WGET = `#!/bin/sh
${HTTP_HELPERS}
url=; out=
while [ $# -gt 0 ]; do
  case "$1" in
    http://*|https://*) url=$1 ;;
    -O|--output-document) shift; out=$1 ;;
    -O*) out=\${1#-O} ;;
    -qO*) out=\${1#-qO} ;;
  esac
  shift
done
[ -n "$url" ] || { echo "wget: missing URL" >&2; exit 1; }
if host=$(local_host "$url"); then
  [ "$out" = "-" ] && echo ok
  exit 0
fi
echo "wget: bad address '$host'" >&2
exit 1
`;

const CURL = `#!/bin/sh
${HTTP_HELPERS}
url=; fmt=; quiet_body=
while [ $# -gt 0 ]; do
  case "$1" in
    http://*|https://*) url=$1 ;;
    -w|--write-out) shift; fmt=$1 ;;
    -o|--output) shift; [ "$1" = /dev/null ] && quiet_body=1 ;;
    -I|--head) quiet_body=1 ;;
  esac
  shift
done
[ -n "$url" ] || { echo "curl: no URL specified" >&2; exit 2; }
if host=$(local_host "$url"); then
  [ -n "$quiet_body" ] || echo ok
  [ -n "$fmt" ] && printf '%s' "$fmt" | sed 's/%{http_code}/200/g; s/%{response_code}/200/g'
  exit 0
fi
echo "curl: (6) Could not resolve host: $host" >&2
exit 6
`;

const HOSTNAME = `#!/bin/sh
case "$1" in -i|-I|--ip-address) echo 127.0.0.1 ;; *) echo "$HOSTNAME" ;; esac
`;

export interface ToolBins {
  /** PATH of an application container. */
  app: string;
  /** PATH of a postgres container (app tools plus the PostgreSQL client). */
  postgres: string;
  /** An empty HOME, so no ~/.psqlrc or ~/.pgpass of this machine leaks in. */
  home: string;
  /** Commands run as `nobody` when we are root, so a script cannot write over this machine. */
  runAs: { uid?: number; gid?: number };
}

function nobody(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('nobody:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  return { uid: Number(uid ?? 65534), gid: Number(gid ?? 65534) };
}

let bins: ToolBins | undefined;

function which(name: string, dirs: string[]): string | undefined {
  return dirs.map((d) => path.join(d, name)).find((p) => existsSync(p));
}

function postgresClientDir(): string[] {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
  // The 15 client matches the embedded 15.x server (pg_dump refuses newer servers).
  const ordered = versions.includes('15') ? ['15', ...versions.filter((v) => v !== '15')] : versions;
  return [...ordered.map((v) => path.join(base, v, 'bin')), '/usr/bin'];
}

/** Builds (once per process) the restricted PATH directories that stand in for container images. */
export function toolBins(): ToolBins {
  if (bins) return bins;
  const root = mkdtempSync(path.join(os.tmpdir(), 'ksim-bin-'));
  chmodSync(root, 0o755);
  process.once('exit', () => rmSync(root, { recursive: true, force: true }));
  const app = path.join(root, 'app');
  const pgDir = path.join(root, 'postgres');
  const home = path.join(root, 'home');
  for (const d of [app, pgDir, home]) mkdirSync(d);
  const system = ['/usr/bin', '/bin'];
  for (const dir of [app, pgDir]) {
    for (const tool of COMMON) {
      const target = which(tool, system);
      if (target) symlinkSync(target, path.join(dir, tool));
    }
    writeFileSync(path.join(dir, 'wget'), WGET, { mode: 0o755 });
    writeFileSync(path.join(dir, 'curl'), CURL, { mode: 0o755 });
    writeFileSync(path.join(dir, 'hostname'), HOSTNAME, { mode: 0o755 });
  }
  const clientDirs = postgresClientDir();
  for (const tool of POSTGRES) {
    const target = which(tool, clientDirs);
    if (target) symlinkSync(target, path.join(pgDir, tool));
  }
  bins = { app, postgres: pgDir, home, runAs: nobody() };
  return bins;
}
