import path from 'node:path';
import { readValuesFiles } from '../chart.ts';
import { UsageError } from '../errors.ts';
import { envKeysIn } from '../helm.ts';
import { redact } from '../redact.ts';
import { npmRun } from '../suggest.ts';
import { getPath } from '../values.ts';

/**
 * A configuration the chart refuses (its values schema, the `fail` of its values validation, a template
 * that does not render with these values), told in the suite's words: the chart's own message without
 * helm's frame around it ("Error: UPGRADE FAILED:", the --debug tip), where the values came from, and
 * exit 2. Nothing was changed: `deploy --diff` must not read it as a change set (exit 1), and
 * `--dry-run` says it the same way.
 */

/** The chart's own problems in a helm error, or undefined when the chart did not refuse the values. */
export function chartProblems(stderr: string): string | undefined {
  const text = redact(stderr)
    .replace(/\r/g, '')
    .replace(/^Error: /, '')
    .replace(/^(UPGRADE|INSTALLATION) FAILED: /, '')
    .replace(/\n*Use --debug flag to render out invalid YAML\s*$/, '')
    .trim();
  const validation = /VALUES VALIDATION: \d+ problem\(s\) in the values of release \S+:\s*\n([\s\S]*)$/.exec(
    text,
  );
  if (validation) return validation[1]?.trim();
  const schema =
    /values don't meet the specifications of the schema\(s\) in the following chart\(s\):\n([\s\S]*)$/.exec(
      text,
    );
  if (schema) {
    // helm names the chart on a line of its own ("taskflow:"): the problems follow it.
    const lines = (schema[1] ?? '').split('\n').filter((l) => l.trim() !== '' && !/^[\w.-]+:$/.test(l));
    return `its values schema (values.schema.json):\n${lines.join('\n')}`;
  }
  const failed = /^execution error at \(([^)]+)\):\s*([\s\S]*)$/.exec(text);
  if (failed) return `${(failed[2] ?? '').trim()} (${failed[1] ?? ''})`;
  if (/^(template: |parse error at |YAML parse error on )/.test(text)) return `it does not render: ${text}`;
  return undefined;
}

/** The chart value paths a problem names: helm 4 `at '/sso/smtp/port'`, helm 3 and the chart's `sso.smtp.port:`. */
function valuePaths(text: string): string[] {
  return [
    ...new Set([
      ...[...text.matchAll(/at '(\/[\w/-]+)'/g)].map((m) => (m[1] ?? '').slice(1).replace(/\//g, '.')),
      ...[...text.matchAll(/(?:^|\s)([a-zA-Z]\w*(?:\.\w+)+):/gm)].map((m) => m[1] ?? ''),
    ]),
  ].filter((p) => p.split('.').length >= 2);
}

/**
 * The error of a configuration the chart refused, or undefined (then helm failed for another reason:
 * the caller translates it as before). `valuesFiles` are the user's -f files: a value one of them sets
 * is named with its file, not with the env key that would otherwise set it.
 */
export function refusedConfiguration(
  stderr: string,
  valuesFiles: readonly string[] = [],
): UsageError | undefined {
  const problems = chartProblems(stderr);
  if (problems === undefined) return undefined;
  const paths = valuePaths(problems);
  const files = valuesFiles.filter((f) => {
    const values = safeRead(f);
    return paths.some((p) => getPath(values, p) !== undefined);
  });
  const keys = files.length > 0 ? [] : envKeysIn(problems);
  const shown = files.map((f) => path.relative(process.cwd(), f) || f);
  const origin =
    shown.length > 0
      ? `\n(set in ${shown.join(', ')})`
      : keys.length > 0
        ? `\n(set from the settings ${keys.join(', ')})`
        : '';
  const validate = npmRun('validate', ...valuesFiles.flatMap((f) => ['-f', f]));
  const hint =
    shown.length > 0
      ? `fix ${paths.join(', ')} in ${shown.join(', ')}; ${validate} lists every problem`
      : keys.length > 0
        ? `fix ${keys.join(', ')} in the env file; ${validate} lists every problem`
        : `fix the values named above; ${validate} lists every problem`;
  return new UsageError(
    `the chart refuses this configuration (nothing was changed):\n${indent(problems)}${origin}`,
    { hint },
  );
}

function safeRead(file: string): Record<string, unknown> {
  try {
    return readValuesFiles([file]);
  } catch {
    return {};
  }
}

const indent = (text: string): string =>
  text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
