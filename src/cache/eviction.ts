/**
 * Keeping the cache under its size limit: least-recently-used eviction of blobs, wheels and the
 * small per-project/per-base JSON files, down to a fraction (80%) of the limit, so a cache near
 * its limit is not trimmed again by every build.
 *
 * **Use times.** Access times are unreliable (`relatime`, `noatime` mounts), so the cache keeps
 * its own: a file's mtime is its last use. Writers set it by writing; readers call
 * {@linkcode markUsed} (one `utimes` call) when they reuse a cached file. Nothing else reads a
 * cache file's mtime, and the content-addressed names make the content independent of it.
 *
 * **Safe beside running builds.** Temporary files (`.*.tmp`) are never evicted while young: they
 * are writes in progress; ones untouched for an hour are leftovers of killed processes and are
 * removed. Files used in the last {@linkcode DEFAULT_GRACE_MS} are kept even over the limit, so a
 * build that has just checked a blob is there does not lose it before copying it (a file that is
 * already open survives being unlinked on POSIX systems anyway). Each file is stat'ed again just
 * before removal and kept if it was used since the scan. Layer records outlive their blobs: a
 * record whose blob is gone is a miss for a build that writes a layout, but it is what lets a
 * registry build (`build --push`) skip rebuilding a layer the registry already has; records are
 * evicted by their own use time like everything else (they are a few hundred bytes). Two evictions
 * at once are serialised by a lock file in the cache directory; a second one that can't get the
 * lock quickly gives up — the first is doing the work.
 *
 * @module
 */
import { readFile, rm, rmdir, stat } from "node:fs/promises";
import { PycontainerError } from "../errors.ts";
import { withDirLock } from "../store/dir_lock.ts";
import { type CacheFile, type CacheFileKind, scanCache } from "./cache_scan.ts";

/** Files used more recently than this (ms) are never evicted: 10 minutes. */
export const DEFAULT_GRACE_MS: number = 10 * 60 * 1000;

/** Temporary files untouched for this long (ms) are leftovers and removed: 1 hour. */
export const STALE_TEMP_MS: number = 60 * 60 * 1000;

/** Kinds eviction may remove to make room. */
const EVICTABLE: ReadonlySet<CacheFileKind> = new Set([
  "blob",
  "layerRecord",
  "wheel",
  "fileDigests",
  "targetEnv",
]);

/** Options for {@linkcode evictCache}. */
export interface EvictOptions {
  /** The size limit in bytes; nothing is evicted while the cache is at or under it. */
  maxBytes: number;
  /** Evict down to this fraction of the limit (default 0.8). */
  targetRatio?: number;
  /** Keep files used this recently, ms (default {@linkcode DEFAULT_GRACE_MS}). */
  graceMs?: number;
  /** Remove temporary files older than this, ms (default {@linkcode STALE_TEMP_MS}). */
  staleTempMs?: number;
  /** Also remove damaged layer records (unreadable, or naming no digest), even under the limit. */
  sweepRecords?: boolean;
  /** How long to wait for another eviction's lock, ms (default 2000); then give up. */
  lockWaitMs?: number;
  /** The current time, ms (tests). */
  now?: number;
}

/** A removed file. */
export interface RemovedFile {
  /** Absolute path. */
  path: string;
  /** Its kind. */
  kind: CacheFileKind;
  /** Bytes freed. */
  size: number;
}

/** What {@linkcode evictCache} did. */
export interface EvictionResult {
  /** The cache root. */
  root: string;
  /** The limit, bytes. */
  maxBytes: number;
  /** What eviction aimed for when over the limit, bytes. */
  targetBytes: number;
  /** Total size before, bytes. */
  bytesBefore: number;
  /** Total size after, bytes. */
  bytesAfter: number;
  /** Removed files, oldest use first. */
  removed: RemovedFile[];
  /** Files kept although over the limit because they were used within the grace period. */
  keptRecent: number;
  /** True when another process held the eviction lock, so nothing was done. */
  locked: boolean;
}

export { markUsed } from "../store/use_time.ts";

/**
 * Evicts least-recently-used files until the cache is under `targetRatio × maxBytes`, when it is
 * over `maxBytes`. Always removes stale temporary files and empty wheel directories.
 *
 * @param cacheDir The cache root.
 * @param options The limit and tuning.
 * @returns Sizes before and after, and what was removed.
 * @throws {PycontainerError} When the cache directory can't be read or a file can't be removed.
 *
 * @example Keeping a cache under 5 GB (what builds do when they finish)
 * ```ts
 * import { evictCache } from "./eviction.ts";
 * const r = await evictCache("/nonexistent-cache", { maxBytes: 5e9 });
 * console.assert(r.removed.length === 0);
 * ```
 */
export async function evictCache(cacheDir: string, options: EvictOptions): Promise<EvictionResult> {
  const targetBytes = Math.floor(options.maxBytes * (options.targetRatio ?? 0.8));
  const empty: EvictionResult = {
    root: cacheDir,
    maxBytes: options.maxBytes,
    targetBytes,
    bytesBefore: 0,
    bytesAfter: 0,
    removed: [],
    keptRecent: 0,
    locked: false,
  };
  if (!(await stat(cacheDir).catch(() => undefined))?.isDirectory()) return empty;
  let entered = false;
  try {
    return await withDirLock(cacheDir, () => {
      entered = true;
      return _evict(cacheDir, options, empty);
    }, { waitMs: options.lockWaitMs ?? 2000 });
  } catch (e) {
    if (!entered && e instanceof PycontainerError) return { ...empty, locked: true };
    if (e instanceof PycontainerError) throw e;
    const err = e as NodeJS.ErrnoException;
    throw new PycontainerError(
      `cannot evict from the cache ${cacheDir}: ${err.code ?? ""} ${err.message}`.replace(
        /\s+/g,
        " ",
      ),
      { hint: "check the cache directory's permissions, or use another --cache-dir", cause: e },
    );
  }
}

async function _evict(
  root: string,
  options: EvictOptions,
  result: EvictionResult,
): Promise<EvictionResult> {
  const now = options.now ?? Date.now();
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  const scan = await scanCache(root);
  let total = scan.files.reduce((n, f) => n + f.size, 0);
  result.bytesBefore = total;
  const removed: RemovedFile[] = [];
  const drop = async (f: CacheFile): Promise<boolean> => {
    // Kept if used (or rewritten) since the scan, e.g. by a build running right now.
    const s = await stat(f.path).catch(() => undefined);
    if (!s) return false;
    if (!f.dir && s.mtimeMs !== f.mtimeMs) return false;
    await rm(f.path, { force: true, recursive: f.dir === true });
    removed.push({ path: f.path, kind: f.kind, size: f.size });
    total -= f.size;
    return true;
  };

  const staleTempMs = options.staleTempMs ?? STALE_TEMP_MS;
  for (const f of scan.files) {
    if (f.kind === "temp" && now - f.mtimeMs > staleTempMs) await drop(f);
  }
  for (const d of scan.emptyDirs) {
    // rmdir fails (harmlessly) when a download has just put a temporary file in it.
    if (now - d.mtimeMs > graceMs) await rmdir(d.path).catch(() => {});
  }

  if (total > options.maxBytes) {
    const candidates = scan.files
      .filter((f) => EVICTABLE.has(f.kind))
      .sort((a, b) => a.mtimeMs - b.mtimeMs || (a.path < b.path ? -1 : 1));
    for (const f of candidates) {
      if (total <= result.targetBytes) break;
      if (now - f.mtimeMs < graceMs) {
        result.keptRecent++;
        continue;
      }
      await drop(f);
    }
  }
  if (options.sweepRecords) {
    // Records are written atomically (temp name + rename), so a damaged one is never a write
    // in progress.
    for (const r of scan.files.filter((f) => f.kind === "layerRecord")) {
      if (!(await _recordIsSound(r.path))) await drop(r);
    }
  }
  result.removed = removed;
  result.bytesAfter = total;
  return result;
}

/** Whether a layer record can be read and names a blob digest. */
async function _recordIsSound(path: string): Promise<boolean> {
  const text = await readFile(path, "utf8").catch(() => undefined);
  if (text === undefined) return true; // gone meanwhile: nothing to sweep
  try {
    const digest = (JSON.parse(text) as { digest?: unknown }).digest;
    return typeof digest === "string" && /^sha256:[0-9a-f]{64}$/.test(digest);
  } catch {
    return false;
  }
}
