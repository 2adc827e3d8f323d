/**
 * Reproducible, parallel gzip as a Web Streams `TransformStream`. Layer digests must be identical
 * on Deno, Bun and Node, so the compressor is chosen for its bytes first: pako (pure JS, the same
 * bytes on every engine) on every runtime, never the runtime's own zlib.
 *
 * Why not node:zlib / CompressionStream: measured on Node 20.20 (zlib `1.3.1-e00f703`, Chromium's
 * SIMD fork) node:zlib produces different deflate streams from pako for every input tried, and
 * Bun's and Deno's zlib and `CompressionStream` differ again, so they would make image digests
 * depend on the runtime.
 *
 * Speed comes from pigz's scheme (see `_deflate_worker.ts`, `_deflate_pool.ts`): the input is cut
 * into fixed {@linkcode GZIP_BLOCK_SIZE} blocks, each compressed independently as raw deflate with
 * the previous 32 KiB as preset dictionary and a sync flush (the last one with the final block),
 * on worker threads; the blocks are concatenated in order and the CRC-32s combined. The bytes
 * depend only on the input, the block size and the level — never on chunk sizes, thread count or
 * timing (tests compare 0, 1 and N threads). At most `2 × threads` blocks per stream are in
 * flight, so memory stays flat on any input size.
 *
 * The gzip member: header `1f 8b 08 00`, mtime 0, XFL 0, OS 3 (unix); trailer CRC-32 and size.
 *
 * @module
 */
import { crc32Combine } from "./crc32.ts";
import { deflateThreads, runDeflate, takeBlockBuffer } from "./_deflate_pool.ts";
import type { DeflatedBlock } from "./_deflate_worker.ts";

/** The deflate level. See the module doc for the measurements behind it. */
export const GZIP_LEVEL = 4;
/** Bytes per independently compressed block; a constant, since the output depends on it. */
export const GZIP_BLOCK_SIZE = 1 << 20;
const DICTIONARY_SIZE = 32 * 1024;
const HEADER = Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3);

interface InFlight {
  result: Promise<DeflatedBlock>;
  length: number;
}

/**
 * Creates a gzip compressor stream with reproducible output.
 *
 * @returns A transform from raw bytes to gzip bytes, identical on every runtime and chunking.
 *
 * @example Compressing a string
 * ```ts
 * import { createGzipStream } from "./gzip.ts";
 * const gz = new Blob(["hello"]).stream().pipeThrough(createGzipStream());
 * const bytes = new Uint8Array(await new Response(gz).arrayBuffer());
 * console.assert(bytes[0] === 0x1f && bytes[1] === 0x8b);
 * ```
 */
export function createGzipStream(): TransformStream<Uint8Array, Uint8Array> {
  return _createGzipStreamAtLevel(GZIP_LEVEL);
}

/**
 * {@linkcode createGzipStream} at another deflate level, for the benchmark's level comparison.
 * Layers always use {@linkcode GZIP_LEVEL}: a different level gives different bytes.
 *
 * @param level zlib level, 1–9.
 * @returns A gzip transform stream.
 *
 * @example
 * ```ts
 * import { _createGzipStreamAtLevel } from "./gzip.ts";
 * const gz = new Blob(["hello"]).stream().pipeThrough(_createGzipStreamAtLevel(1));
 * console.assert((await new Response(gz).arrayBuffer()).byteLength > 18);
 * ```
 */
export function _createGzipStreamAtLevel(level: number): TransformStream<Uint8Array, Uint8Array> {
  let block = takeBlockBuffer(GZIP_BLOCK_SIZE);
  let fill = 0;
  let dictionary = new Uint8Array(0);
  let crc = 0;
  let total = 0;
  const inFlight: InFlight[] = [];
  const maxInFlight = Math.max(2, 2 * deflateThreads());

  const submit = (data: Uint8Array, last: boolean) => {
    // The pool takes `data`'s buffer (transferred to a worker, then recycled): copy what the
    // next block needs first.
    const length = data.length;
    const next = data.slice(Math.max(0, length - DICTIONARY_SIZE));
    total += length;
    const result = runDeflate({ data, dictionary, last, level });
    result.catch(() => {}); // awaited in order below; this only stops "unhandled rejection"
    inFlight.push({ result, length });
    dictionary = next;
  };
  const emitOldest = async (controller: TransformStreamDefaultController<Uint8Array>) => {
    const { result, length } = inFlight.shift()!;
    const { deflated, crc: blockCrc } = await result;
    crc = crc32Combine(crc, blockCrc, length);
    if (deflated.length > 0) controller.enqueue(deflated);
  };

  return new TransformStream({
    start(controller) {
      controller.enqueue(HEADER.slice());
    },
    async transform(chunk, controller) {
      for (let offset = 0; offset < chunk.length;) {
        const n = Math.min(GZIP_BLOCK_SIZE - fill, chunk.length - offset);
        block.set(chunk.subarray(offset, offset + n), fill);
        fill += n;
        offset += n;
        if (fill === GZIP_BLOCK_SIZE) {
          submit(block, false);
          block = takeBlockBuffer(GZIP_BLOCK_SIZE);
          fill = 0;
          while (inFlight.length >= maxInFlight) await emitOldest(controller);
        }
      }
    },
    async flush(controller) {
      submit(block.subarray(0, fill), true);
      while (inFlight.length > 0) await emitOldest(controller);
      const trailer = new Uint8Array(8);
      const view = new DataView(trailer.buffer);
      view.setUint32(0, crc, true);
      view.setUint32(4, total % 2 ** 32, true);
      controller.enqueue(trailer);
    },
  });
}
