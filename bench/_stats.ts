/**
 * The one statistic the benchmarks report: the median of a few timed runs (robust to the odd
 * slow run on a shared machine, unlike the mean).
 *
 * @module
 */

/**
 * The median of some numbers (the upper middle one for an even count).
 *
 * @param xs The numbers (at least one).
 * @returns The median.
 *
 * @example
 * ```ts
 * import { median } from "./_stats.ts";
 * console.assert(median([3, 1, 2]) === 2);
 * ```
 */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
