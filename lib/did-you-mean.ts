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
  return closestMeant(
    word,
    [...candidates].map((c) => [c, c] as const),
  );
}

/**
 * Like `closest`, over spellings that each stand for a name (a name, and the other spellings people
 * use for it): returns the name the closest spelling stands for. A prefix counts when every spelling
 * it starts stands for the same name.
 */
export function closestMeant(
  word: string,
  spellings: Iterable<readonly [spelling: string, meant: string]>,
): string | undefined {
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 5)));
  let best: { meant: string; d: number } | undefined;
  const all = [...spellings];
  for (const [spelling, meant] of all) {
    const d = editDistance(word, spelling);
    if (d <= limit && (best === undefined || d < best.d)) best = { meant, d };
  }
  if (best) return best.meant;
  const prefixed = new Set(word.length >= 3 ? all.filter(([s]) => s.startsWith(word)).map(([, m]) => m) : []);
  return prefixed.size === 1 ? [...prefixed][0] : undefined;
}
