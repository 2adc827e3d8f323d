/**
 * CRC-32 (the gzip/ZIP polynomial) and `crc32Combine`, which joins the CRCs of two adjacent
 * pieces of data without re-reading them. The parallel gzip compressor needs both: each worker
 * computes the CRC of its own block, and the main thread combines them in order for the gzip
 * trailer.
 *
 * `crc32` uses node:zlib's native `crc32` where the runtime has it (Node ≥ 20.15, Deno, Bun) and
 * a slicing-by-8 table otherwise; both compute the same function, so the choice never changes
 * any output. `crc32Combine` is zlib's GF(2) matrix method (`crc32_combine`).
 *
 * @module
 */
import * as zlib from "node:zlib";

const POLY = 0xedb88320;

const _nativeCrc32: ((data: Uint8Array, value?: number) => number) | undefined =
  typeof (zlib as { crc32?: unknown }).crc32 === "function"
    ? (zlib as unknown as { crc32: (data: Uint8Array, value?: number) => number }).crc32
    : undefined;

let _tables: Uint32Array[] | undefined;

function tables(): Uint32Array[] {
  if (_tables) return _tables;
  const t = Array.from({ length: 8 }, () => new Uint32Array(256));
  const t0 = t[0]!;
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? POLY ^ (c >>> 1) : c >>> 1;
    t0[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = t0[n]!;
    for (let k = 1; k < 8; k++) {
      c = t0[c & 0xff]! ^ (c >>> 8);
      t[k]![n] = c >>> 0;
    }
  }
  return (_tables = t);
}

/**
 * Computes or continues a CRC-32.
 *
 * @param data Bytes to add.
 * @param previous The CRC of the bytes before `data` (0 to start).
 * @returns The unsigned CRC-32 of everything so far.
 *
 * @example
 * ```ts
 * import { crc32 } from "./crc32.ts";
 * console.assert(crc32(new TextEncoder().encode("123456789")) === 0xcbf43926);
 * ```
 */
export function crc32(data: Uint8Array, previous = 0): number {
  if (_nativeCrc32) return _nativeCrc32(data, previous) >>> 0;
  return crc32Portable(data, previous);
}

/**
 * The table-driven (slicing-by-8) CRC-32 used when node:zlib has no `crc32`; exported so tests
 * can check it against the native one.
 *
 * @param data Bytes to add.
 * @param previous The CRC so far.
 * @returns The unsigned CRC-32.
 *
 * @example
 * ```ts
 * import { crc32Portable } from "./crc32.ts";
 * console.assert(crc32Portable(new TextEncoder().encode("123456789")) === 0xcbf43926);
 * ```
 */
export function crc32Portable(data: Uint8Array, previous = 0): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = tables() as [
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
  ];
  let c = ~previous >>> 0;
  let i = 0;
  const end8 = data.length - (data.length % 8);
  for (; i < end8; i += 8) {
    const a = c ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24));
    c = t7[a & 0xff]! ^ t6[(a >>> 8) & 0xff]! ^ t5[(a >>> 16) & 0xff]! ^ t4[a >>> 24]! ^
      t3[data[i + 4]!]! ^ t2[data[i + 5]!]! ^ t1[data[i + 6]!]! ^ t0[data[i + 7]!]!;
  }
  for (; i < data.length; i++) c = t0[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

function gf2Times(mat: Uint32Array, vec: number): number {
  let sum = 0;
  for (let i = 0; vec !== 0; i++, vec >>>= 1) if (vec & 1) sum ^= mat[i]!;
  return sum >>> 0;
}

function gf2Square(square: Uint32Array, mat: Uint32Array): void {
  for (let n = 0; n < 32; n++) square[n] = gf2Times(mat, mat[n]!);
}

/**
 * Combines `crcA = crc32(A)` and `crcB = crc32(B)` into `crc32(A ‖ B)`, knowing only B's length.
 *
 * @param crcA CRC-32 of the first piece.
 * @param crcB CRC-32 of the second piece.
 * @param lengthB Length in bytes of the second piece (any safe integer).
 * @returns The CRC-32 of both pieces one after the other.
 *
 * @example
 * ```ts
 * import { crc32, crc32Combine } from "./crc32.ts";
 * const a = new TextEncoder().encode("12345"), b = new TextEncoder().encode("6789");
 * console.assert(crc32Combine(crc32(a), crc32(b), b.length) === 0xcbf43926);
 * ```
 */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  if (lengthB <= 0) return crcA >>> 0;
  const even = new Uint32Array(32); // operator for 2^n zero bits, n even
  const odd = new Uint32Array(32); // and for n odd
  odd[0] = POLY;
  for (let n = 1, row = 1; n < 32; n++, row <<= 1) odd[n] = row;
  gf2Square(even, odd); // 2 zero bits
  gf2Square(odd, even); // 4 zero bits
  let crc = crcA >>> 0;
  let len = lengthB;
  // Apply len zero bytes to crcA (the first square gives the operator for one zero byte).
  for (;;) {
    gf2Square(even, odd);
    if (len % 2) crc = gf2Times(even, crc);
    len = Math.floor(len / 2);
    if (len === 0) break;
    gf2Square(odd, even);
    if (len % 2) crc = gf2Times(odd, crc);
    len = Math.floor(len / 2);
    if (len === 0) break;
  }
  return (crc ^ crcB) >>> 0;
}
