/**
 * `npm run deploy --dry-run` (no `--`) hands `--dry-run` to npm, not to the command: npm keeps it as its
 * own setting and exports it as `npm_config_dry_run`; an option's value (`--context prod`) arrives as a
 * bare argument. A command that would otherwise run without the options it was asked for (and deploy
 * for real) notices that and stops with the command to paste.
 */
import { parseArgs } from 'node:util';
/** The part of a command's option table this reads (cli.ts OptionSpec). */
interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
}
import { type Script, npmRunSilent, shellQuote } from './suggest.ts';

const envName = (option: string) => `npm_config_${option.replace(/-/g, '_')}`;

/**
 * The command's options that npm took for itself: those it exported as `npm_config_<name>` for this
 * script's run (npm_lifecycle_event names it) while the command's own arguments lack them.
 */
export function swallowedOptions(
  script: string,
  options: Record<string, OptionSpec>,
  env: NodeJS.ProcessEnv,
  argv: readonly string[],
): string[] {
  if (env.npm_lifecycle_event !== script) return [];
  return Object.entries(options)
    .filter(([name, o]) => {
      const value = env[envName(name)];
      if (value === undefined || value === '') return false;
      const given = (a: string) =>
        a === `--${name}` || a.startsWith(`--${name}=`) || (o.short !== undefined && a === `-${o.short}`);
      return !argv.some(given);
    })
    .map(([name]) => name);
}

/**
 * The command the user meant, with `--` in place. npm shows neither the order nor the values of the
 * options it kept (its process title drops them too): an option that takes a value gets the arguments
 * beyond what the command accepts as positionals, in order; any left over are shown as `<value>`.
 */
export function withSeparator(
  script: string,
  swallowed: readonly string[],
  options: Record<string, OptionSpec>,
  env: NodeJS.ProcessEnv,
  argv: readonly string[],
  maxPositionals = 0,
): string {
  // The arguments that are positionals for the command (not an option's value), by their index.
  const { tokens } = parseArgs({
    args: [...argv],
    options: Object.fromEntries(
      Object.entries(options).map(([k, o]) => [k, { type: o.type, ...(o.short && { short: o.short }) }]),
    ),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const positional = tokens.flatMap((t) => (t.kind === 'positional' ? [t.index] : []));
  const strays = new Set(positional.slice(maxPositionals));
  const extra = argv.filter((_, i) => strays.has(i));
  const kept = argv.filter((_, i) => !strays.has(i));
  const flags = swallowed.flatMap((name) => {
    if (options[name]?.type !== 'string') return [`--${name}`];
    const value = env[envName(name)];
    return [`--${name}`, value && value !== 'true' ? shellQuote(value) : (extra.shift() ?? '<value>')];
  });
  return `npm run ${script} -- ${[...kept.map(shellQuote), ...flags, ...extra.map(shellQuote)].join(' ')}`;
}

/**
 * A note for `npm run <script> -- --json | ...` without `-s`: npm printed its `> package script` banner on
 * stdout before the command started (npm drops it when silent, and moves it to stderr under its json setting), so what reads stdout gets text
 * ahead of the JSON. Said only when that was the case: run by npm for this script, npm not silent, and
 * stdout not a terminal. The note itself goes where the human output goes (stderr under --json).
 */
export function npmBannerNote(
  script: string,
  env: NodeJS.ProcessEnv,
  stdoutIsTTY: boolean,
  argv: readonly string[],
): string | undefined {
  if (env.npm_lifecycle_event !== script || !env.npm_config_user_agent?.startsWith('npm/') || stdoutIsTTY)
    return undefined;
  // Silent npm drops the banner; with its own json setting on, npm moves it to stderr.
  if (env.npm_config_loglevel === 'silent' || env.npm_config_json === 'true') return undefined;
  return `npm printed its "> ${script}" banner on stdout ahead of this JSON, so stdout is not JSON alone; for JSON alone run: ${npmRunSilent(script as Script, ...argv)}`;
}
