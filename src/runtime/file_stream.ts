/**
 * Files as Web `ReadableStream`s, built by hand on `node:fs/promises` `open`/`read` rather than
 * `Readable.toWeb(createReadStream())` or `FileHandle.readableWebStream()`: the hand-made stream
 * behaves the same on Deno, Bun and Node (the adapters differ in chunking and in how they surface
 * errors, and Node 20's is experimental) and keeps memory flat — one buffer per open file, pulled
 * on demand. The handle is closed at end of file, on error and on cancel.
 *
 * Two ways to open: {@linkcode lazyFileStream} opens nothing until the first read (the app
 * layer lists thousands of files it may never read: a layer cache hit reads none),
 * {@linkcode openFileStream} opens at once so a missing file fails at the call.
 *
 * Read buffers are recycled when the consumer says it is done with a chunk
 * ({@linkcode releaseFileChunk}); a chunk nobody hands back is ordinary garbage. Why: a 1 GB layer
 * reads 16 384 fresh 64 KiB buffers, and V8 frees dead `ArrayBuffer`s late (it lets tens of MB
 * of them pile up), so they were the largest part of the main thread's memory. Measured on
 * Deno 2.9, `writeLayer` of 16 × 64 MiB files: peak RSS 169 → 132 MB when the layer writer hands
 * its chunks back. For the same reason blobs are read in 64 KiB chunks, not 1 MiB: a consumer
 * that drops its chunks (hashing a 256 MB blob to verify a copy) piles up fewer dead bytes
 * between collections — the 1 GB-layer build's peak RSS (`bench/rss_bench.ts`), reached while
 * the OCI layout writer verifies the copied layer, went from Deno 211 / Bun 138 / Node 162 MB to
 * 190 / 118 / 148 MB.
 *
 * @module
 */
import { open } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";

/** Free read buffers by byte length. */
const freeChunks = new Map<number, ArrayBuffer[]>();
/** Buffers handed out and not yet returned: only these may enter a free list, and only once. */
const lent = new WeakSet<ArrayBuffer>();
/** Free buffers kept per size (2 MiB of 64 KiB chunks): more than a pipeline holds at once. */
const MAX_FREE_CHUNKS = 32;

function takeChunk(size: number): Uint8Array {
  const buffer = freeChunks.get(size)?.pop() ?? new ArrayBuffer(size);
  lent.add(buffer);
  return new Uint8Array(buffer);
}

/**
 * Hands a chunk read by {@linkcode lazyFileStream} or {@linkcode openFileStream} back so a later
 * read reuses its buffer. Only the chunk's last holder may call it: once released, the bytes get
 * overwritten by another read. Chunks from anywhere else, and second releases, are ignored.
 *
 * @param chunk A chunk from one of this module's streams, no longer used by anyone.
 *
 * @example
 * ```ts
 * import { lazyFileStream, releaseFileChunk } from "./file_stream.ts";
 * let size = 0;
 * for await (const chunk of lazyFileStream("deno.json")) {
 *   size += chunk.byteLength;
 *   releaseFileChunk(chunk); // counted; the buffer can be read into again
 * }
 * console.assert(size > 0);
 * ```
 */
export function releaseFileChunk(chunk: Uint8Array): void {
  const buffer = chunk.buffer;
  if (chunk.byteOffset !== 0 || !(buffer instanceof ArrayBuffer) || !lent.has(buffer)) return;
  lent.delete(buffer);
  const list = freeChunks.get(buffer.byteLength) ?? [];
  if (list.length < MAX_FREE_CHUNKS) list.push(buffer);
  freeChunks.set(buffer.byteLength, list);
}

/**
 * A stream of a file's bytes that opens the file on the first read.
 *
 * @param path The file.
 * @param chunkSize Bytes per read (default 64 KiB).
 * @returns The stream.
 *
 * @example Reading a file to the end
 * ```ts
 * import { lazyFileStream } from "./file_stream.ts";
 * let size = 0;
 * for await (const chunk of lazyFileStream("deno.json")) size += chunk.byteLength;
 * console.assert(size > 0);
 * ```
 */
export function lazyFileStream(path: string, chunkSize = 64 * 1024): ReadableStream<Uint8Array> {
  return handleStream(() => open(path, "r"), chunkSize, 0);
}

/**
 * Opens a file and returns a stream of its bytes; a missing file fails here, not on a read.
 *
 * @param path The file.
 * @param chunkSize Bytes per read (default 64 KiB, see the module doc).
 * @returns The stream.
 *
 * @example
 * ```ts
 * import { openFileStream } from "./file_stream.ts";
 * const stream = await openFileStream("deno.json");
 * await stream.cancel();
 * ```
 */
export async function openFileStream(
  path: string,
  chunkSize = 64 * 1024,
): Promise<ReadableStream<Uint8Array>> {
  const handle = await open(path, "r");
  return handleStream(() => Promise.resolve(handle), chunkSize, 2);
}

function handleStream(
  opener: () => Promise<FileHandle>,
  chunkSize: number,
  highWaterMark: number,
): ReadableStream<Uint8Array> {
  let handle: Promise<FileHandle> | undefined;
  let closed = false;
  const close = async () => {
    if (closed || handle === undefined) return;
    closed = true;
    await (await handle).close();
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        handle ??= opener();
        const buffer = takeChunk(chunkSize);
        const { bytesRead } = await (await handle).read(buffer, 0, chunkSize, null);
        if (bytesRead === 0) {
          releaseFileChunk(buffer); // end of file: nobody saw this one
          await close();
          controller.close();
        } else {
          controller.enqueue(bytesRead === chunkSize ? buffer : buffer.subarray(0, bytesRead));
        }
      } catch (err) {
        await close().catch(() => {});
        controller.error(err);
      }
    },
    async cancel() {
      await close();
    },
  }, { highWaterMark });
}
