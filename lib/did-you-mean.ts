/** "Did you mean ...?" for mistyped names: setting keys, option names. */
import damerauLevenshtein from 'damerau-levenshtein';

// Optimal string alignment distance (Levenshtein plus transposition of neighbours: PASWSORD is 1 from
// PASSWORD), as damerau-levenshtein computes it.
const editDistance = (a: string, b: string): number => damerauLevenshtein(a, b).steps;

/**
 * The candidate closest to `word`, if it is close enough: one edit per five characters (at least one,
 * at most three), or `word` as a prefix of exactly one candidate (`--auto-port` → `--auto-ports`).
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 5)));
  let best: { key: string; d: number } | undefined;
  const all = [...candidates];
  for (const c of all) {
    const d = editDistance(word, c);
    if (d <= limit && (best === undefined || d < best.d)) best = { key: c, d };
  }
  if (best) return best.key;
  const prefixed = word.length >= 3 ? all.filter((c) => c.startsWith(word)) : [];
  return prefixed.length === 1 ? prefixed[0] : undefined;
}
