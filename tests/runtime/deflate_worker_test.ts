import { test } from "node:test";
import assert from "node:assert/strict";
import { inflateRawSync } from "node:zlib";
import pako from "pako";
import { _BlockDeflater, deflateBlock } from "../../src/runtime/_deflate_worker.ts";
import { sha256Hex } from "../../src/runtime/sha256.ts";

// A fresh seed each run (printed on failure), so the comparisons cover new inputs every time.
const seed = Math.floor(Math.random() * 2 ** 31);
let state = seed;
const rand = () => (state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32;

/** Random-looking, text-like or repetitive bytes: deflate's literal, match and RLE paths. */
function randomBlock(size: number): Uint8Array {
  const out = new Uint8Array(size);
  const kind = rand();
  for (let i = 0; i < size; i++) {
    if (kind < 0.25) out[i] = (rand() * 256) | 0;
    else if (kind < 0.6) out[i] = i % 97 < 60 ? 97 + (i % 13) : (rand() * 256) | 0;
    else out[i] = rand() < 0.05 ? (rand() * 256) | 0 : 65 + ((i >> 4) % 7);
  }
  return out;
}

/** What gzip.ts did before: a new `pako.Deflate` for every block, its chunks concatenated. */
function freshPako(
  data: Uint8Array,
  dictionary: Uint8Array,
  last: boolean,
  level: number,
  chunkSize: number,
): Uint8Array {
  const deflate = new pako.Deflate({
    level: level as pako.DeflateOptions["level"],
    raw: true,
    chunkSize,
    ...(dictionary.length > 0 ? { dictionary } : {}),
  });
  const chunks: Uint8Array[] = [];
  deflate.onData = (chunk: Uint8Array) => void chunks.push(chunk.slice());
  deflate.push(data, last ? 4 : 2);
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

test("_BlockDeflater reused for many blocks gives the bytes of a fresh pako.Deflate per block", () => {
  let cases = 0;
  for (const chunkSize of [7, 100, 4096, 65_536]) {
    for (const level of [1, 4, 6, 9]) {
      const deflater = new _BlockDeflater(level, chunkSize);
      for (let i = 0; i < 12; i++) {
        const data = randomBlock(Math.floor(rand() * 150_000));
        const dictSize = [0, 100, 32_768, 40_000][Math.floor(rand() * 4)]!;
        const dictionary = randomBlock(dictSize);
        const last = rand() < 0.3;
        const reused = deflater.deflate(data, dictionary, last);
        const fresh = freshPako(data, dictionary, last, level, chunkSize);
        assert.equal(
          sha256Hex(reused),
          sha256Hex(fresh),
          `seed ${seed}, chunk size ${chunkSize}, level ${level}, block ${i} (${data.length} B)`,
        );
        cases++;
      }
    }
  }
  assert.equal(cases, 4 * 4 * 12);
});

test("_BlockDeflater replays pako's output chunking, which can change the bytes", () => {
  // A sync flush that ends exactly at the end of an output chunk makes pako call deflate again,
  // which writes a second empty stored block. With tiny chunks that happens often: the bytes
  // then differ from one big output buffer, and must still equal pako's.
  let differing = 0;
  for (let i = 0; i < 40; i++) {
    const data = randomBlock(2_000 + Math.floor(rand() * 20_000));
    const tiny = new _BlockDeflater(4, 7).deflate(data, new Uint8Array(0), false);
    const big = new _BlockDeflater(4, 1 << 20).deflate(data, new Uint8Array(0), false);
    assert.deepEqual(tiny, freshPako(data, new Uint8Array(0), false, 4, 7), `seed ${seed}`);
    if (sha256Hex(tiny) !== sha256Hex(big)) differing++;
  }
  assert.ok(differing > 0, `seed ${seed}: chunking never mattered, so this test shows nothing`);
});

test("deflateBlock() blocks inflate to their input with the previous bytes as dictionary", () => {
  const input = randomBlock(600_000);
  const cuts = [0, 150_000, 150_001, 400_000, 600_000];
  const parts: Uint8Array[] = [];
  for (let k = 0; k + 1 < cuts.length; k++) {
    const data = input.subarray(cuts[k], cuts[k + 1]);
    const dictionary = input.subarray(Math.max(0, cuts[k]! - 32_768), cuts[k]);
    const last = k + 2 === cuts.length;
    parts.push(deflateBlock({ data, dictionary, last, level: 4 }).deflated);
  }
  // The blocks concatenated are one raw deflate stream (pigz's scheme).
  const stream = new Uint8Array(concat(parts));
  assert.deepEqual(new Uint8Array(inflateRawSync(stream)), input, `seed ${seed}`);
});

test("deflateBlock() reports the CRC-32 of the block and rejects a bad level", () => {
  const data = new TextEncoder().encode("The quick brown fox jumps over the lazy dog");
  const block = deflateBlock({ data, dictionary: new Uint8Array(0), last: true, level: 4 });
  assert.equal(block.crc, 0x414fa339);
  assert.throws(
    () => deflateBlock({ data, dictionary: new Uint8Array(0), last: true, level: 42 }),
    /deflate init failed/,
  );
});

function concat(parts: Uint8Array[]): ArrayBuffer {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out.buffer;
}
