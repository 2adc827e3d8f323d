/**
 * What is in a cache directory: every file, classified by the part of the cache it belongs to,
 * with its size and last-use time. `pycontainer cache info` summarises a scan and eviction
 * chooses from one.
 *
 * The layout this knows (each part owned by its own module):
 *
 * | path | kind |
 * |---|---|
 * | `blobs/sha256/<hex>` | `blob` — layers, configs, manifests (`../store/blob_store.ts`) |
 * | `layers/<key>.json` | `layerRecord` — a built layer's digests (`./layer_cache.ts`) |
 * | `wheels/sha256/<hex>/<file>.whl` | `wheel` — downloaded wheels (`../python/wheel_cache.ts`) |
 * | `file-digests/<hash>.json` | `fileDigests` — stat fast path per project (`./file_digests.ts`) |
 * | `target-env/<…>.json` | `targetEnv` — a base image's Python facts (`../python/target_env.ts`) |
 * | `.<name>.<nonce>.tmp` anywhere | `temp` — a write in progress, or left by a killed process |
 * | anything else | `other` — counted, never evicted |
 *
 * Files can disappear while a scan runs (another build or an eviction); they are skipped.
 * Symbolic links are never followed.
 *
 * @module
 */
import type { Dirent } from "node:fs";
import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import { LOCK_FILE_NAME } from "../store/dir_lock.ts";

/** The parts of the cache. */
export type CacheFileKind =
  | "blob"
  | "layerRecord"
  | "wheel"
  | "fileDigests"
  | "targetEnv"
  | "temp"
  | "other";

/** Every kind, in display order. */
export const CACHE_FILE_KINDS: readonly CacheFileKind[] = [
  "blob",
  "layerRecord",
  "wheel",
  "fileDigests",
  "targetEnv",
  "temp",
  "other",
];

/** One file (or, for `temp`, possibly a whole temporary directory) in the cache. */
export interface CacheFile {
  /** Absolute path. */
  path: string;
  /** Which part of the cache it belongs to. */
  kind: CacheFileKind;
  /** Bytes (for a directory: the sum of the files in it). */
  size: number;
  /** Last modification = last use (see `markUsed`), ms since the epoch. */
  mtimeMs: number;
  /** True for a temporary directory (removed as a whole). */
  dir?: boolean;
}

/** A scanned cache directory. */
export interface CacheScan {
  /** The cache root. */
  root: string;
  /** False when the directory does not exist (then everything else is empty). */
  exists: boolean;
  /** Every file found. */
  files: CacheFile[];
  /** Empty `wheels/sha256/<hex>/` directories (left when their wheel was evicted). */
  emptyDirs: { path: string; mtimeMs: number }[];
}

/** Count and bytes of one kind. */
export interface KindTotal {
  /** Number of files. */
  count: number;
  /** Their total size in bytes. */
  bytes: number;
}

/** The file where builds keep their cache size estimate (see `auto_evict.ts`); not counted. */
export const EVICTION_STAMP = "eviction.json";

const TEMP_NAME = /^\..+\.tmp$/;
const HEX64 = /^[0-9a-f]{64}$/;

/**
 * Scans a cache directory.
 *
 * @param root The cache root (e.g. from `defaultCacheDir()`).
 * @returns Every file with its kind, size and mtime.
 *
 * @example
 * ```ts
 * import { scanCache } from "./cache_scan.ts";
 * const scan = await scanCache("/nonexistent-cache");
 * console.assert(!scan.exists && scan.files.length === 0);
 * ```
 */
export async function scanCache(root: string): Promise<CacheScan> {
  const scan: CacheScan = { root, exists: false, files: [], emptyDirs: [] };
  const top = await _list(root);
  if (top === undefined) return scan;
  scan.exists = true;
  await _walk(scan, root, [], top);
  return scan;
}

/**
 * Sums a scan per kind.
 *
 * @param scan A scan.
 * @returns Count and bytes per kind, and the total bytes.
 *
 * @example
 * ```ts
 * import { summarizeScan } from "./cache_scan.ts";
 * const s = summarizeScan({ root: "/c", exists: true, emptyDirs: [], files: [
 *   { path: "/c/blobs/sha256/x", kind: "blob", size: 10, mtimeMs: 0 },
 * ] });
 * console.assert(s.kinds.blob.count === 1 && s.totalBytes === 10);
 * ```
 */
export function summarizeScan(
  scan: CacheScan,
): { totalBytes: number; kinds: Record<CacheFileKind, KindTotal> } {
  const kinds = Object.fromEntries(
    CACHE_FILE_KINDS.map((k) => [k, { count: 0, bytes: 0 }]),
  ) as Record<CacheFileKind, KindTotal>;
  let totalBytes = 0;
  for (const f of scan.files) {
    kinds[f.kind].count++;
    kinds[f.kind].bytes += f.size;
    totalBytes += f.size;
  }
  return { totalBytes, kinds };
}

/**
 * Classifies a path inside the cache.
 *
 * @param parts Path components relative to the cache root, e.g. `["blobs", "sha256", hex]`.
 * @returns Its kind.
 *
 * @example
 * ```ts
 * import { classifyCachePath } from "./cache_scan.ts";
 * console.assert(classifyCachePath(["layers", "ab.json"]) === "layerRecord");
 * console.assert(classifyCachePath(["blobs", "sha256", ".put.1234.tmp"]) === "temp");
 * ```
 */
export function classifyCachePath(parts: readonly string[]): CacheFileKind {
  const name = parts[parts.length - 1] ?? "";
  if (TEMP_NAME.test(name)) return "temp";
  const [a, b, c, d] = parts;
  if (parts.length === 3 && a === "blobs" && b === "sha256" && HEX64.test(c!)) return "blob";
  if (parts.length === 2 && a === "layers" && /^[0-9a-f]+\.json$/.test(b!)) return "layerRecord";
  if (parts.length === 4 && a === "wheels" && b === "sha256" && HEX64.test(c!) && d) return "wheel";
  if (parts.length === 2 && a === "file-digests" && b!.endsWith(".json")) return "fileDigests";
  if (parts.length === 2 && a === "target-env" && b!.endsWith(".json")) return "targetEnv";
  return "other";
}

async function _walk(
  scan: CacheScan,
  dir: string,
  parts: string[],
  entries: Dirent[],
): Promise<void> {
  // Entries are visited concurrently: a cache holds thousands of small files, and one stat at a
  // time makes a scan ten times slower.
  await Promise.all(entries.map(async (e) => {
    // The lock of a running eviction and the size estimate are bookkeeping, not cache content.
    if (parts.length === 0 && (e.name === LOCK_FILE_NAME || e.name === EVICTION_STAMP)) return;
    const path = join(dir, e.name);
    const here = [...parts, e.name];
    if (e.isDirectory()) {
      if (TEMP_NAME.test(e.name)) {
        const s = await _stat(path);
        if (s) {
          const size = await _dirSize(path);
          scan.files.push({ path, kind: "temp", size, mtimeMs: s.mtimeMs, dir: true });
        }
        return;
      }
      const children = await _list(path);
      if (children === undefined) return;
      if (children.length === 0 && here.length === 3 && here[0] === "wheels") {
        const s = await _stat(path);
        if (s) scan.emptyDirs.push({ path, mtimeMs: s.mtimeMs });
      }
      await _walk(scan, path, here, children);
      return;
    }
    const s = await _stat(path);
    if (!s) return;
    const kind = e.isFile() ? classifyCachePath(here) : "other";
    scan.files.push({ path, kind, size: s.size, mtimeMs: s.mtimeMs });
  }));
}

/** At most this many stat calls in flight. */
const STAT_LIMIT = 64;
let _inFlight = 0;
const _waiting: (() => void)[] = [];

async function _stat(path: string): Promise<{ size: number; mtimeMs: number } | undefined> {
  if (_inFlight >= STAT_LIMIT) await new Promise<void>((r) => _waiting.push(r));
  _inFlight++;
  try {
    return await lstat(path).catch(() => undefined);
  } finally {
    _inFlight--;
    _waiting.shift()?.();
  }
}

async function _list(dir: string): Promise<Dirent[] | undefined> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw e;
  }
}

async function _dirSize(dir: string): Promise<number> {
  let total = 0;
  for (const e of (await _list(dir)) ?? []) {
    const path = join(dir, e.name);
    if (e.isDirectory()) total += await _dirSize(path);
    else total += (await _stat(path))?.size ?? 0;
  }
  return total;
}
