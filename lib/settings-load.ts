import { readFileSync } from 'node:fs';
import { type EnvFile, type Problem, type Settings, parseEnvText, parseSettings } from './env.ts';

/** The env file as validate reads it: never throws, so every other check still runs on what parsed. */
export interface LenientEnv {
  file: EnvFile;
  /** the file was named with --env-file */
  explicit: boolean;
  /** lines that are not valid dotenv (invalid keys, unclosed quotes) */
  syntax: Problem[];
  /** why the file could not be read (EACCES, EISDIR, ...), if so */
  readError?: string;
  settings: Settings;
  /** per-key problems of parseSettings: errors (bad values) and warnings (unknown keys, duplicates) */
  problems: Problem[];
}

/** Reads and parses the env file and the process environment the way every command does, without throwing. */
export function loadEnvLeniently(opts: {
  path: string;
  explicit: boolean;
  env: NodeJS.ProcessEnv;
  namespace?: string;
  release?: string;
  readFile?: (path: string) => string;
}): LenientEnv {
  const read = opts.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  let file: EnvFile = { path: opts.path, exists: false, entries: new Map(), duplicates: new Map() };
  let syntax: Problem[] = [];
  let readError: string | undefined;
  try {
    const parsed = parseEnvText(opts.path, read(opts.path));
    file = parsed.file;
    syntax = parsed.problems;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') readError = code ?? (err instanceof Error ? err.message : String(err));
  }
  const overrides = {
    ...(opts.namespace !== undefined && { namespace: opts.namespace }),
    ...(opts.release !== undefined && { release: opts.release }),
  };
  const { settings, problems } = parseSettings(file, opts.env, overrides);
  return {
    file,
    explicit: opts.explicit,
    syntax,
    ...(readError !== undefined && { readError }),
    settings,
    problems,
  };
}

/** The raw text of a setting as the user wrote it (env file or process environment), if set. */
export function rawText(settings: Settings, key: string): string | undefined {
  const e = settings.raw.get(key);
  if (!e) return undefined;
  return typeof e.value === 'string' ? e.value : e.value.reveal();
}

/** Where a key was set, for messages: `.env:4`, `the process environment`. */
export function whereSet(settings: Settings, key: string, path: string): string {
  const e = settings.raw.get(key);
  if (!e) return 'not set';
  if (e.source === 'process-env') return 'the process environment';
  return e.line === undefined ? path : `${path}:${e.line}`;
}

/** The per-key error problems for these keys (bad values that parseSettings replaced by defaults). */
export function errorsFor(problems: readonly Problem[], keys: readonly string[]): Problem[] {
  return problems.filter((p) => p.severity === 'error' && keys.includes(p.key));
}
