/**
 * Levenshtein distance, with a swap of two neighbouring letters counting as one edit
 * (optimal string alignment). Only three rows of the table are kept: the current one,
 * the one above, and the one above that (for swaps).
 */
export function editDistance(a: string, b: string): number {
  let twoAbove = new Array<number>(b.length + 1).fill(0);
  let above = Array.from({ length: b.length + 1 }, (_, j) => j);
  let row = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let distance = Math.min(above[j]! + 1, row[j - 1]! + 1, above[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) distance = Math.min(distance, twoAbove[j - 2]! + 1);
      row[j] = distance;
    }
    const reused = twoAbove;
    twoAbove = above;
    above = row;
    row = reused;
  }
  return above[b.length]!;
}

/** A key much longer than any known one is not a typo of it: no distance is computed. */
const MAX_SUGGESTED_KEY = 64;

/** The known key nearest to a misspelt one, when it is one edit away (two for keys over 3 letters). */
export function nearestKey(key: string, known: readonly string[]): string | undefined {
  if (key.length > MAX_SUGGESTED_KEY) return undefined;
  const allowed = key.length <= 3 ? 1 : 2;
  const written = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    // The distance is at least the difference in length: such a candidate cannot be near enough.
    if (Math.abs(candidate.length - written.length) > allowed) continue;
    const distance = editDistance(written, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return bestDistance <= allowed ? best : undefined;
}
