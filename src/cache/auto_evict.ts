/**
 * Eviction at the end of every build, made cheap enough for no-change rebuilds. A full scan of a
 * large cache stats thousands of files (hundreds of milliseconds under Deno), so builds don't
 * scan every time: `<cacheDir>/eviction.json` remembers when the cache was last measured and how
 * big it was, each build adds what it wrote, and a full {@linkcode evictCache} runs only when the
 * estimate reaches the limit or the measurement is older than the interval (10 minutes).
 *
 * The estimate is deliberately simple (concurrent builds may lose each other's additions, and
 * other processes may delete files): it only decides *when* to measure; eviction itself always
 * works from a fresh scan. The limit is therefore soft by at most what builds write between two
 * checks.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../store/atomic.ts";
import { EVICTION_STAMP } from "./cache_scan.ts";
import { evictCache, type EvictionResult, type EvictOptions } from "./eviction.ts";

/** Re-measure at least this often, ms (default for {@linkcode AutoEvictOptions.intervalMs}). */
export const DEFAULT_CHECK_INTERVAL_MS: number = 10 * 60 * 1000;

/** Options for {@linkcode autoEvict}. */
export interface AutoEvictOptions extends EvictOptions {
  /** Bytes this build added to the cache (new layers, downloads), if known (default 0). */
  addedBytes?: number;
  /** Measure the cache again when the last measurement is older than this, ms. */
  intervalMs?: number;
}

interface Stamp {
  checkedAt: number;
  bytes: number;
}

/**
 * Keeps the cache under its limit after a build: a full eviction when due, otherwise only the
 * running estimate is updated. Failures are not the build's problem: they are swallowed.
 *
 * @param cacheDir The cache root.
 * @param options The limit, what the build added, and how often to measure.
 * @returns The eviction's result when one ran, else undefined.
 *
 * @example At the end of a build
 * ```ts
 * import { autoEvict } from "./auto_evict.ts";
 * import { cacheLimit } from "./size_limit.ts";
 * const { maxBytes } = cacheLimit(undefined, {});
 * await autoEvict("/nonexistent-cache", { maxBytes, addedBytes: 1234 });
 * ```
 */
export async function autoEvict(
  cacheDir: string,
  options: AutoEvictOptions,
): Promise<EvictionResult | undefined> {
  try {
    const now = options.now ?? Date.now();
    const path = join(cacheDir, EVICTION_STAMP);
    const stamp = await _readStamp(path);
    const estimate = (stamp?.bytes ?? 0) + (options.addedBytes ?? 0);
    const fresh = stamp !== undefined && now - stamp.checkedAt >= 0 &&
      now - stamp.checkedAt < (options.intervalMs ?? DEFAULT_CHECK_INTERVAL_MS);
    if (fresh && estimate <= options.maxBytes) {
      await writeFileAtomic(path, JSON.stringify({ checkedAt: stamp.checkedAt, bytes: estimate }));
      return undefined;
    }
    const result = await evictCache(cacheDir, options);
    if (!result.locked && result.bytesBefore > 0) {
      await writeFileAtomic(path, JSON.stringify({ checkedAt: now, bytes: result.bytesAfter }));
    }
    return result;
  } catch {
    return undefined; // a cache that can't be trimmed (read-only, gone) must not fail a build
  }
}

async function _readStamp(path: string): Promise<Stamp | undefined> {
  try {
    const s = JSON.parse(await readFile(path, "utf8")) as Partial<Stamp>;
    return Number.isFinite(s.checkedAt) && Number.isSafeInteger(s.bytes) && s.bytes! >= 0
      ? { checkedAt: s.checkedAt!, bytes: s.bytes! }
      : undefined;
  } catch {
    return undefined;
  }
}
