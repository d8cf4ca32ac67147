/**
 * The one way the suite writes a command for the user to run: `npm run <script> -- <args>`. Without the
 * `--`, npm keeps the options for itself and the command never sees them, so every hint, "Next:" line
 * and help example that names a command with arguments is built here (test/lib/suggest.test.ts parses
 * each one with its command's own option parser).
 */

/** The npm scripts a user runs (package.json). */
export type Script =
  | 'deploy'
  | 'migrate'
  | 'pgadmin'
  | 'addon'
  | 'reset-db-password'
  | 'reset-auth-secret'
  | 'port-forward'
  | 'validate'
  | 'doctor'
  | 'env-flow'
  | 'logs'
  | 'db'
  | 'verify';

/** One argument; `false`, `undefined` and `null` are left out (so `cond && '--flag'` reads well). */
export type Arg = string | number | false | undefined | null;

/** Quotes an argument for a POSIX shell when it needs it; `<name>` and `[name...]` placeholders stay as they are. */
export function shellQuote(a: string): string {
  if (/^[\w@%+=:,./-]+$/.test(a) || /^<[^<>\s]+>$/.test(a) || /^\[[^[\]]+\]$/.test(a)) return a;
  return `'${a.replace(/'/g, `'\\''`)}'`;
}

/** The arguments, flattened, with the left-out ones dropped. */
export function argList(args: readonly Arg[]): string[] {
  return args.flatMap((a) => (a === false || a === undefined || a === null ? [] : [String(a)]));
}

function runLine(npm: string, script: Script, args: readonly Arg[]): string {
  const list = argList(args);
  return `${npm} ${script}${list.length ? ` -- ${list.map(shellQuote).join(' ')}` : ''}`;
}

/** `npm run <script>`, or `npm run <script> -- <args>` with each argument quoted for a shell. */
export function npmRun(script: Script, ...args: Arg[]): string {
  return runLine('npm run', script, args);
}

/** `-n NAMESPACE` for a suggested command; nothing for the default namespace, taskflow. */
export function namespaceArgs(namespace: string): string[] {
  return namespace === 'taskflow' ? [] : ['-n', namespace];
}

/** `npm run -s <script> -- <args>`: the same with npm silent, so that stdout holds only the command's output. */
export function npmRunSilent(script: Script, ...args: Arg[]): string {
  return runLine('npm run -s', script, args);
}
