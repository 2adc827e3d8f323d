/**
 * The layer cache: a layer's key covers everything that shapes its bytes — the tool version, the
 * layer options (file mtime), and every entry's path, type, mode and content digest (or symlink
 * target) after normalisation (parents added, sorted). A hit reuses the stored blob and both
 * digests without reading or compressing anything; the blob itself lives in the
 * content-addressed blob store; a record whose blob is gone is a miss for a build that writes an
 * OCI layout, and a deferred layer for a registry build (`src/build/deferred_blobs.ts`).
 *
 * Records are small JSON files written atomically (`layers/<key>.json`), so concurrent builds
 * and builds killed at any moment never leave a record pointing at a partial blob: the blob is
 * renamed into place before its record is written.
 *
 * @module
 */
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { LayerEntry } from "../layer/entry.ts";
import { type LayerDigests, normalizeEntries } from "../layer/tar_writer.ts";
import { createSha256, sha256Hex } from "../runtime/sha256.ts";
import { writeFileAtomic } from "../store/atomic.ts";
import { markUsed } from "../store/use_time.ts";
import { VERSION } from "../version.ts";
import { GZIP_BLOCK_SIZE, GZIP_LEVEL } from "../runtime/gzip.ts";
import type { FileDigests } from "./file_digests.ts";

/** Options that shape a layer's bytes besides its entries. */
export interface LayerKeyOptions {
  /** File mtime, seconds since the epoch. */
  mtime: number;
  /** What kind of layer, e.g. `app`; part of the key. */
  kind: string;
}

/**
 * Computes a layer's cache key.
 *
 * @param entries The layer's entries (any order).
 * @param options Options that shape the bytes.
 * @param files Digest source for project files (stat fast path).
 * @returns A hex key.
 *
 * @example
 * ```ts ignore
 * const key = await layerKey(entries, { mtime: 0, kind: "app" }, fileDigests);
 * ```
 */
export async function layerKey(
  entries: readonly LayerEntry[],
  options: LayerKeyOptions,
  files: FileDigests,
): Promise<string> {
  const ordered = normalizeEntries(entries);
  const parts = await mapLimit(ordered, 8, async (e) => {
    if (e.type === "dir") return `d\0${e.path}`;
    if (e.type === "symlink") return `l\0${e.path}\0${e.target}`;
    return `f\0${e.path}\0${e.mode.toString(8)}\0${await contentKey(e.content, files)}`;
  });
  const hash = createSha256();
  const enc = new TextEncoder();
  // The compression parameters shape the blob's bytes too.
  const format = `gzip:${GZIP_LEVEL}:${GZIP_BLOCK_SIZE}`;
  hash.update(
    enc.encode(`pycontainer-layer\0${VERSION}\0${format}\0${options.kind}\0${options.mtime}\n`),
  );
  for (const part of parts) hash.update(enc.encode(`${part}\n`));
  return hash.digestHex();
}

async function contentKey(
  content: Extract<LayerEntry, { type: "file" }>["content"],
  files: FileDigests,
): Promise<string> {
  if (content.kind === "bytes") return `sha256:${sha256Hex(content.bytes)}`;
  // Content-stable identities (a wheel's digest + member name) are keys already.
  if (content.identity && !content.identity.startsWith("file:")) return content.identity;
  return `sha256:${await files.digest(content)}`;
}

async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (t: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** A cached layer: its digests and sizes. */
export type CachedLayer = LayerDigests;

/**
 * Layer records under `<cacheDir>/layers/`.
 *
 * @example
 * ```ts ignore
 * const cache = new LayerCache("/home/me/.cache/pycontainer");
 * const hit = await cache.get(key);
 * ```
 */
export class LayerCache {
  readonly #dir: string;

  /**
   * @param cacheDir The cache root.
   */
  constructor(cacheDir: string) {
    this.#dir = join(cacheDir, "layers");
  }

  /**
   * Looks a key up.
   *
   * @param key From {@linkcode layerKey}.
   * @returns The record, or undefined.
   */
  async get(key: string): Promise<CachedLayer | undefined> {
    try {
      const path = join(this.#dir, `${key}.json`);
      const r = JSON.parse(await readFile(path, "utf8")) as CachedLayer;
      const ok = /^sha256:[0-9a-f]{64}$/.test(r.digest) && /^sha256:[0-9a-f]{64}$/.test(r.diffId) &&
        Number.isSafeInteger(r.size) && Number.isSafeInteger(r.uncompressedSize);
      if (ok) await markUsed(path); // records are evicted by use time, like blobs
      return ok ? r : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Looks up a set of layers recorded under one key (e.g. all dependency layers of a lock).
   *
   * @param key A key covering every input of the whole set.
   * @returns The layers with their names, or undefined.
   */
  async getSet(key: string): Promise<(CachedLayer & { name: string })[] | undefined> {
    try {
      const r = JSON.parse(await readFile(join(this.#dir, `${key}.set.json`), "utf8"));
      const ok = Array.isArray(r) &&
        r.every((l) =>
          typeof l?.name === "string" && /^sha256:[0-9a-f]{64}$/.test(l.digest) &&
          /^sha256:[0-9a-f]{64}$/.test(l.diffId) && Number.isSafeInteger(l.size)
        );
      return ok ? r : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Records a set of layers under one key (after their blobs are in the store).
   *
   * @param key The set's key.
   * @param layers The layers, bottom first.
   * @returns Resolves when written.
   */
  async putSet(key: string, layers: (CachedLayer & { name: string })[]): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
    await writeFileAtomic(join(this.#dir, `${key}.set.json`), JSON.stringify(layers));
  }

  /**
   * Records a layer (after its blob is in the store).
   *
   * @param key From {@linkcode layerKey}.
   * @param layer Its digests.
   * @returns Resolves when written.
   */
  async put(key: string, layer: CachedLayer): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
    await writeFileAtomic(join(this.#dir, `${key}.json`), JSON.stringify(layer));
  }
}
