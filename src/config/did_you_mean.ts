/**
 * "Did you mean" suggestions for misspelt configuration keys. Uses the optimal string alignment
 * variant of the Damerau–Levenshtein distance, so a swapped pair of letters (`bsae` for `base`)
 * costs one edit, as a person would count it.
 *
 * @module
 */

/**
 * Edit distance between two strings: insertions, deletions, substitutions and transpositions of
 * adjacent characters each cost 1 (optimal string alignment distance).
 *
 * @param a First string.
 * @param b Second string.
 * @returns The number of edits turning `a` into `b`.
 *
 * @example
 * ```ts
 * import { editDistance } from "./did_you_mean.ts";
 * console.assert(editDistance("bsae-image", "base-image") === 1);
 * console.assert(editDistance("workdir", "wrkdir") === 1);
 * ```
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  const at = (i: number, j: number): number => d[i * cols + j] ?? 0;
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        v = Math.min(v, at(i - 2, j - 2) + 1);
      }
      d[i * cols + j] = v;
    }
  }
  return at(a.length, b.length);
}

/**
 * The candidate closest to `word`, if it is at most `maxDistance` edits away. Ties go to the
 * candidate listed first.
 *
 * @param word The unknown word, e.g. a misspelt key.
 * @param candidates The known words.
 * @param maxDistance Largest distance still worth suggesting (default 2).
 * @returns The suggestion, or `undefined` when nothing is close enough.
 *
 * @example
 * ```ts
 * import { closestMatch } from "./did_you_mean.ts";
 * console.assert(closestMatch("bsae-image", ["workdir", "base-image"]) === "base-image");
 * console.assert(closestMatch("colour", ["workdir"]) === undefined);
 * ```
 */
export function closestMatch(
  word: string,
  candidates: readonly string[],
  maxDistance = 2,
): string | undefined {
  let best: string | undefined;
  let bestDistance = maxDistance + 1;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}
