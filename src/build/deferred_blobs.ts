/**
 * Layers known but not materialised (ko's KOCACHE idea). When a build's result goes to a
 * registry rather than to an OCI layout, a layer whose cache record is still there but whose
 * blob is not (evicted, or a CI cache that keeps only the small records) need not be rebuilt up
 * front: its digest, diff_id and size are known, which is all the image config and manifest
 * need. The push then asks the registry first (HEAD, cross-repository mount); only a blob the
 * registry lacks is opened, and opening it is what builds it — once, into the blob store, with
 * the rebuilt digest checked against the recorded one.
 *
 * This source sits in the build's blob chain after the store, so a blob that is (or becomes)
 * present in the store is always read from there.
 *
 * @module
 */
import { PycontainerError } from "../errors.ts";
import type { Descriptor } from "../oci/types.ts";
import { type BlobSource, missingBlobError } from "../store/blob_source.ts";
import type { BlobStore } from "../store/blob_store.ts";

/** Builds a deferred blob into the store; resolves with the digest it actually produced. */
export type Materialize = () => Promise<string>;

/**
 * Deferred layers of one build, by digest: a {@linkcode BlobSource} whose `open` materialises.
 *
 * @example
 * ```ts ignore
 * const deferred = new DeferredBlobs(store);
 * deferred.defer(descriptor, "app files", () => rebuildIntoStore());
 * const stream = await deferred.open(descriptor); // rebuilds only now
 * ```
 */
export class DeferredBlobs implements BlobSource {
  readonly #store: BlobStore;
  readonly #pending = new Map<string, { name: string; materialize: Materialize }>();
  readonly #running = new Map<string, Promise<void>>();

  /**
   * @param store The blob store materialised blobs are written into and read from.
   */
  constructor(store: BlobStore) {
    this.#store = store;
  }

  /**
   * Registers a layer to build only if a consumer opens it.
   *
   * @param descriptor The layer blob as recorded (digest and size).
   * @param name What the layer holds, for messages, e.g. `app files`.
   * @param materialize Writes the blob into the store; returns the digest it produced.
   *
   * @example
   * ```ts ignore
   * deferred.defer(layer.descriptor, "dependencies", () => installAndWrite());
   * ```
   */
  defer(descriptor: Descriptor, name: string, materialize: Materialize): void {
    this.#pending.set(descriptor.digest, { name, materialize });
  }

  /**
   * The digests registered so far (materialised or not).
   *
   * @returns Digests, in registration order.
   *
   * @example
   * ```ts ignore
   * console.log(deferred.digests().length);
   * ```
   */
  digests(): string[] {
    return [...this.#pending.keys()];
  }

  /**
   * Whether this source can provide the blob (it was deferred).
   *
   * @param descriptor The blob.
   * @returns True for a deferred layer.
   */
  has(descriptor: Descriptor): Promise<boolean> {
    return Promise.resolve(this.#pending.has(descriptor.digest));
  }

  /**
   * Builds the blob into the store (once, however many consumers ask) and opens it there.
   *
   * @param descriptor The blob.
   * @returns Its bytes.
   * @throws {PycontainerError} When it was not deferred, or the rebuild gave another digest.
   */
  async open(descriptor: Descriptor): Promise<ReadableStream<Uint8Array>> {
    await this.#materialize(descriptor);
    return this.#store.open(descriptor);
  }

  /**
   * Builds the blob into the store (once) and returns the store's file for it.
   *
   * @param descriptor The blob.
   * @returns The verified local file.
   */
  async localPath(descriptor: Descriptor): Promise<string | undefined> {
    await this.#materialize(descriptor);
    return this.#store.localPath(descriptor);
  }

  /**
   * Builds the blob into the store (once), so a push does it before opening an upload session.
   *
   * @param descriptor The blob.
   * @returns When the blob is in the store.
   */
  prepare(descriptor: Descriptor): Promise<void> {
    return this.#materialize(descriptor);
  }

  #materialize(descriptor: Descriptor): Promise<void> {
    const pending = this.#pending.get(descriptor.digest);
    if (!pending) return Promise.reject(missingBlobError(descriptor, "the deferred layers"));
    let running = this.#running.get(descriptor.digest);
    if (!running) {
      running = (async () => {
        if (await this.#store.has(descriptor)) return;
        const produced = await pending.materialize();
        if (produced !== descriptor.digest) {
          throw new PycontainerError(
            `layer "${pending.name}" rebuilt as ${produced}, but the layer cache recorded ${descriptor.digest}`,
            {
              hint:
                "a file changed during the build, or the cache is damaged: run `pycontainer cache clear` and build again",
            },
          );
        }
      })();
      this.#running.set(descriptor.digest, running);
      running.catch(() => this.#running.delete(descriptor.digest));
    }
    return running;
  }
}
