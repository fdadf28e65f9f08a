// "Did you mean ...?" for a mistyped command or option: the closest candidates by edit distance
// (a swap of two neighbours counts as one edit, as in `--lsit`), or the one candidate the word
// starts or is part of (`kts consumer` -> consumer-groups? console-consumer?). Pure: no I/O.

/** Optimal string alignment distance (Damerau-Levenshtein without reuse of a substring). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * The candidates `word` most likely meant, best first (at most three), or none. A word longer than
 * 64 characters is not compared (bounded work for whatever is typed).
 */
export function suggest(word: string, candidates: readonly string[]): string[] {
  const w = word.toLowerCase();
  if (w === '' || w.length > 64) return [];
  const limit = Math.max(1, Math.min(3, Math.floor(w.length / 3)));
  const scored = candidates
    .map((c) => ({ c, d: editDistance(w, c.toLowerCase()) }))
    .filter((x) => x.d <= limit)
    .sort((x, y) => x.d - y.d || x.c.localeCompare(y.c));
  if (scored.length > 0) return scored.slice(0, 3).map((x) => x.c);
  // Not a typo but a part: `kts consumer`, `--bootstrap`, `--server`.
  if (w.length >= 3) {
    const parts = candidates.filter((c) => c.toLowerCase().includes(w));
    if (parts.length > 0 && parts.length <= 3) return parts;
  }
  return [];
}

/** `Did you mean 'topics'?` / `Did you mean one of: --list, --alter?`, or undefined. */
export function didYouMean(word: string, candidates: readonly string[], quote: (c: string) => string = (c) => `'${c}'`): string | undefined {
  const found = suggest(word, candidates);
  if (found.length === 0) return undefined;
  return found.length === 1 ? `Did you mean ${quote(found[0])}?` : `Did you mean one of: ${found.map(quote).join(', ')}?`;
}
