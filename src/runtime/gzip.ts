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
 * flight (tested), so memory stays flat on any input size.
 *
 * The gzip member: header `1f 8b 08 00`, mtime 0, XFL 0, OS 3 (unix); trailer CRC-32 and size.
 *
 * ## Decision and measurements (issue 5)
 *
 * Measured with `bench/gzip_bench.ts --mb 100 --runs 3` on a 2-core VM shared with other jobs
 * (up to 66% CPU steal, so wall-clock ratios swing run to run; CPU seconds are the stable
 * number). Medians, ratios against `gzip -6 | sha256sum` measured in the same run:
 *
 * | 100 MB tar, runtime | old: pako stream L6 | ours L4, 2 workers | size ours / gzip -6 |
 * |---|---|---|---|
 * | site-packages-like, Deno | 0.62× wall, 1.93× CPU | 2.71× wall, 0.67× CPU | 1.041 |
 * | real Python files, Deno | 0.42× wall, 1.80× CPU | 0.63× wall, 1.03× CPU | 1.035 |
 * | site-packages-like, Bun | 0.60× wall, 1.26× CPU | 1.44× wall, 0.56× CPU | 1.041 |
 * | real Python files, Bun | 0.87× wall, 1.16× CPU | 1.36× wall, 0.88× CPU | 1.035 |
 *
 * So per core ours costs 0.56–1.03× the CPU of `gzip -6`, and the blocks spread over all cores:
 * on an idle 2-core machine that is ~2× the GNU pipeline's throughput (~1.3–2.7× seen here).
 *
 * - **Level 4, not 6.** pako is ~2× slower than native zlib at the same level (L6: 1.8–1.9× the
 *   CPU of `gzip -6` on Deno), so level 6 on two cores only about matches `gzip -6`. Level 4 costs
 *   3.5–4.1% more bytes than `gzip -6` (the same as `gzip -4`) for 1.8–3× less CPU than pako L6.
 *   Sizes vs `gzip -6` by level (20 MB runs): L1 1.11–1.14, L3 1.08–1.09, L4 1.04, L5 1.01–1.03,
 *   L6 1.00. Others choose speed too: go-containerregistry (crane, ko) writes layers at
 *   `gzip.BestSpeed` (level 1), podman defaults to 5.
 * - **fflate 0.8.3** (pure JS, has `dictionary` and sync `flush`), same 1 MiB blocks, single
 *   thread, MB/s on the site-packages-like / real-Python tar: L4 17 / 13 vs pako 25 / 15, L1
 *   20 / 11 vs pako 39 / 17; only its L6 beat pako's on real files (13–20 vs 8–9) and with a
 *   worse ratio (0.291 vs 0.285). Not faster where it matters, so no new dependency. No npm
 *   WebAssembly zlib or libdeflate streams with a preset dictionary (`wasm-gzip` is whole-buffer).
 * - **Block size 1 MiB**: 5 bytes of sync flush per block, and the dictionary keeps matches
 *   across boundaries, so sizes are within 0.2% of one pako stream at the same level.
 * - **Memory**, peak RSS of the CLI building a 1 GB layer (`bench/rss_bench.ts --runs 3`: 16 ×
 *   64 MiB generated files, `--base-image scratch`, empty cache): Deno 190 MB, Bun 110 MB, Node 20
 *   144 MB (npm package; its bundled bin 138 MB); before the changes below 258 / 159 / 283 MB,
 *   with the same CPU time. V8 frees dead `ArrayBuffer`s late (it lets tens of MB pile up per
 *   isolate), so what counts is the garbage each thread makes per block: a worker keeps one
 *   deflate state and resets it per block (a new `pako.Deflate` per block was ~330 KB of state
 *   plus 64 KiB chunks; `_deflate_worker.ts`), block buffers travel to the workers and back
 *   without copies and are recycled (`_deflate_pool.ts`), and `releaseInput` hands each input
 *   chunk back once copied, so the layer writer's file reads reuse their buffers
 *   (`file_stream.ts`), as does the OCI layout writer's verification of a copied blob (Deno 190 →
 *   155 MB; Bun 102, Node 143 / 128 MB bundled). Forcing GCs in the workers instead cut Node to
 *   161 MB but cost +50–70% CPU.
 *
 * @module
 */
import { crc32Combine } from "./crc32.ts";
import { deflateThreads, runDeflate, takeBlockBuffer } from "./_deflate_pool.ts";

export {
  type DeflateStats as GzipBlockStats,
  deflateStats as gzipBlockStats,
} from "./_deflate_pool.ts";
import { deflateBlock, type DeflatedBlock } from "./_deflate_worker.ts";

/** The deflate level. See the module doc for the measurements behind it. */
export const GZIP_LEVEL = 4;
/** Bytes per independently compressed block; a constant, since the output depends on it. */
export const GZIP_BLOCK_SIZE = 1 << 20;
const DICTIONARY_SIZE = 32 * 1024;
const HEADER = Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3);

/** Options of {@linkcode createGzipStream}. */
export interface GzipStreamOptions {
  /**
   * Called with each input chunk once its bytes have been copied, for a caller whose chunks
   * reach nobody else and that recycles their buffers (the layer writer hands file read buffers
   * back with `releaseFileChunk`).
   */
  releaseInput?: (chunk: Uint8Array) => void;
}

interface InFlight {
  result: Promise<DeflatedBlock>;
  length: number;
}

/**
 * Creates a gzip compressor stream with reproducible output.
 *
 * @param options `releaseInput`: gets each input chunk back once it is consumed.
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
export function createGzipStream(
  options: GzipStreamOptions = {},
): TransformStream<Uint8Array, Uint8Array> {
  return _createGzipStreamAtLevel(GZIP_LEVEL, options);
}

/**
 * {@linkcode createGzipStream} at another deflate level, for the benchmark's level comparison.
 * Layers always use {@linkcode GZIP_LEVEL}: a different level gives different bytes.
 *
 * @param level zlib level, 1–9.
 * @param options As for {@linkcode createGzipStream}.
 * @returns A gzip transform stream.
 *
 * @example
 * ```ts
 * import { _createGzipStreamAtLevel } from "./gzip.ts";
 * const gz = new Blob(["hello"]).stream().pipeThrough(_createGzipStreamAtLevel(1));
 * console.assert((await new Response(gz).arrayBuffer()).byteLength > 18);
 * ```
 */
export function _createGzipStreamAtLevel(
  level: number,
  options: GzipStreamOptions = {},
): TransformStream<Uint8Array, Uint8Array> {
  const release = options.releaseInput;
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
      release?.(chunk);
    },
    async flush(controller) {
      if (total === 0) {
        // A layer smaller than one block (app code, metadata): compress it right here. The
        // bytes are the same as on a worker, and no worker has to start (~150 ms on Deno).
        const data = block.subarray(0, fill);
        total = data.length;
        const { deflated, crc: blockCrc } = deflateBlock({ data, dictionary, last: true, level });
        crc = blockCrc;
        if (deflated.length > 0) controller.enqueue(deflated);
      } else {
        submit(block.subarray(0, fill), true);
      }
      while (inFlight.length > 0) await emitOldest(controller);
      const trailer = new Uint8Array(8);
      const view = new DataView(trailer.buffer);
      view.setUint32(0, crc, true);
      view.setUint32(4, total % 2 ** 32, true);
      controller.enqueue(trailer);
    },
  });
}
