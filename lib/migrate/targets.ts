import { UsageError } from '../errors.ts';
import { npmRun } from '../suggest.ts';

/** What `npm run migrate` accepts: one database's migrations, or both at once. */
export const MIGRATE_TARGETS = ['sso', 'api', 'all'] as const;
export type MigrateTarget = 'sso' | 'api';

/** One step the user can ask for, expanded: `all` runs sso and api concurrently. */
export function parseTargets(positionals: string[]): MigrateTarget[] {
  const given = positionals[0];
  const valid = MIGRATE_TARGETS.join(', ');
  if (given === undefined) {
    throw new UsageError(`which migrations? give a target: ${valid}`, {
      hint: `e.g. ${npmRun('migrate', 'sso')}`,
    });
  }
  if (given === 'all') return ['sso', 'api'];
  if (given === 'sso' || given === 'api') return [given];
  const guess = MIGRATE_TARGETS.find((t) => closeTo(given.toLowerCase(), t));
  throw new UsageError(`unknown migration target "${given}" (valid targets: ${valid})`, {
    hint: npmRun('migrate', guess ?? 'sso'),
  });
}

// One edit away (a typo such as `ssoo`, `aip`, `al`) or the same letters differently cased.
function closeTo(a: string, b: string): boolean {
  if (a === b) return true;
  if (Math.abs(a.length - b.length) > 1) return false;
  if (a.length === b.length) {
    const diff = [...a].filter((c, i) => c !== b[i]).length;
    return diff <= 1 || (diff === 2 && [...a].sort().join('') === [...b].sort().join(''));
  }
  const [short, long] = a.length < b.length ? [a, b] : [b, a];
  for (let i = 0; i < long.length; i++) if (long.slice(0, i) + long.slice(i + 1) === short) return true;
  return false;
}
