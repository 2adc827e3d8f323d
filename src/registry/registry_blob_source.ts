/**
 * Blobs of a registry image, served from the local blob cache: the first build downloads each
 * blob (streamed to disk, digest verified before it gets its name), later builds read the file.
 * A cached blob is re-hashed once per process before it is first handed out; a corrupt one is
 * deleted and downloaded again instead of poisoning the image. Interrupted downloads resume
 * (see `blob_download.ts`).
 *
 * @module
 */
import type { Descriptor } from "../oci/types.ts";
import type { BlobSource } from "../store/blob_source.ts";
import { missingBlobError } from "../store/blob_source.ts";
import type { BlobStore } from "../store/blob_store.ts";
import type { RegistryClient, RepositoryRef } from "./client.ts";
import { downloadBlob } from "./blob_download.ts";

/** Options for {@linkcode registryBlobSource}. */
export interface RegistryBlobSourceOptions {
  /** Called when a blob is downloaded (not when it came from the cache). */
  onDownload?: (descriptor: Descriptor) => void;
  /** Called when a cached blob failed verification and was removed. */
  onCorrupt?: (descriptor: Descriptor) => void;
  /** Download attempts per blob, resumed ones included (default 5). */
  attempts?: number;
}

/**
 * A blob source for the blobs of one registry image, backed by the blob cache.
 *
 * @param client The registry client.
 * @param repo Where the image lives.
 * @param store The blob cache.
 * @param blobs The descriptors this source serves (the image's config and layers).
 * @param options Callbacks and attempts.
 * @returns The source; `localPath` gives the verified cache file, downloading it if needed.
 *
 * @example
 * ```ts
 * import { registryBlobSource } from "./registry_blob_source.ts";
 * import { RegistryClient } from "./client.ts";
 * import { BlobStore } from "../store/blob_store.ts";
 * const source = registryBlobSource(new RegistryClient(), { registry: "localhost:5000", repository: "x" }, new BlobStore("/tmp/c"), []);
 * console.assert(!(await source.has({ mediaType: "x", digest: "sha256:" + "a".repeat(64), size: 1 })));
 * ```
 */
export function registryBlobSource(
  client: RegistryClient,
  repo: RepositoryRef,
  store: BlobStore,
  blobs: readonly Descriptor[],
  options: RegistryBlobSourceOptions = {},
): BlobSource {
  const known = new Map(blobs.map((d) => [d.digest, d]));
  const ready = new Map<string, Promise<void>>();

  const event = (d: Descriptor, state: "download" | "downloaded" | "corrupt") =>
    client.emit({ type: "blob", ...repo, digest: d.digest, size: d.size, state });
  const download = async (d: Descriptor) => {
    event(d, "download");
    await downloadBlob(
      client,
      repo,
      d,
      store,
      options.attempts === undefined ? {} : { attempts: options.attempts },
    );
    event(d, "downloaded");
    options.onDownload?.(d);
  };

  const ensure = (d: Descriptor): Promise<void> => {
    let p = ready.get(d.digest);
    if (!p) {
      p = (async () => {
        if (await store.has(d)) {
          if (await store.verify(d)) return;
          await store.remove(d.digest);
          event(d, "corrupt");
          options.onCorrupt?.(d);
        }
        await download(d);
      })();
      p.catch(() => ready.delete(d.digest));
      ready.set(d.digest, p);
    }
    return p;
  };

  return {
    has: (d) => Promise.resolve(known.has(d.digest)),
    async open(d) {
      if (!known.has(d.digest)) throw missingBlobError(d, `${repo.registry}/${repo.repository}`);
      await ensure(d);
      return store.open(d);
    },
    async localPath(d) {
      if (!known.has(d.digest)) return undefined;
      await ensure(d);
      return store.path(d.digest);
    },
  };
}
