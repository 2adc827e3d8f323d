/**
 * The cache's size limit: parsing sizes people write (`500MB`, `5GB`, `2GiB`, `1.5 GB`, `0`) and
 * choosing the limit from a flag, `PYCONTAINER_CACHE_MAX_SIZE`, or the default of 5 GB.
 *
 * Units follow their standard meaning so `5GB` is what a disk-usage tool shows as 5 GB:
 * `KB`/`MB`/`GB`/`TB` are powers of 1000 and `KiB`/`MiB`/`GiB`/`TiB` powers of 1024. A bare
 * number is bytes. One-letter units (`5G`) are refused rather than guessed, because tools
 * disagree on whether they mean 10^9 or 2^30.
 *
 * @module
 */
import { usageError } from "../errors.ts";

/** The default limit: 5 GB (5 × 10^9 bytes). */
export const DEFAULT_CACHE_MAX_BYTES = 5_000_000_000;

/** Environment variable that sets the limit when no flag does. */
export const CACHE_MAX_SIZE_ENV = "PYCONTAINER_CACHE_MAX_SIZE";

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/**
 * Parses a size such as `500MB`, `5GB`, `2GiB`, `1.5 GB` or `1048576`.
 *
 * @param text The size as written (units are case-insensitive; spaces allowed before the unit).
 * @param what Where it came from, for the error message (e.g. `--max-size`).
 * @returns The size in bytes (rounded down to a whole byte).
 * @throws {PycontainerError} exit code 2 when the text is not a size.
 *
 * @example
 * ```ts
 * import { parseSize } from "./size_limit.ts";
 * console.assert(parseSize("500MB", "--max-size") === 500_000_000);
 * console.assert(parseSize("2GiB", "--max-size") === 2 * 1024 ** 3);
 * ```
 */
export function parseSize(text: string, what: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const factor = m ? UNITS[(m[2] || "b").toLowerCase()] : undefined;
  if (m && /^[kmgt]$/i.test(m[2]!)) {
    throw usageError(
      `invalid ${what} ${JSON.stringify(text)}: "${m[2]}" is ambiguous`,
      `write ${m[1]}${m[2]!.toUpperCase()}B (powers of 1000) or ${m[1]}${
        m[2]!.toUpperCase()
      }iB (powers of 1024)`,
    );
  }
  if (!m || factor === undefined) {
    throw usageError(
      `invalid ${what} ${JSON.stringify(text)}: not a size`,
      "write a number with a unit, e.g. 500MB, 5GB or 2GiB (KB/MB/GB/TB are powers of 1000, KiB/MiB/GiB/TiB of 1024)",
    );
  }
  const bytes = Math.floor(Number(m[1]) * factor);
  if (!Number.isSafeInteger(bytes)) {
    throw usageError(`invalid ${what} ${JSON.stringify(text)}: too large`, "e.g. 5GB");
  }
  return bytes;
}

/** A chosen limit and where it came from. */
export interface CacheLimit {
  /** Bytes. */
  maxBytes: number;
  /** `--max-size`, `PYCONTAINER_CACHE_MAX_SIZE` or `default`. */
  source: string;
}

/**
 * Chooses the cache size limit: the flag, else `PYCONTAINER_CACHE_MAX_SIZE`, else 5 GB.
 *
 * @param flag The `--max-size` value, when given.
 * @param env Environment variables.
 * @returns The limit in bytes and its source.
 * @throws {PycontainerError} exit code 2 when the flag or the variable is not a size.
 *
 * @example
 * ```ts
 * import { cacheLimit } from "./size_limit.ts";
 * console.assert(cacheLimit(undefined, { PYCONTAINER_CACHE_MAX_SIZE: "1GB" }).maxBytes === 1e9);
 * console.assert(cacheLimit(undefined, {}).source === "default");
 * ```
 */
export function cacheLimit(
  flag: string | undefined,
  env: Record<string, string | undefined>,
): CacheLimit {
  if (flag !== undefined) return { maxBytes: parseSize(flag, "--max-size"), source: "--max-size" };
  const fromEnv = env[CACHE_MAX_SIZE_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== "") {
    return { maxBytes: parseSize(fromEnv, CACHE_MAX_SIZE_ENV), source: CACHE_MAX_SIZE_ENV };
  }
  return { maxBytes: DEFAULT_CACHE_MAX_BYTES, source: "default" };
}
