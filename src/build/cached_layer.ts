/**
 * One layer through the layer cache: reuse the stored blob and digests when the layer's key (see
 * `src/cache/layer_cache.ts`) is known and its blob is still in the store; otherwise write the
 * layer into the store (tar → gzip → digests in one pass) and record it.
 *
 * When the build goes to a registry (`deferred` given), a known layer whose blob is gone is not
 * rebuilt now: its recorded digests go into the manifest and the rebuild is registered with
 * {@linkcode DeferredBlobs}, to run only if the push finds the registry lacks the blob.
 *
 * @module
 */
import type { FileDigests } from "../cache/file_digests.ts";
import { LayerCache, layerKey } from "../cache/layer_cache.ts";
import type { NewLayer } from "../image/compose.ts";
import type { LayerEntry } from "../layer/entry.ts";
import { type LayerDigests, writeLayer } from "../layer/tar_writer.ts";
import { MediaType } from "../oci/media_types.ts";
import type { Descriptor } from "../oci/types.ts";
import type { BlobStore } from "../store/blob_store.ts";
import type { DeferredBlobs } from "./deferred_blobs.ts";
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

/** Where layers are built and cached during one build. */
export interface LayerContext {
  /** The blob store layer blobs go into. */
  store: BlobStore;
  /** File digests (stat fast path) for cache keys. */
  files: FileDigests;
  /** File mtime in seconds. */
  epoch: number;
  /** Progress (`layer` events: built, cached or deferred). */
  emit: BuildEventSink;
  /** When set, known layers whose blob is gone are deferred here instead of rebuilt. */
  deferred?: DeferredBlobs;
}

/**
 * Builds a layer, or reuses the cached blob when nothing that shapes its bytes changed.
 *
 * @param ctx Store, file digests, epoch, progress and (for registry builds) the deferred set.
 * @param layer Name, kind and entries.
 * @returns The layer for the image config and manifest.
 *
 * @example
 * ```ts ignore
 * const layer = await cachedLayer({ store, files, epoch: 0, emit }, { name: "app files", kind: "app", entries });
 * ```
 */
export async function cachedLayer(ctx: LayerContext, layer: LayerSpec): Promise<NewLayer> {
  const cache = new LayerCache(ctx.store.root);
  const key = await layerKey(layer.entries, { mtime: ctx.epoch, kind: layer.kind }, ctx.files);
  const hit = await cache.get(key);
  if (hit) {
    const descriptor = layerDescriptor(hit);
    if (await ctx.store.has(descriptor)) {
      return knownLayer(ctx, layer.name, hit, "cached");
    }
    if (ctx.deferred) {
      ctx.deferred.defer(
        descriptor,
        layer.name,
        async () => (await writeIntoStore(ctx, cache, key, layer)).digest,
      );
      return knownLayer(ctx, layer.name, hit, "deferred");
    }
  }
  const digests = await writeIntoStore(ctx, cache, key, layer);
  return knownLayer(ctx, layer.name, digests, "built");
}

/**
 * A layer whose digests are known, reported as built, reused or deferred.
 *
 * @param ctx Where the event goes.
 * @param name What the layer holds.
 * @param digests Its digests and size.
 * @param state What happened to it in this build.
 * @returns The layer for the image config and manifest.
 *
 * @example
 * ```ts ignore
 * const layer = knownLayer(ctx, "dependencies", record, "cached");
 * ```
 */
export function knownLayer(
  ctx: Pick<LayerContext, "emit">,
  name: string,
  digests: Pick<LayerDigests, "digest" | "diffId" | "size">,
  state: "built" | "cached" | "deferred",
): NewLayer {
  ctx.emit({ type: "layer", name, digest: digests.digest, size: digests.size, state });
  return {
    diffId: digests.diffId,
    descriptor: layerDescriptor(digests),
    createdBy: `pycontainer: ${name}`,
  };
}

/**
 * The descriptor of a gzip layer blob.
 *
 * @param digests The blob's digest and size.
 * @returns An OCI gzip layer descriptor.
 *
 * @example
 * ```ts
 * import { layerDescriptor } from "./cached_layer.ts";
 * const d = layerDescriptor({ digest: "sha256:" + "0".repeat(64), size: 10 });
 * console.assert(d.mediaType.endsWith("tar+gzip"));
 * ```
 */
export function layerDescriptor(digests: { digest: string; size: number }): Descriptor {
  return { mediaType: MediaType.ociLayerGzip, digest: digests.digest, size: digests.size };
}

async function writeIntoStore(
  ctx: LayerContext,
  cache: LayerCache,
  key: string,
  layer: LayerSpec,
): Promise<LayerDigests> {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const [digests] = await Promise.all([
    writeLayer(layer.entries, writable, { mtime: ctx.epoch }),
    ctx.store.put(readable, MediaType.ociLayerGzip),
  ]);
  await cache.put(key, digests).catch(() => {});
  return digests;
}
