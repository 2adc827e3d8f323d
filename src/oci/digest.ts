/**
 * Content digests: checking their grammar, splitting them, and computing them for bytes held in
 * memory (manifests, configs). Only `sha256` is supported, as in every registry in use today;
 * a digest with another algorithm is reported as such instead of being silently mis-verified.
 * Streaming verification of blobs lives in `src/store/verify_stream.ts`.
 *
 * @module
 */
import { sha256Hex } from "../runtime/sha256.ts";
import type { Descriptor } from "./types.ts";

const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;
const ANY_DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/**
 * Tells whether a string is a well-formed `sha256:<64 lowercase hex>` digest.
 *
 * @param value The candidate.
 * @returns True for a valid sha256 digest.
 *
 * @example
 * ```ts
 * import { isSha256Digest } from "./digest.ts";
 * console.assert(isSha256Digest("sha256:" + "a".repeat(64)));
 * console.assert(!isSha256Digest("sha256:abc"));
 * ```
 */
export function isSha256Digest(value: string): boolean {
  return SHA256_DIGEST.test(value);
}

/**
 * Explains what is wrong with a digest string, or returns undefined when it is a valid sha256 digest.
 *
 * @param value The candidate digest.
 * @returns A short reason, or undefined when valid.
 *
 * @example
 * ```ts
 * import { digestProblem } from "./digest.ts";
 * console.assert(digestProblem("sha512:" + "a".repeat(128)) === "unsupported digest algorithm \"sha512\" (only sha256)");
 * ```
 */
export function digestProblem(value: string): string | undefined {
  if (SHA256_DIGEST.test(value)) return undefined;
  if (!ANY_DIGEST.test(value)) return `malformed digest "${value}"`;
  const [algorithm, hex] = value.split(":") as [string, string];
  if (algorithm !== "sha256") return `unsupported digest algorithm "${algorithm}" (only sha256)`;
  return `sha256 digest must be 64 lowercase hex characters, got ${hex.length} characters`;
}

/**
 * Returns the hex part of a sha256 digest (the file name under `blobs/sha256/`).
 *
 * @param digest A `sha256:<hex>` digest.
 * @returns The 64 hex characters.
 * @throws {TypeError} When the digest is not a valid sha256 digest.
 *
 * @example
 * ```ts
 * import { digestHex } from "./digest.ts";
 * console.assert(digestHex("sha256:" + "b".repeat(64)) === "b".repeat(64));
 * ```
 */
export function digestHex(digest: string): string {
  if (!SHA256_DIGEST.test(digest)) throw new TypeError(`not a sha256 digest: "${digest}"`);
  return digest.slice("sha256:".length);
}

/**
 * Computes the `sha256:` digest of bytes or a UTF-8 string.
 *
 * @param data The content.
 * @returns The digest, `sha256:<hex>`.
 *
 * @example
 * ```ts
 * import { digestOf } from "./digest.ts";
 * console.assert(digestOf("{}") === "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
 * ```
 */
export function digestOf(data: Uint8Array | string): string {
  return `sha256:${sha256Hex(data)}`;
}

/**
 * Makes a descriptor for bytes held in memory (a manifest or config about to be written).
 *
 * @param data The exact bytes of the blob.
 * @param mediaType Its media type.
 * @returns A descriptor with digest and size.
 *
 * @example
 * ```ts
 * import { describeBytes } from "./digest.ts";
 * const d = describeBytes(new TextEncoder().encode("{}"), "application/vnd.oci.empty.v1+json");
 * console.assert(d.size === 2);
 * ```
 */
export function describeBytes(data: Uint8Array, mediaType: string): Descriptor {
  return { mediaType, digest: digestOf(data), size: data.byteLength };
}
