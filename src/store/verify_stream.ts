/**
 * Digest and size verification of blobs while they stream, so a blob is never read twice:
 * the bytes pass through unchanged, are hashed on the way, and the stream errors at the end
 * (or as soon as too many bytes arrive) when they don't match the descriptor. Every blob that
 * comes from a registry, a cache or an OCI layout goes through here before it is trusted.
 *
 * @module
 */
import { PycontainerError } from "../errors.ts";
import { createSha256 } from "../runtime/sha256.ts";
import type { Descriptor } from "../oci/types.ts";

/** What a digest check found wrong. */
export class DigestMismatchError extends PycontainerError {
  /** The digest the descriptor promised. */
  readonly expected: string;
  /**
   * Makes the error.
   *
   * @param message One line naming the blob and where it came from.
   * @param expected The digest the descriptor promised.
   * @param hint What to do.
   */
  constructor(message: string, expected: string, hint: string) {
    super(message, { hint });
    this.name = "DigestMismatchError";
    this.expected = expected;
  }
}

/**
 * Wraps a stream so it yields the same bytes and fails unless they have exactly the
 * descriptor's size and digest.
 *
 * @param stream The blob's bytes.
 * @param descriptor What they must be.
 * @param source Where they come from, for the message (e.g. `registry localhost:5000`).
 * @returns The verifying stream; it errors with {@linkcode DigestMismatchError}.
 *
 * @example
 * ```ts
 * import { verifyStream } from "./verify_stream.ts";
 * const d = { mediaType: "x", size: 2, digest: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a" };
 * const bytes = await new Response(verifyStream(new Blob(["{}"]).stream(), d, "memory")).arrayBuffer();
 * console.assert(bytes.byteLength === 2);
 * ```
 */
export function verifyStream(
  stream: ReadableStream<Uint8Array>,
  descriptor: Descriptor,
  source: string,
): ReadableStream<Uint8Array> {
  const hash = createSha256();
  let size = 0;
  const mismatch = (why: string) =>
    new DigestMismatchError(
      `blob ${descriptor.digest} from ${source} is corrupt: ${why}`,
      descriptor.digest,
      "retry the build; if it persists, the source is serving bad data",
    );
  return stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        size += chunk.byteLength;
        if (size > descriptor.size) {
          controller.error(mismatch(`more than the expected ${descriptor.size} bytes`));
          return;
        }
        hash.update(chunk);
        controller.enqueue(chunk);
      },
      flush(controller) {
        if (size !== descriptor.size) {
          controller.error(mismatch(`got ${size} bytes, expected ${descriptor.size}`));
          return;
        }
        const digest = `sha256:${hash.digestHex()}`;
        if (digest !== descriptor.digest) {
          controller.error(mismatch(`content has digest ${digest}`));
        }
      },
    }),
  );
}

/**
 * Reads a whole (small) blob into memory, verifying it.
 *
 * @param stream The blob's bytes.
 * @param descriptor What they must be.
 * @param source Where they come from, for messages.
 * @returns The bytes.
 * @throws {DigestMismatchError} When size or digest differ.
 *
 * @example
 * ```ts
 * import { readVerified } from "./verify_stream.ts";
 * const d = { mediaType: "x", size: 2, digest: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a" };
 * console.assert((await readVerified(new Blob(["{}"]).stream(), d, "memory")).length === 2);
 * ```
 */
export async function readVerified(
  stream: ReadableStream<Uint8Array>,
  descriptor: Descriptor,
  source: string,
): Promise<Uint8Array> {
  const reader = verifyStream(stream, descriptor, source).getReader();
  const out = new Uint8Array(descriptor.size);
  let offset = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    out.set(value, offset);
    offset += value.byteLength;
  }
  return out;
}
