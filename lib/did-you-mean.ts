/** "Did you mean ...?" for mistyped names: setting keys, option names. */

// Optimal string alignment distance: Levenshtein plus transposition of neighbours (PASWSORD).
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

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
