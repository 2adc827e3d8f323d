/**
 * The blob source: anything that can hand out blobs by descriptor — a registry-backed cache, an
 * OCI layout on disk, bytes held in memory (a freshly made config or manifest), or several of
 * those chained. Writers (OCI layout, docker-archive, registry push) consume a source and never
 * care where blobs live; that is what lets a base image's layers be copied into the output
 * without being decompressed or held in memory.
 *
 * @module
 */
import { PycontainerError } from "../errors.ts";
import { digestOf } from "../oci/digest.ts";
import type { Descriptor } from "../oci/types.ts";
import { readVerified } from "./verify_stream.ts";

/** Hands out blobs by descriptor. */
export interface BlobSource {
  /**
   * Tells whether this source can provide the blob (without fetching it).
   * @param descriptor The blob.
   * @returns True when {@linkcode BlobSource.open} will find it.
   */
  has(descriptor: Descriptor): Promise<boolean>;
  /**
   * Opens the blob's bytes. Consumers that need certainty verify with `verifyStream`.
   * @param descriptor The blob.
   * @returns A stream of exactly the blob's bytes.
   */
  open(descriptor: Descriptor): Promise<ReadableStream<Uint8Array>>;
  /**
   * Optional fast path: a local file that holds the blob, already verified, so a writer can copy
   * it with the OS instead of streaming it.
   * @param descriptor The blob.
   * @returns The file path, or undefined when the blob isn't (yet) a local verified file.
   */
  localPath?(descriptor: Descriptor): Promise<string | undefined>;
  /**
   * Optional: make the blob ready to read when producing it takes a while (a deferred layer is
   * built now), so a push does that before opening an upload session rather than while the
   * registry waits on it.
   * @param descriptor The blob.
   * @returns When the blob can be opened without delay.
   */
  prepare?(descriptor: Descriptor): Promise<void>;
}

/**
 * A source holding blobs in memory (configs, manifests, indexes just produced).
 *
 * @param blobs The blobs' bytes; their digests are computed here.
 * @returns The source.
 *
 * @example
 * ```ts
 * import { memoryBlobSource } from "./blob_source.ts";
 * import { describeBytes } from "../oci/digest.ts";
 * const bytes = new TextEncoder().encode("{}");
 * const source = memoryBlobSource([bytes]);
 * console.assert(await source.has(describeBytes(bytes, "application/json")));
 * ```
 */
export function memoryBlobSource(blobs: Iterable<Uint8Array>): BlobSource {
  const byDigest = new Map<string, Uint8Array>();
  for (const b of blobs) byDigest.set(digestOf(b), b);
  return {
    has: (d) => Promise.resolve(byDigest.has(d.digest)),
    open(d) {
      const bytes = byDigest.get(d.digest);
      if (!bytes) return Promise.reject(missingBlobError(d, "memory"));
      return Promise.resolve(new Blob([bytes as Uint8Array<ArrayBuffer>]).stream());
    },
  };
}

/**
 * Chains sources: each blob comes from the first source that has it.
 *
 * @param sources The sources, in order of preference.
 * @returns The combined source.
 *
 * @example
 * ```ts
 * import { chainBlobSources, memoryBlobSource } from "./blob_source.ts";
 * const source = chainBlobSources(memoryBlobSource([]), memoryBlobSource([new Uint8Array([1])]));
 * console.assert(typeof source.open === "function");
 * ```
 */
export function chainBlobSources(...sources: BlobSource[]): BlobSource {
  const pick = async (d: Descriptor): Promise<BlobSource | undefined> => {
    for (const s of sources) if (await s.has(d)) return s;
    return undefined;
  };
  return {
    has: async (d) => (await pick(d)) !== undefined,
    async open(d) {
      const s = await pick(d);
      if (!s) throw missingBlobError(d, "any source");
      return s.open(d);
    },
    async localPath(d) {
      const s = await pick(d);
      return s?.localPath ? s.localPath(d) : undefined;
    },
    async prepare(d) {
      await (await pick(d))?.prepare?.(d);
    },
  };
}

/**
 * Reads a whole small blob (manifest, config) from a source, verifying size and digest.
 *
 * @param source The source.
 * @param descriptor The blob.
 * @param what Where it comes from, for messages.
 * @returns The bytes.
 *
 * @example
 * ```ts
 * import { memoryBlobSource, readBlob } from "./blob_source.ts";
 * import { describeBytes } from "../oci/digest.ts";
 * const bytes = new TextEncoder().encode("{}");
 * const back = await readBlob(memoryBlobSource([bytes]), describeBytes(bytes, "application/json"), "memory");
 * console.assert(back.length === 2);
 * ```
 */
export async function readBlob(
  source: BlobSource,
  descriptor: Descriptor,
  what: string,
): Promise<Uint8Array> {
  return readVerified(await source.open(descriptor), descriptor, what);
}

/**
 * The error for a blob a source doesn't have.
 *
 * @param descriptor The missing blob.
 * @param where The source's name.
 * @returns The error, to be thrown.
 *
 * @example
 * ```ts
 * import { missingBlobError } from "./blob_source.ts";
 * const e = missingBlobError({ mediaType: "x", digest: "sha256:" + "a".repeat(64), size: 1 }, "memory");
 * console.assert(e.message.includes("not found"));
 * ```
 */
export function missingBlobError(descriptor: Descriptor, where: string): PycontainerError {
  return new PycontainerError(
    `blob ${descriptor.digest} (${descriptor.mediaType}) not found in ${where}`,
  );
}
