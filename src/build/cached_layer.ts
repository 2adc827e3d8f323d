/**
 * One layer through the layer cache: reuse the stored blob and digests when the layer's key (see
 * `src/cache/layer_cache.ts`) is known and its blob is still in the store; otherwise write the
 * layer into the store (tar → gzip → digests in one pass) and record it.
 *
 * @module
 */
import type { FileDigests } from "../cache/file_digests.ts";
import { LayerCache, layerKey } from "../cache/layer_cache.ts";
import type { NewLayer } from "../image/compose.ts";
import type { LayerEntry } from "../layer/entry.ts";
import { writeLayer } from "../layer/tar_writer.ts";
import { MediaType } from "../oci/media_types.ts";
import type { BlobStore } from "../store/blob_store.ts";
import type { BuildEventSink } from "./events.ts";

/** A layer to build: what it is called, what kind (part of the key), and its entries. */
export interface LayerSpec {
  /** Shown in progress and history, e.g. `app files`. */
  name: string;
  /** Part of the cache key, e.g. `app`, `deps`. */
  kind: string;
  /** The entries. */
  entries: LayerEntry[];
}

/**
 * Builds a layer, or reuses the cached blob when nothing that shapes its bytes changed.
 *
 * @param store The blob store the layer blob goes into.
 * @param files File digests (stat fast path) for the cache key.
 * @param epoch File mtime in seconds.
 * @param layer Name, kind and entries.
 * @param emit Progress (`layer` event: built or cached).
 * @returns The layer for the image config and manifest.
 *
 * @example
 * ```ts ignore
 * const layer = await cachedLayer(store, files, 0, { name: "app files", kind: "app", entries }, emit);
 * ```
 */
export async function cachedLayer(
  store: BlobStore,
  files: FileDigests,
  epoch: number,
  layer: LayerSpec,
  emit: BuildEventSink,
): Promise<NewLayer> {
  const cache = new LayerCache(store.root);
  const key = await layerKey(layer.entries, { mtime: epoch, kind: layer.kind }, files);
  const createdBy = `pycontainer: ${layer.name}`;
  const hit = await cache.get(key);
  if (hit) {
    const descriptor = { mediaType: MediaType.ociLayerGzip, digest: hit.digest, size: hit.size };
    if (await store.has(descriptor)) {
      emit({
        type: "layer",
        name: layer.name,
        digest: hit.digest,
        size: hit.size,
        state: "cached",
      });
      return { diffId: hit.diffId, descriptor, createdBy };
    }
  }
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const [digests, descriptor] = await Promise.all([
    writeLayer(layer.entries, writable, { mtime: epoch }),
    store.put(readable, MediaType.ociLayerGzip),
  ]);
  await cache.put(key, digests).catch(() => {});
  emit({
    type: "layer",
    name: layer.name,
    digest: digests.digest,
    size: digests.size,
    state: "built",
  });
  return { diffId: digests.diffId, descriptor, createdBy };
}
