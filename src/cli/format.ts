/**
 * Human-readable numbers for CLI output.
 *
 * @module
 */

/**
 * Formats a byte count with binary units.
 *
 * @param bytes A byte count.
 * @returns E.g. `512 B`, `1.5 KiB`, `42.0 MiB`.
 *
 * @example
 * ```ts
 * import { formatBytes } from "./format.ts";
 * console.assert(formatBytes(1536) === "1.5 KiB");
 * ```
 */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}
