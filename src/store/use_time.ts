/**
 * Use times for LRU eviction of the cache. atime is unreliable (relatime, noatime), so a cached
 * file's mtime records when a build last used it; content-addressed files never change after
 * they are written, so their mtime has no other meaning.
 *
 * @module
 */
import { utimes } from "node:fs/promises";

/**
 * Records that a cached file was just used, so eviction keeps it longer. Errors (file gone,
 * read-only cache) are ignored: use times only steer eviction.
 *
 * Call it whenever a cached file is reused without being rewritten: a blob found in the blob
 * store (layer cache hit, base layer already downloaded), a wheel found in the wheel cache, a
 * target-env or file-digests JSON file that was read.
 *
 * @param path The cached file.
 * @param now The use time, ms since the epoch (default: now).
 * @returns Resolves when recorded (or ignored).
 *
 * @example
 * ```ts
 * import { markUsed } from "./use_time.ts";
 * await markUsed("/nonexistent/blob"); // no error
 * ```
 */
export async function markUsed(path: string, now: number = Date.now()): Promise<void> {
  const t = new Date(now);
  await utimes(path, t, t).catch(() => {});
}
