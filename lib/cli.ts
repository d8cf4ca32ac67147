import { parseArgs } from 'node:util';
import { ExitCode, InterruptedError, TaskflowError, UsageError, exitCodeOf } from './errors.ts';
import { DETACHED_ENV, Runner, type RunnerOptions } from './exec.ts';
import { Logger, printJson } from './log.ts';
import { closest } from './did-you-mean.ts';
import { npmBannerNote, swallowedOptions, withSeparator } from './npm-flags.ts';
import { watchParent } from './parent-watch.ts';
import { Redactor, withRedactor } from './redact.ts';
import { sleep } from './time.ts';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** Name of the value in help, e.g. NAME. */
  arg?: string;
  /** Accepted (the CLI contract names it) but left out of --help: the command has no use for it. */
  hidden?: boolean;
  description: string;
}

export interface CommandSpec {
  /** npm script name, e.g. `deploy`. */
  name: string;
  summary: string;
  /** What follows `npm run <name> --`, e.g. `<sso|api|all> [options]`; one line per form when it has several. */
  usage: string | readonly string[];
  options: Record<string, OptionSpec>;
  examples: string[];
  /** Extra paragraphs after the options. */
  notes?: string[];
  /** Accepted positional arguments (max count); 0 when none. */
  maxPositionals?: number;
  /** The command's own exit-code line, when it says more than the shared one. */
  exitCodes?: string;
  /** stdout carries only the command's data (logs: log lines), so every message goes to stderr. */
  messagesOnStderr?: boolean;
}

/**
 * How long a command may take after Ctrl+C (its children already stopped, which takes up to 3 s) to say
 * what state it left: a stop asked for ends within 10 s, as a process manager's grace period expects.
 */
const INTERRUPT_GRACE_MS = 5_000;

/** The signals that stop a command as Ctrl+C does (Windows: Ctrl+C, Ctrl+Break, the console closed). */
const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'];

/** `-y, --yes`: only for the commands that ask before they destroy something. */
export const YES_OPTION: Record<string, OptionSpec> = {
  yes: { type: 'boolean', short: 'y', description: 'answer yes to confirmations (required without a TTY)' },
};

/** `--no-wait`: for the commands that write to a release (one at a time: lib/release-lock.ts). */
export const NO_WAIT_OPTION: Record<string, OptionSpec> = {
  'no-wait': {
    type: 'boolean',
    description:
      'when another writing command holds the release, refuse at once (exit 2) instead of waiting for it',
  },
};

/** Options of every command that talks to a cluster (cli.md). */
export const CLUSTER_OPTIONS: Record<string, OptionSpec> = {
  namespace: {
    type: 'string',
    short: 'n',
    arg: 'NAME',
    description: 'target namespace (default: TASKFLOW_NAMESPACE, else taskflow)',
  },
  release: {
    type: 'string',
    arg: 'NAME',
    description: 'Helm release name (default: TASKFLOW_RELEASE, else taskflow)',
  },
  context: {
    type: 'string',
    arg: 'NAME',
    description:
      'kube context for every kubectl/helm call (default: current); naming a remote one lets the writing commands act on it',
  },
  'env-file': { type: 'string', arg: 'PATH', description: 'settings file in dotenv syntax (default: .env)' },
  values: {
    type: 'string',
    short: 'f',
    multiple: true,
    arg: 'PATH',
    description: 'extra Helm values file, applied in order',
  },
  json: { type: 'boolean', description: 'print one JSON document on stdout and nothing else' },
  // Shared by contract: accepted everywhere, shown only where something is asked (YES_OPTION).
  yes: { ...YES_OPTION.yes!, hidden: true },
  verbose: { type: 'boolean', short: 'v', description: 'print each kubectl/helm command (secrets masked)' },
};

export const HELP_OPTION: Record<string, OptionSpec> = {
  help: { type: 'boolean', short: 'h', description: 'show this help' },
};

export type ParsedValues = Record<string, string | boolean | string[] | undefined>;

export interface Parsed {
  values: ParsedValues;
  positionals: string[];
}

/** Parses argv strictly: an unknown option or a missing value is a UsageError (exit 2). */
export function parseCommandLine(spec: CommandSpec, argv: string[]): Parsed {
  const options = Object.fromEntries(
    Object.entries({ ...spec.options, ...HELP_OPTION }).map(([k, o]) => [
      k,
      { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) },
    ]),
  );
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    const msg =
      err instanceof Error ? err.message.replace(/\. To specify a positional argument.*$/s, '') : String(err);
    const unknown = /^Unknown option '(--?[^']+)'/.exec(msg)?.[1];
    const names = Object.keys({ ...spec.options, ...HELP_OPTION }).map((k) => `--${k}`);
    const guess = unknown?.startsWith('--') ? closest(unknown.split('=')[0] ?? unknown, names) : undefined;
    throw new UsageError(msg, {
      hint: guess
        ? `did you mean ${guess}? (see: npm run ${spec.name} -- --help)`
        : `see: npm run ${spec.name} -- --help`,
    });
  }
  const max = spec.maxPositionals ?? 0;
  if (!parsed.values.help && parsed.positionals.length > max) {
    throw new UsageError(`unexpected argument: ${parsed.positionals[max] ?? ''}`, {
      hint: `see: npm run ${spec.name} -- --help (options go after "--": npm keeps those before it)`,
    });
  }
  return { values: parsed.values as ParsedValues, positionals: parsed.positionals };
}

/** The --help text: usage, options, examples. */
export function formatHelp(spec: CommandSpec): string {
  const forms = typeof spec.usage === 'string' ? [spec.usage] : spec.usage;
  const usage = forms.map((u, i) => `${i === 0 ? 'Usage:' : '      '} npm run ${spec.name} -- ${u}`);
  const lines = [`${spec.summary}`, '', ...usage, '', 'Options:'];
  const all = { ...spec.options, ...HELP_OPTION };
  const labels = Object.entries(all)
    .filter(([, o]) => !o.hidden)
    .map(([k, o]) => {
      const flag = `${o.short ? `-${o.short}, ` : '    '}--${k}${o.arg ? ` ${o.arg}` : ''}`;
      return [flag, o.description + (o.multiple ? ' (repeatable)' : '')] as const;
    });
  const width = Math.max(...labels.map(([f]) => f.length)) + 2;
  for (const [f, d] of labels) lines.push(`  ${f.padEnd(width)}${d}`);
  for (const n of spec.notes ?? []) lines.push('', n);
  lines.push('', 'Examples:', ...spec.examples.map((e) => `  ${e}`));
  lines.push(
    '',
    spec.exitCodes ??
      'Exit codes: 0 ok, 1 failed, 2 usage/config error, 3 environment not ready, 130 interrupted',
  );
  return `${lines.join('\n')}\n`;
}

/** What a command receives: parsed arguments and the world it may touch (injected for tests). */
export interface CommandContext {
  args: Parsed;
  log: Logger;
  runner: Runner;
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Aborted on Ctrl+C, SIGTERM, SIGHUP or the parent's death: long waits should listen to it. */
  signal: AbortSignal;
  /** The command as typed (npm script name and its arguments), for hints that repeat it. */
  invocation?: { name: string; argv: readonly string[] };
  /** This run's secrets: what it remembers is masked in everything the run prints. */
  redactor: Redactor;
  /**
   * Runs `task` when the command ends, however it ends (done, failed, Ctrl+C, SIGTERM, a crash), before
   * its children are stopped: the release lock is given back here.
   */
  atExit?: (task: () => Promise<void>) => void;
}

export interface World {
  argv: string[];
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  exit: (code: number) => void;
  /**
   * Stop, as on SIGHUP, when the process that started this one goes away (npm killed, the terminal
   * closed): set by `main` for a command run from the command line, unless it was started detached.
   */
  watchParent?: boolean;
}

function defaultWorld(): World {
  return {
    argv: process.argv.slice(2),
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    exit: (code) => process.exit(code),
  };
}

/**
 * Runs a command entry: parse, handle --help, run, map errors to exit codes and
 * hints, and stop every child on Ctrl+C (exit 130).
 */
export function runCommand(
  spec: CommandSpec,
  handler: (ctx: CommandContext) => Promise<number | void>,
  worldOverrides: Partial<World> = {},
): Promise<number> {
  const redactor = new Redactor();
  return withRedactor(redactor, () => runWith(redactor, spec, handler, worldOverrides));
}

async function runWith(
  redactor: Redactor,
  spec: CommandSpec,
  handler: (ctx: CommandContext) => Promise<number | void>,
  worldOverrides: Partial<World>,
): Promise<number> {
  const world = { ...defaultWorld(), ...worldOverrides };
  const wantsJson = world.argv.includes('--json');
  const toStderr = wantsJson || spec.messagesOnStderr === true;
  let log = new Logger({ json: wantsJson, out: toStderr ? world.stderr : world.stdout, redactor });
  const runner = new Runner({
    env: world.env,
    redactor,
    onCommand: (line) => log.debug(`$ ${line}`),
    ...crashInjection(world.env),
  });
  const ac = new AbortController();
  const exitTasks: (() => Promise<void>)[] = [];
  // Each task once, whichever exit path comes first; a task's failure never hides the command's.
  const runExitTasks = (): Promise<void> =>
    Promise.all(exitTasks.splice(0).map((t) => t().catch(() => undefined))).then(() => undefined);
  let interrupted = false;
  let crashed = false;
  // A crash anywhere (an exception in an event handler, a promise nobody awaits) still goes through the
  // error path: message, hint, the --json error document, every child stopped by pid, exit 1.
  const onCrash = (err: unknown): void => {
    if (crashed || interrupted) return;
    crashed = true;
    ac.abort(err);
    log.done();
    reportError(err, log, wantsJson, world, redactor);
    void runExitTasks()
      .then(() => runner.stopAll())
      .finally(() => world.exit(ExitCode.Failed));
  };
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  // The command's stdout goes quiet after a crash: the crash printed the one --json document, and the
  // command may still finish meanwhile (its children stopped) and print its own (migrate's report).
  const commandStdout = silencedAfter(world.stdout, () => crashed);
  let markSettled = (): void => undefined;
  const settled = new Promise<void>((resolve) => (markSettled = resolve));
  // Ctrl+C, and the same from outside: a SIGTERM or SIGINT to this process (npm passes both on), a
  // SIGHUP (the terminal closed), or the parent gone. Each ends the command the one way: its clean-up,
  // every child stopped by pid, exit 130.
  const onStop = (why: string): void => {
    if (interrupted) return;
    interrupted = true;
    ac.abort(new InterruptedError(`interrupted (${why})`));
    // After a hang-up the terminal may be gone: a write that fails then must not become a crash.
    for (const s of [world.stdout, world.stderr]) s.on('error', () => undefined);
    log.done();
    log.warn(`interrupted: stopping ${runner.running} child process(es)`);
    // The command may still say what state it left (deploy reads the release's status): give it a moment
    // after its children stopped, then leave whatever it does.
    void runner
      .stopAll()
      .then(() => Promise.race([settled, sleep(INTERRUPT_GRACE_MS)]))
      .finally(
        () =>
          void runExitTasks()
            .then(() => runner.stopAll())
            .finally(() => world.exit(ExitCode.Interrupted)),
      );
  };
  const onSignal = (sig: NodeJS.Signals): void => onStop(sig);
  for (const sig of STOP_SIGNALS) process.on(sig, onSignal);
  const unwatchParent = world.watchParent
    ? watchParent((pid) => onStop(`its parent process ${pid} went away`))
    : () => undefined;
  let code: number;
  try {
    const swallowed = swallowedOptions(spec.name, spec.options, world.env, world.argv);
    if (swallowed.length > 0) {
      const flags = swallowed.map((o) => `--${o}`).join(', ');
      throw new UsageError(
        `npm kept ${flags} for itself (options go after "--"), so ${spec.name} never saw ${swallowed.length === 1 ? 'it' : 'them'}: nothing was done`,
        {
          hint: `run: ${withSeparator(spec.name, swallowed, spec.options, world.env, world.argv, spec.maxPositionals)}`,
        },
      );
    }
    const args = parseCommandLine(spec, world.argv);
    if (args.values.help) {
      world.stdout.write(formatHelp(spec));
      code = ExitCode.Ok;
    } else {
      const json = Boolean(args.values.json);
      log = new Logger({
        json,
        verbose: Boolean(args.values.verbose),
        out: json || spec.messagesOnStderr ? world.stderr : world.stdout,
        redactor,
      });
      if (json) {
        const tty = (world.stdout as NodeJS.WritableStream & { isTTY?: boolean }).isTTY === true;
        const note = npmBannerNote(spec.name, world.env, tty, world.argv);
        if (note) log.warn(note);
      }
      code =
        (await handler({
          args,
          log,
          runner,
          env: world.env,
          stdout: commandStdout,
          stdin: world.stdin,
          signal: ac.signal,
          invocation: { name: spec.name, argv: world.argv },
          redactor,
          atExit: (task) => void exitTasks.push(task),
        })) ?? ExitCode.Ok;
    }
  } catch (err) {
    code = interrupted ? ExitCode.Interrupted : exitCodeOf(err);
    // After Ctrl+C, what failed is the interrupted tool (helm's "context canceled", kubectl's broken
    // read): not news. The command's own InterruptedError says what state it left; else just that.
    // After a crash, it is the abort the crash caused, and the crash was reported.
    const shown = !interrupted || err instanceof InterruptedError ? err : ac.signal.reason;
    if (!crashed) reportError(shown, log, wantsJson, world, redactor);
  } finally {
    log.done();
    await runExitTasks();
    await runner.stopAll();
    markSettled();
    for (const sig of STOP_SIGNALS) process.off(sig, onSignal);
    unwatchParent();
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
  }
  // A crash's exit code is 1, whichever path ends the process first (this one, or the crash's own).
  return crashed ? ExitCode.Failed : code;
}

/** The stream, whose writes are dropped once `quiet()` is true (everything else is the stream's own). */
function silencedAfter(stream: NodeJS.WritableStream, quiet: () => boolean): NodeJS.WritableStream {
  return new Proxy(stream, {
    get(target, prop) {
      if (prop === 'write') {
        return (...args: Parameters<NodeJS.WritableStream['write']>): boolean => {
          if (!quiet()) return target.write(...args);
          const done = args.find((a) => typeof a === 'function') as (() => void) | undefined;
          done?.();
          return true;
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * Fault injection for the crash tests: TASKFLOW_TEST_CRASH=start throws, outside any await, just after
 * the first long-running child started; =N just after the N-th process. Unset in normal use.
 */
function crashInjection(env: NodeJS.ProcessEnv): Pick<RunnerOptions, 'crashAfter'> {
  const v = env.TASKFLOW_TEST_CRASH;
  if (v === undefined || v === '') return {};
  if (v === 'start') return { crashAfter: 'start' };
  const n = Number(v);
  return Number.isInteger(n) && n > 0 ? { crashAfter: n } : {};
}

function reportError(err: unknown, log: Logger, json: boolean, world: World, redactor: Redactor): void {
  const redact = (t: string): string => redactor.redact(t);
  const message = redact(err instanceof Error ? err.message : String(err));
  const hint = err instanceof TaskflowError && err.hint ? redact(err.hint) : undefined;
  if (json) {
    const report = err instanceof TaskflowError ? err.report : undefined;
    printJson(
      { ok: false, ...report, error: { message, ...(hint ? { hint } : {}), exitCode: exitCodeOf(err) } },
      world.stdout,
      redactor,
    );
  }
  log.error(message);
  if (hint) log.hint(hint);
  if (!(err instanceof TaskflowError) || world.env.DEBUG) {
    if (err instanceof Error && err.stack && world.env.DEBUG) log.info(redact(err.stack));
    else if (!(err instanceof TaskflowError))
      log.hint('this is a bug in the suite; rerun with DEBUG=1 for the stack trace');
  }
}

/** Entry-point helper for scripts/*.ts: run and exit with the command's code. */
export async function main(
  spec: CommandSpec,
  handler: (ctx: CommandContext) => Promise<number | void>,
): Promise<void> {
  const code = await runCommand(spec, handler, { watchParent: process.env[DETACHED_ENV] !== '1' });
  process.exit(code);
}

/** Reads a string option. */
export function str(values: ParsedValues, key: string): string | undefined {
  const v = values[key];
  return typeof v === 'string' ? v : undefined;
}

/** Reads a repeatable string option. */
export function list(values: ParsedValues, key: string): string[] {
  const v = values[key];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

/** Reads a boolean option. */
export function flag(values: ParsedValues, key: string): boolean {
  return values[key] === true;
}

/** The target options of a command line (namespace, release, context, env file; -f files too when asked), to repeat in a suggested command. */
export function targetOptionArgs(v: ParsedValues, opts: { values?: boolean } = {}): string[] {
  const out: string[] = [];
  for (const [k, flag] of [
    ['namespace', '-n'],
    ['release', '--release'],
    ['context', '--context'],
    ['env-file', '--env-file'],
  ] as const) {
    const x = str(v, k);
    if (x !== undefined) out.push(flag, x);
  }
  if (opts.values) for (const f of list(v, 'values')) out.push('-f', f);
  return out;
}
