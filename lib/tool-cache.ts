import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  realpathSync,
  statSync,
} from 'node:fs';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';

/** A version as a tool reports it (lib/tools.ts's ToolInfo has these fields; no import, no cycle). */
type Version = { version: string; major: number; minor: number };
/** A tool found at a path, with its version. */
type Known<N extends string> = Version & { name: N; path: string };

const KEEP = 20;

/**
 * What the suite remembers between runs to spare a process per command: small JSON maps in the user's
 * cache folder (XDG_CACHE_HOME, else ~/.cache), keyed by the identity of the files the fact came from,
 * so an edited file is a new key. Best effort both ways: an unreadable or unwritable cache asks again.
 */

/** A cache file of that name in the user's cache folder. */
export function cacheFile(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const base = env.XDG_CACHE_HOME || (env.HOME ? path.join(env.HOME, '.cache') : undefined);
  return base ? path.join(base, 'taskflow', name) : undefined;
}

/** The file that remembers tool versions. */
export function toolCacheFile(env: NodeJS.ProcessEnv): string | undefined {
  return cacheFile(env, 'tool-versions.json');
}

// ELF; Mach-O (32/64-bit, either byte order); a universal Mach-O.
const NATIVE = ['7f454c46', 'feedface', 'feedfacf', 'cefaedfe', 'cffaedfe', 'cafebabe'];

/**
 * What identifies one build of a tool: its real path, size, modification and change times and inode.
 * Only for a native executable whose real name starts with the tool's: a script, or a version
 * manager's shim that runs another binary depending on the folder, is never remembered.
 */
export function binaryIdentity(name: string, file: string): string | undefined {
  try {
    const real = realpathSync(file);
    if (!path.basename(real).startsWith(name)) return undefined;
    const head = Buffer.alloc(4);
    const fd = openSync(real, 'r');
    try {
      readSync(fd, head, 0, 4, 0);
    } finally {
      closeSync(fd);
    }
    if (!NATIVE.includes(head.toString('hex'))) return undefined;
    const st = statSync(real);
    return `${name} ${real} ${st.size} ${st.mtimeMs} ${st.ctimeMs} ${st.ino}`;
  } catch {
    return undefined;
  }
}

/** The entries of a cache file (none when it is missing or unreadable); their shape is the caller's to check. */
export function readCache(file: string): Record<string, unknown> {
  try {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return typeof doc === 'object' && doc !== null && !Array.isArray(doc)
      ? (doc as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

/** Adds (or refreshes) one entry, keeping the newest KEEP; written atomically, mode 0600. */
export function remember(file: string, key: string, value: unknown): void {
  try {
    const entries = Object.entries(readCache(file)).filter(([k]) => k !== key);
    const next = Object.fromEntries([...entries.slice(-(KEEP - 1)), [key, value]]);
    // One level at a time: a recursive mkdir can spin forever on some file systems (/proc).
    for (const dir of [path.dirname(path.dirname(file)), path.dirname(file)]) {
      if (!existsSync(dir)) mkdirSync(dir);
    }
    writeFileAtomic.sync(file, `${JSON.stringify(next, null, 1)}\n`, { mode: 0o600 });
  } catch {
    // a read-only home: the fact is read again next time
  }
}

/** The version a binary reported before, when it is still the same file; undefined otherwise. */
export function cachedVersion<N extends string>(
  name: N,
  file: string,
  env: NodeJS.ProcessEnv,
): Known<N> | undefined {
  const cache = toolCacheFile(env);
  const id = binaryIdentity(name, file);
  if (!cache || !id) return undefined;
  const v = readCache(cache)[id] as Partial<Version> | undefined;
  if (typeof v?.version !== 'string' || typeof v.major !== 'number' || typeof v.minor !== 'number')
    return undefined;
  return { name, path: file, version: v.version, major: v.major, minor: v.minor };
}

/** Remembers the version a binary reported (best effort: an unwritable cache folder is no error). */
export function rememberVersion(info: Known<string>, env: NodeJS.ProcessEnv): void {
  const cache = toolCacheFile(env);
  const id = binaryIdentity(info.name, info.path);
  if (cache && id) remember(cache, id, { version: info.version, major: info.major, minor: info.minor });
}
