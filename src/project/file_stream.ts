/**
 * A Web `ReadableStream` over a file on disk, opened lazily. Built by hand on `node:fs/promises`
 * `open`/`read` rather than `Readable.toWeb(createReadStream())`, because the hand-made stream
 * behaves the same on Deno, Bun and Node (the `toWeb` adapters differ in chunking and in how they
 * surface errors) and keeps memory flat: one 64 KiB buffer per open file, pulled on demand.
 *
 * @module
 */

import { open } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";

const _CHUNK = 64 * 1024;

/**
 * Opens a pull-based byte stream of a file. Nothing is opened until the first read; the file
 * handle is closed at end of file, on error and on cancel.
 *
 * @param path Absolute path of the file.
 * @returns A stream of the file's bytes, in chunks of at most 64 KiB.
 *
 * @example Reading a file to the end
 * ```ts
 * import { openFileStream } from "./file_stream.ts";
 * let size = 0;
 * for await (const chunk of openFileStream("deno.json")) size += chunk.byteLength;
 * console.assert(size > 0);
 * ```
 */
export function openFileStream(path: string): ReadableStream<Uint8Array> {
  let handle: FileHandle | undefined;
  const close = async () => {
    const h = handle;
    handle = undefined;
    if (h !== undefined) await h.close();
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        handle ??= await open(path, "r");
        const buffer = new Uint8Array(_CHUNK);
        const { bytesRead } = await handle.read(buffer, 0, _CHUNK, null);
        if (bytesRead === 0) {
          await close();
          controller.close();
        } else {
          controller.enqueue(buffer.subarray(0, bytesRead));
        }
      } catch (err) {
        await close().catch(() => {});
        controller.error(err);
      }
    },
    async cancel() {
      await close();
    },
  }, { highWaterMark: 0 });
}
