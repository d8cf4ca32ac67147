import { readFileSync, realpathSync } from 'node:fs';
import { parse } from 'dotenv';
import writeFileAtomic from 'write-file-atomic';
import { UsageError } from './errors.ts';
import { Secret } from './secrets.ts';

/** One setting as read from the env file or the process environment. */
export interface EnvEntry {
  key: string;
  /** Secret-looking keys (see `isSecretKey`) hold a `Secret`, so printing an entry never leaks the value. */
  value: string | Secret;
  line?: number;
  source: 'env-file' | 'process-env';
}

/** The env file as dotenv reads it, with the line of each key. */
export interface EnvFile {
  path: string;
  exists: boolean;
  /** key -> its last assignment (the one dotenv keeps) */
  entries: Map<string, EnvEntry>;
  /** key -> every line that assigns it, for keys assigned more than once */
  duplicates: Map<string, number[]>;
}

/** Something wrong with a setting: errors stop the command (exit 2), warnings are printed. */
export interface Problem {
  key: string;
  line?: number;
  source?: 'env-file' | 'process-env' | 'option';
  message: string;
  hint: string;
  severity: 'error' | 'warn';
}

// dotenv's own line pattern (dotenv/lib/main.js), plus `d` for match indices, so the line numbers and
// spans found here agree with what dotenv.parse reads.
const LINE =
  /(?:^|^)\s*(?:export\s+)?([\w.-]+)(?:\s*=\s*?|:\s+?)(\s*'(?:\\'|[^'])*'|\s*"(?:\\"|[^"])*"|\s*`(?:\\`|[^`])*`|[^#\r\n]+)?\s*(?:#.*)?(?:$|$)/dgm;

const SECRET_KEY = /(PASS|PASSWORD|PASSWD|SECRET|TOKEN|_KEY)$/i;

/** True for keys whose values must stay masked (passwords, secrets, tokens, API keys). */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** The plain text of an entry's value (reveals a Secret: use it for checks, never for output). */
export function textOf(value: string | Secret): string {
  return typeof value === 'string' ? value : value.reveal();
}

interface Assignment {
  key: string;
  line: number;
  /** offsets of the key and of the end of its value (or of the "=" when there is none) */
  keyStart: number;
  valueEnd: number;
  rawValue: string;
}

function normalize(text: string): string {
  return text.replace(/\r\n?/g, '\n');
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/** Finds every assignment as dotenv does, and the lines that are neither assignments, comments nor blank. */
function scan(text: string): { assignments: Assignment[]; invalid: Problem[] } {
  const covered = new Uint8Array(text.length);
  const assignments: Assignment[] = [];
  for (const m of text.matchAll(LINE)) {
    const keyIdx = m.indices?.[1];
    if (!keyIdx || m[1] === undefined) continue;
    const valueIdx = m.indices?.[2];
    const sepEnd = keyIdx[1] + (/^(\s*=|:\s)/.exec(text.slice(keyIdx[1]))?.[0].length ?? 1);
    covered.fill(1, m.index, m.index + m[0].length);
    assignments.push({
      key: m[1],
      line: lineAt(text, keyIdx[0]),
      keyStart: keyIdx[0],
      valueEnd: valueIdx ? valueIdx[1] : sepEnd,
      rawValue: m[2] ?? '',
    });
  }
  const invalid: Problem[] = [];
  let offset = 0;
  text.split('\n').forEach((lineText, i) => {
    const start = offset;
    offset += lineText.length + 1;
    const trimmed = lineText.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    for (let c = 0; c < lineText.length; c++) {
      if (!covered[start + c] && !/\s/.test(lineText[c] ?? '')) {
        invalid.push(invalidLine(lineText, i + 1));
        return;
      }
    }
  });
  for (const a of assignments) {
    const v = a.rawValue.trim();
    const quote = v[0];
    // `KEY=abc#def`: dotenv ends an unquoted value at any #, docker compose only at " #": a pasted
    // secret containing # would be cut short here without a word. Never show the value.
    const glued = text[a.valueEnd] === '#' && !/\s$/.test(a.rawValue);
    if (v !== '' && quote !== '"' && quote !== "'" && quote !== '`' && glued) {
      invalid.push({
        key: a.key,
        line: a.line,
        source: 'env-file',
        severity: 'error',
        message: 'the value has a # right after it: dotenv would cut it there (the rest reads as a comment)',
        hint: `quote the whole value (${a.key}="...#..."), or put a space before # if it is a comment`,
      });
    }
    if ((quote === '"' || quote === "'" || quote === '`') && (v.length === 1 || !v.endsWith(quote))) {
      invalid.push({
        key: a.key,
        line: a.line,
        source: 'env-file',
        severity: 'error',
        message: `the value opens a ${quote} quote that does not close at its end`,
        hint: `close the quote, e.g. ${a.key}=${quote}...${quote}, or remove it`,
      });
    }
  }
  return { assignments, invalid: invalid.sort((a, b) => (a.line ?? 0) - (b.line ?? 0)) };
}

// Never echo the line itself: a pasted secret may be on it. The text before "=" is a key name.
function invalidLine(lineText: string, line: number): Problem {
  const eq = lineText.indexOf('=');
  const keyPart =
    eq > 0
      ? lineText
          .slice(0, eq)
          .trim()
          .replace(/^export\s+/, '')
      : '';
  const named = keyPart !== '' && keyPart.length <= 40 && /^[\w .-]+$/.test(keyPart);
  return {
    key: named ? keyPart : '',
    line,
    source: 'env-file',
    severity: 'error',
    message: named
      ? `"${keyPart}" is not a valid key: keys may contain only letters, digits, _ . and -`
      : 'not a KEY=value line',
    hint: 'write one KEY=value per line, quote values that contain spaces or #, start comments with #',
  };
}

/** Parses env file text (dotenv syntax) without throwing: the file plus every invalid line. */
export function parseEnvText(path: string, text: string): { file: EnvFile; problems: Problem[] } {
  const normalized = normalize(text);
  const values = parse(normalized);
  const { assignments, invalid } = scan(normalized);
  const entries = new Map<string, EnvEntry>();
  const lines = new Map<string, number[]>();
  for (const a of assignments) {
    const value = values[a.key] ?? '';
    entries.set(a.key, {
      key: a.key,
      value: isSecretKey(a.key) ? new Secret(value) : value,
      line: a.line,
      source: 'env-file',
    });
    lines.set(a.key, [...(lines.get(a.key) ?? []), a.line]);
  }
  const duplicates = new Map([...lines].filter(([, l]) => l.length > 1));
  return { file: { path, exists: true, entries, duplicates }, problems: invalid };
}

/** Reads and parses the env file; a missing file is empty (`exists: false`); unreadable or invalid throws UsageError. */
export function readEnvFile(path: string, opts: { readFile?: (path: string) => string } = {}): EnvFile {
  const readFile = opts.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { path, exists: false, entries: new Map(), duplicates: new Map() };
    throw new UsageError(`Cannot read the env file ${path} (${code ?? 'read error'})`, {
      hint: `check that ${path} is a readable file, or name another one with --env-file PATH`,
      cause: err,
    });
  }
  const { file, problems } = parseEnvText(path, text);
  if (problems.length > 0)
    throw new UsageError(formatProblems(problems, path, `Invalid env file ${path}`), { hint: fixHint(path) });
  return file;
}

function fixHint(path: string): string {
  return `fix the lines above in ${path}, then run the command again (npm run validate checks every setting)`;
}

/** Where a problem is: `.env:4`, `process environment` or `option`. */
export function problemLocation(p: Problem, path: string): string {
  if (p.source === 'process-env') return 'process environment';
  if (p.source === 'option') return 'command-line option';
  return p.line === undefined ? path : `${path}:${p.line}`;
}

/** One readable block listing every problem with its place and hint (errors first when mixed). */
export function formatProblems(
  problems: readonly Problem[],
  path: string,
  title = 'Invalid settings',
): string {
  const errors = problems.filter((p) => p.severity === 'error');
  const warnings = problems.filter((p) => p.severity === 'warn');
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  const head = [
    errors.length > 0 && count(errors.length, 'error'),
    warnings.length > 0 && count(warnings.length, 'warning'),
  ];
  const mixed = errors.length > 0 && warnings.length > 0;
  const body = [...errors, ...warnings].map((p) => {
    const what = p.key === '' ? p.message : `${p.key}: ${p.message}`;
    const tag = mixed ? `${p.severity === 'error' ? 'error' : 'warning'} ` : '';
    return `  ${tag}${problemLocation(p, path)}: ${what}\n      hint: ${p.hint}`;
  });
  return [`${errors.length > 0 ? title : 'Settings'}: ${head.filter(Boolean).join(', ')}`, ...body].join(
    '\n',
  );
}

const PLAIN_VALUE = /^[\w./:@+,~%=^*!?-]*$/;

/** The `KEY=value` text for a value, quoted so that dotenv reads back exactly that value. */
export function formatAssignment(key: string, value: string): string {
  // Each quoting only where it is plain for every dotenv reader, not just through dotenv's fallbacks.
  const candidates = [
    PLAIN_VALUE.test(value) && value,
    !/['\n]/.test(value) && `'${value}'`,
    !/["\\]/.test(value) && `"${value.replace(/\n/g, '\\n')}"`,
    !/[`\n]/.test(value) && `\`${value}\``,
  ];
  for (const v of candidates) {
    if (v === false) continue;
    const line = `${key}=${v}`;
    if (parse(line)[key] === value && scan(line).invalid.length === 0) return line;
  }
  throw new UsageError(`${key} cannot be written to an env file: its value mixes quotes and line breaks`, {
    hint: `set ${key} in the process environment instead`,
  });
}

/**
 * Sets keys in an env file, keeping its comments, blank lines and order: existing keys are replaced in
 * place (their last assignment, the one dotenv reads), new ones appended under a comment line. Creates
 * the file if missing; writes atomically (temp file + rename) with mode 0600.
 */
export function upsertEnvFile(
  path: string,
  updates: Record<string, string>,
  opts: { comment?: string } = {},
): void {
  let target = path;
  let original = '';
  try {
    target = realpathSync(path); // write through a symlinked .env instead of replacing the link
    original = readFileSync(target, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new UsageError(`Cannot update the env file ${path}: ${(err as NodeJS.ErrnoException).code}`, {
        hint: `check that ${path} is a readable, writable file`,
        cause: err,
      });
    }
  }
  const crlf = original.includes('\r\n');
  let text = normalize(original);
  const last = new Map<string, Assignment>();
  for (const a of scan(text).assignments) last.set(a.key, a);
  const replacements = Object.keys(updates)
    .flatMap((key) => {
      const a = last.get(key);
      return a ? [a] : [];
    })
    .sort((x, y) => y.keyStart - x.keyStart); // from the end, so earlier offsets stay valid
  for (const a of replacements) {
    const lineEnd = text.indexOf('\n', a.valueEnd) === -1 ? text.length : text.indexOf('\n', a.valueEnd);
    const rest = text.slice(a.valueEnd, lineEnd).trim();
    const tail = rest.startsWith('#') ? ` ${rest}` : '';
    text =
      text.slice(0, a.keyStart) + formatAssignment(a.key, updates[a.key] ?? '') + tail + text.slice(lineEnd);
  }
  const added = Object.entries(updates).filter(([key]) => !last.has(key));
  if (added.length > 0) {
    if (text !== '' && !text.endsWith('\n')) text += '\n';
    if (text !== '' && !text.endsWith('\n\n')) text += '\n';
    if (opts.comment) text += opts.comment.replace(/^(?!#)/gm, '# ') + '\n';
    for (const [key, value] of added) text += formatAssignment(key, value) + '\n';
  }
  writeAtomically(target, crlf ? text.replace(/\n/g, '\r\n') : text);
}

// Temp file beside it, fsync, chmod 0600 (whatever the umask), rename; the temp file is removed on failure.
function writeAtomically(path: string, text: string): void {
  try {
    writeFileAtomic.sync(path, text, { mode: 0o600 });
  } catch (err) {
    throw new UsageError(`Cannot write the env file ${path}: ${(err as NodeJS.ErrnoException).code}`, {
      hint: `check that the folder of ${path} is writable`,
      cause: err,
    });
  }
}
