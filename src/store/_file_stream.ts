/**
 * Writing Web Streams to files, on `node:fs/promises` only, so the same code runs on Deno, Bun
 * and Node; writes go chunk by chunk, so memory stays flat whatever the blob size. (Reading is
 * `src/runtime/file_stream.ts`, re-exported here for the store's modules.)
 *
 * @module
 */
import { open } from "node:fs/promises";

export { openFileStream } from "../runtime/file_stream.ts";

/**
 * Writes a stream to a new file (failing if it exists), chunk by chunk, and flushes it to disk.
 * On failure the partial file is left for the caller to remove (or to resume).
 *
 * @param stream The bytes.
 * @param path The file to create.
 * @param onChunk Called with each chunk before it is written (e.g. to hash it); throwing stops
 *   the write.
 * @param flags `wx` (default) to create, `w` to truncate, `a` to append to a partial file.
 * @returns The number of bytes written.
 *
 * @example
 * ```ts
 * import { writeStreamToFile } from "./_file_stream.ts";
 * import { tmpdir } from "node:os";
 * const path = `${tmpdir()}/example-${crypto.randomUUID()}`;
 * console.assert(await writeStreamToFile(new Blob(["hi"]).stream(), path) === 2);
 * ```
 */
export async function writeStreamToFile(
  stream: ReadableStream<Uint8Array>,
  path: string,
  onChunk?: (chunk: Uint8Array) => void,
  flags: "wx" | "w" | "a" = "wx",
): Promise<number> {
  const fh = await open(path, flags, 0o644);
  const reader = stream.getReader();
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      onChunk?.(value);
      let offset = 0;
      while (offset < value.byteLength) {
        const { bytesWritten } = await fh.write(value, offset, value.byteLength - offset);
        offset += bytesWritten;
      }
      size += value.byteLength;
    }
    await fh.sync();
  } catch (e) {
    await reader.cancel(e).catch(() => {});
    throw e;
  } finally {
    reader.releaseLock();
    await fh.close();
  }
  return size;
}
