/**
 * The content-addressed blob cache: `<cache>/blobs/sha256/<hex>`, shared by every build on the
 * machine. A blob is written under a temporary name, its digest and size verified while it
 * streams in, and only then renamed into place — so a file under its digest's name is always
 * complete and was correct when written. Reads check the size (cheap); {@linkcode BlobStore.verify}
 * re-hashes a file when a caller wants certainty (e.g. once per process for a base layer).
 *
 * @module
 */
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { PycontainerError } from "../errors.ts";
import { digestHex } from "../oci/digest.ts";
import type { Descriptor } from "../oci/types.ts";
import { createSha256 } from "../runtime/sha256.ts";
import type { BlobSource } from "./blob_source.ts";
import { missingBlobError } from "./blob_source.ts";
import { defaultCacheDir } from "./cache_dir.ts";
import { tempPathFor } from "./atomic.ts";
import { openFileStream, writeStreamToFile } from "./_file_stream.ts";
import { verifyStream } from "./verify_stream.ts";
import { markUsed } from "./use_time.ts";

/**
 * A directory of blobs named by digest.
 *
 * @example Storing and reading back a blob
 * ```ts
 * import { BlobStore } from "./blob_store.ts";
 * import { tmpdir } from "node:os";
 * const store = new BlobStore(`${tmpdir()}/blobs-${crypto.randomUUID()}`);
 * const d = await store.put(new Blob(["hello"]).stream(), "text/plain");
 * console.assert(await store.has(d));
 * ```
 */
export class BlobStore implements BlobSource {
  /** The cache root (blobs live under `blobs/sha256/`). */
  readonly root: string;
  readonly #dir: string;

  /**
   * Opens (lazily) a blob store.
   *
   * @param root The cache root directory; created on first write.
   */
  constructor(root: string) {
    this.root = root;
    this.#dir = join(root, "blobs", "sha256");
  }

  /**
   * The store in the default cache directory ({@linkcode defaultCacheDir}).
   *
   * @param env Environment variables (default: the process environment).
   * @returns The store.
   *
   * @example
   * ```ts
   * import { BlobStore } from "./blob_store.ts";
   * console.assert(BlobStore.default({ PYCONTAINER_CACHE_DIR: "/tmp/c" }).root === "/tmp/c");
   * ```
   */
  static default(env?: Record<string, string | undefined>): BlobStore {
    return new BlobStore(defaultCacheDir(env));
  }

  /**
   * The file a blob lives in (whether or not it exists).
   *
   * @param digest The blob's digest.
   * @returns The absolute path.
   *
   * @example
   * ```ts
   * import { BlobStore } from "./blob_store.ts";
   * console.assert(new BlobStore("/c").path("sha256:" + "a".repeat(64)).endsWith("a".repeat(64)));
   * ```
   */
  path(digest: string): string {
    return join(this.#dir, digestHex(digest));
  }

  /**
   * Tells whether the blob is present with the right size.
   *
   * @param descriptor The blob.
   * @returns True when the file exists and has the descriptor's size.
   *
   * @example
   * ```ts
   * import { BlobStore } from "./blob_store.ts";
   * console.assert(!(await new BlobStore("/nonexistent").has({ mediaType: "x", digest: "sha256:" + "a".repeat(64), size: 1 })));
   * ```
   */
  async has(descriptor: Descriptor): Promise<boolean> {
    const path = this.path(descriptor.digest);
    const s = await stat(path).catch(() => undefined);
    const found = s !== undefined && s.isFile() && s.size === descriptor.size;
    if (found) await markUsed(path);
    return found;
  }

  /**
   * Opens a stored blob; the size is checked up front, the digest is not (see {@linkcode verify}).
   *
   * @param descriptor The blob.
   * @returns A stream of its bytes.
   * @throws {PycontainerError} When the blob is missing or has the wrong size.
   *
   * @example
   * ```ts
   * import { BlobStore } from "./blob_store.ts";
   * import { tmpdir } from "node:os";
   * const store = new BlobStore(`${tmpdir()}/blobs-${crypto.randomUUID()}`);
   * const d = await store.put(new Blob(["hi"]).stream(), "text/plain");
   * console.assert(await new Response(await store.open(d)).text() === "hi");
   * ```
   */
  async open(descriptor: Descriptor): Promise<ReadableStream<Uint8Array>> {
    const path = this.path(descriptor.digest);
    const s = await stat(path).catch(() => undefined);
    if (!s) throw missingBlobError(descriptor, `the blob cache ${this.root}`);
    if (s.size !== descriptor.size) {
      throw new PycontainerError(
        `cached blob ${descriptor.digest} in ${this.root} has ${s.size} bytes, expected ${descriptor.size}`,
        { hint: `delete ${path} and run again` },
      );
    }
    return openFileStream(path);
  }

  /**
   * The file holding a blob, when it is present with the right size.
   *
   * @param descriptor The blob.
   * @returns The path, or undefined.
   *
   * @example
   * ```ts
   * import { BlobStore } from "./blob_store.ts";
   * console.assert(await new BlobStore("/nonexistent").localPath({ mediaType: "x", digest: "sha256:" + "a".repeat(64), size: 1 }) === undefined);
   * ```
   */
  async localPath(descriptor: Descriptor): Promise<string | undefined> {
    return (await this.has(descriptor)) ? this.path(descriptor.digest) : undefined;
  }

  /**
   * Stores a blob whose descriptor is known, verifying size and digest as it streams in.
   * Nothing is left behind when verification fails.
   *
   * @param descriptor What the bytes must be.
   * @param stream The bytes.
   * @param source Where they come from, for the mismatch message.
   * @returns The path of the stored blob.
   * @throws {DigestMismatchError} When the bytes don't match.
   *
   * @example
   * ```ts
   * import { BlobStore } from "./blob_store.ts";
   * import { describeBytes } from "../oci/digest.ts";
   * import { tmpdir } from "node:os";
   * const store = new BlobStore(`${tmpdir()}/blobs-${crypto.randomUUID()}`);
   * const bytes = new TextEncoder().encode("{}");
   * await store.write(describeBytes(bytes, "application/json"), new Blob([bytes]).stream(), "memory");
   * ```
   */
  async write(
    descriptor: Descriptor,
    stream: ReadableStream<Uint8Array>,
    source: string,
  ): Promise<string> {
    const path = this.path(descriptor.digest);
    await mkdir(this.#dir, { recursive: true });
    const temp = tempPathFor(path);
    try {
      await writeStreamToFile(verifyStream(stream, descriptor, source), temp);
      await rename(temp, path);
    } catch (e) {
      await rm(temp, { force: true }).catch(() => {});
      throw e;
    }
    return path;
  }

  /**
   * Stores a blob whose digest is not known yet (a freshly built layer), computing it on the way.
   *
   * @param stream The bytes.
   * @param mediaType The media type for the returned descriptor.
   * @returns The blob's descriptor.
   *
   * @example
   * ```ts
   * import { BlobStore } from "./blob_store.ts";
   * import { tmpdir } from "node:os";
   * const store = new BlobStore(`${tmpdir()}/blobs-${crypto.randomUUID()}`);
   * const d = await store.put(new Blob(["x"]).stream(), "application/octet-stream");
   * console.assert(d.size === 1);
   * ```
   */
  async put(stream: ReadableStream<Uint8Array>, mediaType: string): Promise<Descriptor> {
    await mkdir(this.#dir, { recursive: true });
    const temp = tempPathFor(join(this.#dir, "put"));
    try {
      const hash = createSha256();
      const size = await writeStreamToFile(stream, temp, (c) => hash.update(c));
      const digest = `sha256:${hash.digestHex()}`;
      await rename(temp, this.path(digest));
      return { mediaType, digest, size };
    } catch (e) {
      await rm(temp, { force: true }).catch(() => {});
      throw e;
    }
  }

  /**
   * Re-hashes a stored blob and tells whether it still matches its descriptor.
   *
   * @param descriptor The blob.
   * @returns True when present with the right size and digest.
   *
   * @example
   * ```ts
   * import { BlobStore } from "./blob_store.ts";
   * import { tmpdir } from "node:os";
   * const store = new BlobStore(`${tmpdir()}/blobs-${crypto.randomUUID()}`);
   * const d = await store.put(new Blob(["x"]).stream(), "text/plain");
   * console.assert(await store.verify(d));
   * ```
   */
  async verify(descriptor: Descriptor): Promise<boolean> {
    if (!(await this.has(descriptor))) return false;
    const hash = createSha256();
    const reader = (await openFileStream(this.path(descriptor.digest))).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      hash.update(value);
    }
    return `sha256:${hash.digestHex()}` === descriptor.digest;
  }

  /**
   * Removes a blob (no error when absent).
   *
   * @param digest The blob's digest.
   * @returns Resolves when gone.
   *
   * @example
   * ```ts
   * import { BlobStore } from "./blob_store.ts";
   * await new BlobStore("/nonexistent").remove("sha256:" + "a".repeat(64));
   * ```
   */
  async remove(digest: string): Promise<void> {
    await rm(this.path(digest), { force: true });
  }
}
