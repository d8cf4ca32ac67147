import { CLUSTER_OPTIONS, type CommandSpec, type ParsedValues, flag, str } from '../cli.ts';
import { UsageError } from '../errors.ts';
import { parseDuration } from '../time.ts';

/** `npm run logs`: options, help text and examples. */
export const LOGS_SPEC: CommandSpec = {
  name: 'logs',
  summary:
    "Every component's logs in one stream, each line prefixed with its component and pod; follows new pods as they start.",
  usage: '[component...] [options]',
  maxPositionals: 32,
  // Only log lines on stdout (`npm run -s logs > api.log` is the log): the context line, notes and errors go to stderr.
  messagesOnStderr: true,
  options: {
    follow: {
      type: 'boolean',
      description: 'keep streaming, joining pods that start later (default on a terminal)',
    },
    'no-follow': {
      type: 'boolean',
      description: 'print what is there and exit (default without a terminal)',
    },
    since: {
      type: 'string',
      arg: 'DURATION',
      description: 'only lines newer than this, e.g. 30s, 10m, 2h',
    },
    tail: {
      type: 'string',
      arg: 'N',
      description: 'the last N lines of each container that is already running (default: all)',
    },
    previous: {
      type: 'boolean',
      description:
        "only the previous run's lines of each restarted container, marked (previous) (implies --no-follow; without it a restarted container shows its previous run and its current one)",
    },
    grep: {
      type: 'string',
      arg: 'REGEX',
      description:
        'only lines matching this regular expression; case-insensitive unless it has an upper-case letter (smart case)',
    },
    ...CLUSTER_OPTIONS,
    // Values files change nothing that is read here.
    values: { ...CLUSTER_OPTIONS.values!, hidden: true },
    json: {
      type: 'boolean',
      description:
        'one JSON object a line: {time, component, pod, container, line}, plus "previous": true on the lines of a previous run',
    },
  },
  examples: [
    'npm run logs',
    'npm run logs -- api sso --since 10m',
    'npm run logs -- sso-migrate --tail 50 --no-follow',
    'npm run logs -- api --previous',
    'npm run logs -- --grep error',
    'npm run -s logs -- api --json --no-follow > api-logs.jsonl',
  ],
  notes: [
    'Components: sso, api, mcp, web, sso-postgres, api-postgres, the migration Jobs sso-migrate and api-migrate, and each add-on that is on (pgadmin, mailpit, ...). A name may be shortened to a unique prefix (sso-p for sso-postgres).',
    'Each line starts with component/pod-suffix, plus :container for init containers and sidecars; colours are stable per component (none with NO_COLOR or when the output is not a terminal). Registered secret values are masked in every line.',
    'While following, a pod that starts later (a rollout, a restart, a migration Job) joins the stream, and one that goes away leaves it with a note. Ctrl+C stops every kubectl it started (exit 130).',
  ],
};

/**
 * Smart case, as ripgrep and less do it: a pattern without an upper-case letter matches either case
 * (`--grep error` finds ERROR and Error); one with an upper-case letter matches exactly. The letters of
 * escapes (`\S`, `\W`, `\D`, `\B`) are not the text's and do not count.
 */
export function smartCaseFlags(pattern: string): string {
  return /\p{Lu}/u.test(pattern.replace(/\\./g, '')) ? '' : 'i';
}

export interface LogsOptions {
  components: string[];
  follow: boolean;
  /** kubectl's --since value (whole seconds), when given. */
  since: string | undefined;
  /** Lines per container already running; undefined: all. */
  tail: number | undefined;
  previous: boolean;
  grep: RegExp | undefined;
  json: boolean;
}

/** Reads the options; `tty` is whether stdout is a terminal (follow's default). Bad values are exit 2. */
export function parseLogsOptions(v: ParsedValues, positionals: readonly string[], tty: boolean): LogsOptions {
  const previous = flag(v, 'previous');
  if (flag(v, 'follow') && flag(v, 'no-follow')) {
    throw new UsageError('--follow and --no-follow contradict each other', { hint: 'pass one of them' });
  }
  if (flag(v, 'follow') && previous) {
    throw new UsageError('--previous shows instances that have ended: it cannot be followed', {
      hint: 'drop --follow (or --previous)',
    });
  }
  const follow = flag(v, 'follow') || (tty && !previous && !flag(v, 'no-follow'));
  const sinceText = str(v, 'since');
  let since: string | undefined;
  if (sinceText !== undefined) {
    const ms = parseDuration(sinceText);
    if (ms === undefined) {
      throw new UsageError(`--since: "${sinceText}" is not a duration`, { hint: 'use e.g. 30s, 10m or 2h' });
    }
    since = `${Math.max(1, Math.ceil(ms / 1000))}s`;
  }
  const tailText = str(v, 'tail');
  let tail: number | undefined;
  if (tailText !== undefined) {
    if (!/^\d+$/.test(tailText.trim())) {
      throw new UsageError(`--tail: "${tailText}" is not a number of lines`, { hint: 'use e.g. --tail 100' });
    }
    tail = Number(tailText.trim());
  }
  const grepText = str(v, 'grep');
  let grep: RegExp | undefined;
  if (grepText !== undefined) {
    try {
      grep = new RegExp(grepText, smartCaseFlags(grepText));
    } catch (err) {
      throw new UsageError(`--grep: ${err instanceof Error ? err.message : String(err)}`, {
        hint: 'a JavaScript regular expression, e.g. --grep "error|warn"',
      });
    }
  }
  return {
    components: [...positionals],
    follow,
    since,
    tail,
    previous,
    grep,
    json: flag(v, 'json'),
  };
}
