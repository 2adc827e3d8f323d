/**
 * Downloading wheels into a content-addressed cache shared by every build:
 * `<cacheDir>/wheels/sha256/<hex>/<original filename>`. A wheel is identified by its SHA-256, so
 * the same file locked by two projects is stored once, and a cached file is reused without a
 * network request. The file name is kept because installers read tags and the dist-info name
 * from it.
 *
 * Every download is hashed while it streams to a temporary file next to its final place and is
 * renamed into the cache only when its SHA-256 (and size, when known) match what the lock file or
 * index said. A mismatch is an error naming the package and the URL — the bad bytes are deleted,
 * never retried into use. Network failures and 5xx answers are retried with backoff. Downloads
 * run in parallel with a bound, and report progress events.
 *
 * @module
 */

import { mkdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { PycontainerError } from "../errors.ts";
import { describeNetworkError, networkErrorKind } from "../registry/network_error.ts";
import { isRetryableStatus, retry, retryAfterMs } from "../registry/retry.ts";
import { type FetchFn, sendRequest } from "../registry/transport.ts";
import { createSha256 } from "../runtime/sha256.ts";
import { openFileStream, writeStreamToFile } from "../store/_file_stream.ts";
import { tempPathFor } from "../store/atomic.ts";
import { markUsed } from "../store/use_time.ts";
import { defaultCacheDir } from "../store/cache_dir.ts";

/** One file to have in the cache. */
export interface WheelDownload {
  /** Package name, for messages. */
  readonly name: string;
  /** Version, for messages. */
  readonly version: string;
  /** The wheel's file name. */
  readonly filename: string;
  /** Where to download it from. */
  readonly url: string;
  /** Expected SHA-256 (lowercase hex), from the lock file or the index. */
  readonly sha256: string;
  /** Expected size in bytes, if known. */
  readonly size?: number | undefined;
}

/** A file in the cache. */
export interface CachedWheel extends WheelDownload {
  /** Absolute path of the cached file. */
  readonly path: string;
  /** True when it was already cached (no download). */
  readonly cached: boolean;
}

/** Progress of {@linkcode downloadWheels}. */
export type DownloadEvent =
  | { kind: "cached"; filename: string; size: number }
  | { kind: "start"; filename: string; size: number | undefined }
  | { kind: "progress"; filename: string; bytes: number; size: number | undefined }
  | { kind: "done"; filename: string; size: number }
  | { kind: "retry"; filename: string; attempt: number; reason: string }
  | { kind: "evicted"; filename: string; reason: string };

/** Opens a URL (e.g. `IndexClient.openUrl`, which adds credentials for the index). */
export type UrlOpener = (url: string) => Promise<{ response: Response; url: string }>;

/** Options for {@linkcode downloadWheels}. */
export interface WheelCacheOptions {
  /** Cache root (default `defaultCacheDir()`); wheels go to `<cacheDir>/wheels/sha256/`. */
  cacheDir?: string;
  /** Parallel downloads (default 6). */
  concurrency?: number;
  /** How to GET a URL (default: plain transport with redirects, no credentials). */
  open?: UrlOpener;
  /** Fetch implementation for the default opener. */
  fetch?: FetchFn;
  /** Attempts per file (default 4). */
  attempts?: number;
  /** First retry delay (default 250 ms). */
  baseDelayMs?: number;
  /**
   * Hash cached files again before reusing them (default false: the name is the hash and files
   * only enter the cache verified, so the size is checked). A cached file that no longer matches
   * (disk corruption, tampering) is deleted and downloaded again, verified like any download.
   */
  rehashCached?: boolean;
  /** Progress callback. */
  onEvent?: (event: DownloadEvent) => void;
}

/**
 * Where a wheel with this hash and name lives in the cache.
 *
 * @param cacheDir The cache root.
 * @param sha256 The wheel's SHA-256 (hex).
 * @param filename The wheel's file name.
 * @returns The path (which may not exist yet).
 *
 * @example
 * ```ts
 * import { wheelCachePath } from "./wheel_cache.ts";
 * const p = wheelCachePath("/c", "ab".repeat(32), "six-1.16.0-py2.py3-none-any.whl");
 * console.assert(p === `/c/wheels/sha256/${"ab".repeat(32)}/six-1.16.0-py2.py3-none-any.whl`);
 * ```
 */
export function wheelCachePath(cacheDir: string, sha256: string, filename: string): string {
  return join(cacheDir, "wheels", "sha256", sha256, filename);
}

function _check(d: WheelDownload): void {
  if (!/^[0-9a-f]{64}$/.test(d.sha256)) {
    throw new PycontainerError(
      `${d.name} ${d.version}: no valid sha256 for ${d.filename}`,
      {
        hint:
          "every file must have a SHA-256 in the lock file or on the index; regenerate the lock with hashes",
        exitCode: 2,
      },
    );
  }
  if (d.filename.includes("/") || d.filename.includes("\\") || d.filename.startsWith(".")) {
    throw new PycontainerError(
      `${d.name} ${d.version}: unsafe file name ${JSON.stringify(d.filename)}`,
      {
        hint: "the lock file or index lists a file name with a path in it; fix the lock file",
      },
    );
  }
}

function _redact(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    u.search = "";
    return u.toString();
  } catch {
    return url;
  }
}

/**
 * Makes sure every wheel is in the cache, downloading and verifying the missing ones in
 * parallel.
 *
 * @param wheels The files, with expected hashes.
 * @param options Cache location, parallelism, opener and progress callback.
 * @returns The cached files, in input order.
 * @throws {PycontainerError} On a hash or size mismatch (naming the package and URL) or a
 *   download failure.
 *
 * @example
 * ```ts ignore
 * import { downloadWheels } from "./wheel_cache.ts";
 * const [six] = await downloadWheels([{ name: "six", version: "1.16.0",
 *   filename: "six-1.16.0-py2.py3-none-any.whl",
 *   url: "https://files.pythonhosted.org/packages/.../six-1.16.0-py2.py3-none-any.whl",
 *   sha256: "8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254" }]);
 * console.log(six!.path);
 * ```
 */
export async function downloadWheels(
  wheels: readonly WheelDownload[],
  options: WheelCacheOptions = {},
): Promise<CachedWheel[]> {
  for (const w of wheels) _check(w);
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const results: CachedWheel[] = new Array(wheels.length);
  const inflight = new Map<string, Promise<CachedWheel>>();
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (failure === undefined && next < wheels.length) {
      const i = next++;
      const w = wheels[i]!;
      const key = `${w.sha256}/${w.filename}`;
      let p = inflight.get(key);
      if (p === undefined) {
        p = _ensure(w, cacheDir, options);
        inflight.set(key, p);
      }
      try {
        results[i] = { ...(await p), ...w };
      } catch (e) {
        failure ??= e;
      }
    }
  };
  const n = Math.max(1, Math.min(options.concurrency ?? 6, wheels.length));
  await Promise.all(Array.from({ length: n }, worker));
  if (failure !== undefined) throw failure;
  return results;
}

async function _ensure(
  w: WheelDownload,
  cacheDir: string,
  options: WheelCacheOptions,
): Promise<CachedWheel> {
  const path = wheelCachePath(cacheDir, w.sha256, w.filename);
  const existing = await stat(path).catch(() => undefined);
  if (existing?.isFile() && (w.size === undefined || existing.size === w.size)) {
    if (!options.rehashCached || await _fileSha256(path) === w.sha256) {
      options.onEvent?.({ kind: "cached", filename: w.filename, size: existing.size });
      await markUsed(path);
      return { ...w, path, cached: true };
    }
    options.onEvent?.({ kind: "evicted", filename: w.filename, reason: "content changed" });
    await rm(path, { force: true });
  }
  await mkdir(join(cacheDir, "wheels", "sha256", w.sha256), { recursive: true });
  const open: UrlOpener = options.open ??
    ((url) => sendRequest({ url }, options.fetch));
  await retry(() => _download(w, path, open, options), {
    attempts: options.attempts ?? 4,
    baseDelayMs: options.baseDelayMs ?? 250,
    retryable: (o) => {
      if (o.ok) return false;
      const e = o.error as { retryAfter?: number; transient?: boolean };
      if (e.transient) return e.retryAfter ?? true;
      const kind = networkErrorKind(o.error);
      return kind === "reset" || kind === "timeout";
    },
    onRetry: ({ attempt, outcome }) =>
      options.onEvent?.({
        kind: "retry",
        filename: w.filename,
        attempt,
        reason: outcome.ok ? "" : describeNetworkError(outcome.error),
      }),
  }).catch((cause) => {
    if (cause instanceof PycontainerError) throw cause;
    throw new PycontainerError(
      `cannot download ${w.filename} (${w.name} ${w.version}) from ${_redact(w.url)}: ${
        describeNetworkError(cause)
      }`,
      { hint: "check your network connection and the index, then retry", cause },
    );
  });
  return { ...w, path, cached: false };
}

async function _download(
  w: WheelDownload,
  path: string,
  open: UrlOpener,
  options: WheelCacheOptions,
): Promise<void> {
  const { response } = await open(w.url);
  if (!response.ok || !response.body) {
    await response.body?.cancel().catch(() => {});
    const error = new PycontainerError(
      `cannot download ${w.filename} (${w.name} ${w.version}) from ${
        _redact(w.url)
      }: HTTP ${response.status}`,
      {
        hint: response.status === 401 || response.status === 403
          ? "the index needs credentials (URL userinfo, ~/.netrc or UV_INDEX_<NAME>_USERNAME/_PASSWORD)"
          : "check that the lock file is current and the index still serves the file",
      },
    );
    if (isRetryableStatus(response.status)) {
      Object.assign(error, {
        transient: true,
        retryAfter: retryAfterMs(response.headers.get("retry-after")),
      });
    }
    throw error;
  }
  options.onEvent?.({ kind: "start", filename: w.filename, size: w.size });
  const temp = tempPathFor(path);
  const hash = createSha256();
  let bytes = 0;
  let lastReport = 0;
  try {
    await writeStreamToFile(response.body, temp, (chunk) => {
      hash.update(chunk);
      bytes += chunk.byteLength;
      if (w.size !== undefined && bytes > w.size) {
        throw _mismatch(w, `is larger than the ${w.size} bytes expected`);
      }
      if (bytes - lastReport >= 1 << 20) {
        lastReport = bytes;
        options.onEvent?.({ kind: "progress", filename: w.filename, bytes, size: w.size });
      }
    });
    const digest = hash.digestHex();
    if (digest !== w.sha256) {
      throw _mismatch(w, `has sha256 ${digest}, expected ${w.sha256}`);
    }
    if (w.size !== undefined && bytes !== w.size) {
      throw _mismatch(w, `is ${bytes} bytes, expected ${w.size}`);
    }
    await rename(temp, path);
  } catch (e) {
    await rm(temp, { force: true }).catch(() => {});
    throw e;
  }
  options.onEvent?.({ kind: "done", filename: w.filename, size: bytes });
}

function _mismatch(w: WheelDownload, what: string): PycontainerError {
  return new PycontainerError(
    `${w.name} ${w.version}: the file downloaded from ${_redact(w.url)} ${what}`,
    {
      hint:
        "the file differs from the one locked or listed on the index; if the lock is stale regenerate it, otherwise do not trust this index",
    },
  );
}

async function _fileSha256(path: string): Promise<string> {
  const hash = createSha256();
  for await (const chunk of await openFileStream(path)) hash.update(chunk);
  return hash.digestHex();
}
