/**
 * Reproducible gzip as a Web Streams `TransformStream`. Layer digests must be identical on
 * Deno, Bun and Node, so the compressor is chosen for its bytes, not its speed: pako (level 6,
 * header mtime 0, OS byte 3 "unix") on every runtime.
 *
 * Why not node:zlib on Node: DESIGN.md expected Node's zlib to match pako, but measured here on
 * Node 20.20 (zlib `1.3.1-e00f703`, Chromium's SIMD fork) it produces different deflate streams
 * for every input tried (`/etc/services`, a Python source file, the node binary), so it would
 * make image digests depend on the runtime. Bun's and Deno's zlib and `CompressionStream` differ
 * too. Speed comes from caching layers and compressing layers in parallel instead.
 *
 * @module
 */
import pako from "pako";

const GZIP_LEVEL = 6;
const OS_UNIX = 3;

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
  let deflate: pako.Deflate;
  const check = () => {
    if (deflate.err) throw new Error(`gzip failed: ${deflate.msg}`);
  };
  return new TransformStream({
    start(controller) {
      deflate = new pako.Deflate({
        level: GZIP_LEVEL,
        gzip: true,
        header: { time: 0, os: OS_UNIX },
      });
      deflate.onData = (chunk: Uint8Array) => controller.enqueue(chunk);
    },
    transform(chunk) {
      deflate.push(chunk, false);
      check();
    },
    flush() {
      deflate.push(new Uint8Array(0), true);
      check();
    },
  });
}
