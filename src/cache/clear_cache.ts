/**
 * Emptying a cache directory safely: every part of the cache pycontainer knows is first renamed
 * into one temporary directory inside the cache (`.clear.<nonce>.tmp`, atomic per entry), then
 * that directory is deleted. A build starting meanwhile sees an empty cache rather than a
 * half-deleted one, and a `clear` killed halfway leaves only a recognisable temporary directory
 * that the next eviction or clear removes.
 *
 * Entries pycontainer doesn't know are left alone and reported, so pointing `--cache-dir` at the
 * wrong directory can't delete someone's files. The lock file of a running eviction is kept.
 *
 * @module
 */
import { mkdir, readdir, rename, rm } from "node:fs/promises";
import { join, sep } from "node:path";
import { LOCK_FILE_NAME } from "../store/dir_lock.ts";
import { EVICTION_STAMP, scanCache, summarizeScan } from "./cache_scan.ts";

/** Top-level entries of a cache directory that belong to pycontainer. */
export const CACHE_ENTRIES: readonly string[] = [
  "blobs",
  "layers",
  "wheels",
  "file-digests",
  "target-env",
  EVICTION_STAMP,
];

/** What {@linkcode clearCache} did. */
export interface ClearResult {
  /** The cache root. */
  root: string;
  /** False when there was no cache directory. */
  existed: boolean;
  /** Top-level entries removed. */
  removed: string[];
  /** Files removed and their total size. */
  files: number;
  /** Bytes freed. */
  bytes: number;
  /** Top-level entries left because they are not pycontainer's. */
  kept: string[];
}

/**
 * Removes everything pycontainer keeps in a cache directory.
 *
 * @param cacheDir The cache root.
 * @returns What was removed and what was left.
 * @throws {Error} When the directory can't be read or an entry can't be moved or removed.
 *
 * @example
 * ```ts
 * import { clearCache } from "./clear_cache.ts";
 * const r = await clearCache("/nonexistent-cache");
 * console.assert(!r.existed && r.files === 0);
 * ```
 */
export async function clearCache(cacheDir: string): Promise<ClearResult> {
  const result: ClearResult = {
    root: cacheDir,
    existed: false,
    removed: [],
    files: 0,
    bytes: 0,
    kept: [],
  };
  const scan = await scanCache(cacheDir);
  if (!scan.exists) return result;
  result.existed = true;
  const names = (await readdir(cacheDir)).sort();
  const ours = (name: string) => CACHE_ENTRIES.includes(name) || /^\..+\.tmp$/.test(name);
  result.kept = names.filter((n) => !ours(n) && n !== LOCK_FILE_NAME);
  const doomed = names.filter(ours);
  if (doomed.length === 0) return result;

  const counted = summarizeScan({
    ...scan,
    files: scan.files.filter((f) =>
      doomed.some((d) => f.path === join(cacheDir, d) || f.path.startsWith(join(cacheDir, d, sep)))
    ),
  });
  result.files = Object.values(counted.kinds).reduce((n, k) => n + k.count, 0);
  result.bytes = counted.totalBytes;

  const trash = join(cacheDir, `.clear.${crypto.randomUUID().slice(0, 8)}.tmp`);
  await mkdir(trash);
  for (const name of doomed) {
    await rename(join(cacheDir, name), join(trash, name)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== "ENOENT") throw e; // removed meanwhile, e.g. by another clear
    });
    result.removed.push(name);
  }
  await rm(trash, { recursive: true, force: true });
  return result;
}
