/**
 * One block of the parallel gzip compressor: raw deflate (pako) of a fixed-size block, primed
 * with the previous 32 KiB as a preset dictionary, ending in a sync flush (or, for the last block,
 * the final deflate block), plus the block's CRC-32. The same function runs in a
 * `node:worker_threads` worker (when this file is loaded with `workerData` marked as ours) and in
 * the main thread as the fallback, so where a block is compressed never changes its bytes.
 *
 * pigz does the same: the dictionary keeps matches reaching back across block boundaries, so the
 * ratio stays that of one continuous stream; the sync flush byte-aligns each block so blocks can
 * be concatenated into one valid deflate stream.
 *
 * Memory: like pigz, each thread keeps one deflate state per level and resets it for every block
 * (zlib's `deflateReset` + `deflateSetDictionary`, through pako's internal zlib port, typed in
 * `_pako_zlib.d.ts`), and one output buffer that only grows; a block allocates just its result.
 * A fresh `pako.Deflate` per block allocated ~330 KB of state and 64 KiB output chunks that V8
 * freed late, which is what held the memory of a 1 GB layer build (see gzip.ts).
 * `deflateReset` is zlib's documented equivalent of a fresh stream, and the loop below replays
 * `pako.Deflate.push`'s 64 KiB output chunking exactly (chunk ends decide where a sync flush can
 * emit a second empty block), so the bytes are those of a fresh `pako.Deflate` — tests compare
 * both on random blocks, levels and chunk sizes.
 *
 * @module
 */
/// <reference path="./_pako_zlib.d.ts" />
import zlibDeflate from "pako/lib/zlib/deflate.js";
import ZStream from "pako/lib/zlib/zstream.js";
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { crc32 } from "./crc32.ts";

/** Marker put in `workerData` so this module knows it was started as a deflate worker. */
export const DEFLATE_WORKER_MARK = "pycontainer-deflate-worker";

const Z_OK = 0;
const Z_STREAM_END = 1;
const Z_BUF_ERROR = -5;
const Z_SYNC_FLUSH = 2;
const Z_FINISH = 4;
const Z_DEFLATED = 8;
/** Raw deflate (negative), 32 KiB window; memLevel 8 and the default strategy, as pako uses. */
const RAW_WINDOW_BITS = -15;
const MEM_LEVEL = 8;
const Z_DEFAULT_STRATEGY = 0;
/** `pako.Deflate`'s output chunk size as gzip.ts used it; part of the bytes (see the module doc). */
const CHUNK_SIZE = 64 * 1024;

/** A compressed block. */
export interface DeflatedBlock {
  /** Raw deflate bytes: byte-aligned, final-block bit set only when the block was the last. */
  deflated: Uint8Array;
  /** CRC-32 of the uncompressed block. */
  crc: number;
}

/** A block to compress, as sent to a worker. */
export interface DeflateJob {
  /** Uncompressed bytes of the block. */
  data: Uint8Array;
  /** The 32 KiB (or fewer) bytes before the block; empty for the first block. */
  dictionary: Uint8Array;
  /** Whether this is the stream's last block (ends the deflate stream). */
  last: boolean;
  /** zlib compression level, 1–9. */
  level: number;
}

/**
 * A raw-deflate stream state reused for block after block: each {@linkcode _BlockDeflater.deflate}
 * gives the bytes a new `pako.Deflate({ raw: true, level, chunkSize, dictionary })` would give
 * for `push(data, last ? Z_FINISH : Z_SYNC_FLUSH)`, without allocating a new state.
 *
 * @example
 * ```ts
 * import { _BlockDeflater } from "./_deflate_worker.ts";
 * const deflater = new _BlockDeflater(4);
 * const data = new TextEncoder().encode("hello hello hello");
 * const out = deflater.deflate(data, new Uint8Array(0), true);
 * console.assert(out.length > 0);
 * ```
 */
export class _BlockDeflater {
  readonly #strm = new ZStream();
  readonly #chunkSize: number;
  #output: Uint8Array;

  /**
   * Allocates the state (window, hash chains, pending buffer) once.
   *
   * @param level zlib level, 1–9.
   * @param chunkSize The `pako.Deflate` chunk size whose output to reproduce (tests vary it).
   */
  constructor(level: number, chunkSize: number = CHUNK_SIZE) {
    this.#chunkSize = chunkSize;
    this.#output = new Uint8Array(Math.max(chunkSize, 256 * 1024));
    const status = zlibDeflate.deflateInit2(
      this.#strm,
      level,
      Z_DEFLATED,
      RAW_WINDOW_BITS,
      MEM_LEVEL,
      Z_DEFAULT_STRATEGY,
    );
    if (status !== Z_OK) throw new Error(`deflate init failed: ${this.#strm.msg || status}`);
  }

  /**
   * Compresses one block from a reset state.
   *
   * @param data The block.
   * @param dictionary Preset dictionary (the bytes before the block), may be empty.
   * @param last Ends the deflate stream (Z_FINISH) instead of a sync flush.
   * @returns The raw deflate bytes, in a buffer of their own.
   * @throws Error when zlib reports a failure.
   */
  deflate(data: Uint8Array, dictionary: Uint8Array, last: boolean): Uint8Array {
    const strm = this.#strm;
    let status = zlibDeflate.deflateReset(strm);
    if (status === Z_OK && dictionary.length > 0) {
      status = zlibDeflate.deflateSetDictionary(strm, dictionary);
    }
    if (status !== Z_OK) throw new Error(`deflate reset failed: ${strm.msg || status}`);
    const mode = last ? Z_FINISH : Z_SYNC_FLUSH;
    strm.input = data;
    strm.next_in = 0;
    strm.avail_in = data.length;
    // `pako.Deflate.push`'s loop, with its fresh chunks laid end to end in one buffer: a
    // chunk starts at `chunkStart`, and `avail_out` counts down what is left of it.
    strm.avail_out = 0;
    let chunkStart = 0;
    let end = 0;
    try {
      for (;;) {
        if (strm.avail_out === 0) {
          chunkStart = end;
          this.#reserve(chunkStart + this.#chunkSize);
          strm.output = this.#output;
          strm.next_out = chunkStart;
          strm.avail_out = this.#chunkSize;
        }
        if (mode === Z_SYNC_FLUSH && strm.avail_out <= 6) {
          end = strm.next_out;
          strm.avail_out = 0;
          continue;
        }
        status = zlibDeflate.deflate(strm, mode);
        if (status !== Z_OK && status !== Z_STREAM_END && status !== Z_BUF_ERROR) {
          throw new Error(`deflate failed: ${strm.msg || status}`);
        }
        end = strm.next_out;
        if (status === Z_STREAM_END) break;
        if (strm.avail_out === 0) continue;
        if (strm.next_out > chunkStart) {
          strm.avail_out = 0;
          continue;
        }
        if (strm.avail_in === 0) break;
      }
      return this.#output.slice(0, end);
    } finally {
      strm.input = null; // don't keep the block (transferred back to the pool) reachable
    }
  }

  /** Grows the output buffer (keeping its bytes) to at least `size` bytes. */
  #reserve(size: number): void {
    if (this.#output.length >= size) return;
    const grown = new Uint8Array(Math.max(size, 2 * this.#output.length));
    grown.set(this.#output);
    this.#output = grown;
    this.#strm.output = grown;
  }
}

/** This thread's deflaters, one per level (layers use one level; benchmarks compare others). */
const deflaters = new Map<number, _BlockDeflater>();

/**
 * Compresses one block as raw deflate and computes its CRC-32.
 *
 * @param job The block, its preset dictionary, whether it is the last one, and the level.
 * @returns The deflated bytes and the CRC of the input block.
 * @throws Error when pako reports a failure.
 *
 * @example
 * ```ts
 * import { deflateBlock } from "./_deflate_worker.ts";
 * const data = new TextEncoder().encode("hello hello hello");
 * const block = deflateBlock({ data, dictionary: new Uint8Array(0), last: true, level: 6 });
 * console.assert(block.deflated.length > 0 && block.crc !== 0);
 * ```
 */
export function deflateBlock(job: DeflateJob): DeflatedBlock {
  let deflater = deflaters.get(job.level);
  if (!deflater) deflaters.set(job.level, deflater = new _BlockDeflater(job.level));
  return { deflated: deflater.deflate(job.data, job.dictionary, job.last), crc: crc32(job.data) };
}

/**
 * A job as posted to a worker. Bytes travel as whole `ArrayBuffer`s: Deno's `node:worker_threads`
 * clones a `Uint8Array` ~50× slower than an `ArrayBuffer` (measured: 128 ms vs 2.8 ms per MiB).
 * `data` is transferred here and transferred back in the reply (`input`) to be recycled.
 */
interface JobMessage {
  id: number;
  data: ArrayBuffer;
  length: number;
  dictionary: ArrayBuffer;
  last: boolean;
  level: number;
}

if (!isMainThread && parentPort && workerData === DEFLATE_WORKER_MARK) {
  const port = parentPort;
  port.on("message", (msg: JobMessage | { ping: true }) => {
    if ("ping" in msg) return port.postMessage({ ready: true });
    const input = msg.data;
    try {
      const { deflated, crc } = deflateBlock({
        data: new Uint8Array(input, 0, msg.length),
        dictionary: new Uint8Array(msg.dictionary),
        last: msg.last,
        level: msg.level,
      });
      const out = wholeBuffer(deflated);
      port.postMessage({ id: msg.id, deflated: out, crc, input }, [out, input]);
    } catch (err) {
      port.postMessage({ id: msg.id, error: String((err as Error)?.message ?? err), input }, [
        input,
      ]);
    }
  });
}

/**
 * The bytes of a view as an `ArrayBuffer` of exactly that length (the view's own buffer when it
 * covers all of it, else a copy).
 *
 * @param bytes Any byte view.
 * @returns An ArrayBuffer holding just these bytes.
 *
 * @example
 * ```ts
 * import { wholeBuffer } from "./_deflate_worker.ts";
 * console.assert(wholeBuffer(new Uint8Array(8).subarray(2, 5)).byteLength === 3);
 * ```
 */
export function wholeBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength &&
      bytes.buffer instanceof ArrayBuffer
    ? bytes.buffer
    : bytes.slice().buffer;
}
