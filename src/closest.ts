/** Did-you-mean suggestions: the closest name by edit distance (Levenshtein 1966). */

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = Math.min(up + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = up;
    }
  }
  return row[b.length]!;
}

/** The closest of `names` to `name`, when close enough to be a likely misspelling. */
export function closest(name: string, names: readonly string[]): string | undefined {
  let best: string | undefined;
  let distance = Infinity;
  for (const n of names) {
    const d = levenshtein(name.toLowerCase(), n.toLowerCase());
    if (d < distance) [best, distance] = [n, d];
  }
  return distance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}
