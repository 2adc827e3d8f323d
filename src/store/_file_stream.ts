/**
 * Files as Web Streams, on `node:fs/promises` only, so the same code runs on Deno, Bun and Node
 * (Node 20's `FileHandle.readableWebStream` is experimental and Deno's differs). Reads use 1 MiB
 * buffers; writes go chunk by chunk, so memory stays flat whatever the blob size.
 *
 * @module
 */
import { open } from "node:fs/promises";

const CHUNK = 1 << 20;

/**
 * Opens a file and returns a stream of its bytes. The file is opened before this resolves, so a
 * missing file fails here rather than on the first read.
 *
 * @param path The file.
 * @returns A stream that closes the file when done or cancelled.
 *
 * @example
 * ```ts
 * import { openFileStream } from "./_file_stream.ts";
 * const stream = await openFileStream("deno.json");
 * await stream.cancel();
 * ```
 */
export async function openFileStream(path: string): Promise<ReadableStream<Uint8Array>> {
  const fh = await open(path, "r");
  let closed = false;
  const close = async () => {
    if (!closed) {
      closed = true;
      await fh.close();
    }
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const buf = new Uint8Array(CHUNK);
        const { bytesRead } = await fh.read(buf, 0, CHUNK, null);
        if (bytesRead === 0) {
          await close();
          controller.close();
          return;
        }
        controller.enqueue(bytesRead === CHUNK ? buf : buf.subarray(0, bytesRead));
      } catch (e) {
        await close().catch(() => {});
        controller.error(e);
      }
    },
    async cancel() {
      await close();
    },
  }, { highWaterMark: 2 });
}

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
