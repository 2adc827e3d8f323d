/**
 * Types for the two internal modules of pako 2.1.0 that `_deflate_worker.ts` uses (pako's own
 * typings cover only its public API). pako's port of zlib's deflate.c and its z_stream.
 *
 * @module
 */
declare module "pako/lib/zlib/zstream.js" {
  /** zlib's `z_stream`: input/output cursors and the opaque deflate state. */
  export default class ZStream {
    input: Uint8Array | null;
    next_in: number;
    avail_in: number;
    total_in: number;
    output: Uint8Array | null;
    next_out: number;
    avail_out: number;
    total_out: number;
    msg: string;
    state: unknown;
  }
}

declare module "pako/lib/zlib/deflate.js" {
  import type ZStream from "pako/lib/zlib/zstream.js";
  /** zlib's `deflateInit2`, `deflateReset`, `deflateSetDictionary` and `deflate`. */
  const zlibDeflate: {
    deflateInit2(
      strm: ZStream,
      level: number,
      method: number,
      windowBits: number,
      memLevel: number,
      strategy: number,
    ): number;
    deflateReset(strm: ZStream): number;
    deflateSetDictionary(strm: ZStream, dictionary: Uint8Array): number;
    deflate(strm: ZStream, flush: number): number;
  };
  export default zlibDeflate;
}
