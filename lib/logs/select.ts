import { APPS, DATABASES } from '../components.ts';
import { closest } from '../did-you-mean.ts';
import { UsageError } from '../errors.ts';
import { MIGRATION_CRONJOBS } from '../jobs.ts';
import { CHART_ADDON_NAMES } from '../addon-catalog.ts';
import { npmRun } from '../suggest.ts';

/** The components every release may have (the cluster adds its own add-ons to these). */
export const KNOWN_COMPONENTS: readonly string[] = [
  ...APPS.map((a) => a.component),
  ...Object.values(DATABASES).map((d) => d.statefulSet),
  ...Object.values(MIGRATION_CRONJOBS),
  ...CHART_ADDON_NAMES,
];

/**
 * The components named on the command line, each by its exact name or a unique prefix of one; an unknown
 * or ambiguous name is a usage error listing the valid ones. No names: undefined (every component).
 */
export function selectComponents(
  requested: readonly string[],
  available: Iterable<string>,
): Set<string> | undefined {
  if (requested.length === 0) return undefined;
  const names = [...new Set([...KNOWN_COMPONENTS, ...available])].sort();
  const out = new Set<string>();
  for (const word of requested) {
    if (names.includes(word)) {
      out.add(word);
      continue;
    }
    const prefixed = names.filter((n) => n.startsWith(word));
    if (prefixed.length === 1) {
      out.add(prefixed[0]!);
      continue;
    }
    if (prefixed.length > 1) {
      throw new UsageError(`"${word}" could be any of: ${prefixed.join(', ')}`, {
        hint: `name one of them, e.g. ${npmRun('logs', prefixed[0])} (components: ${names.join(', ')})`,
      });
    }
    const guess = closest(word, names);
    throw new UsageError(`unknown component "${word}"`, {
      hint: `${guess ? `did you mean ${guess}? ${npmRun('logs', guess)} ` : ''}(components: ${names.join(', ')})`,
    });
  }
  return out;
}
