import { test } from "node:test";
import assert from "node:assert/strict";
import { crc32 as zlibCrc32, gunzipSync, gzipSync } from "node:zlib";
import { crc32, crc32Combine, crc32Portable } from "../../src/runtime/crc32.ts";

function noise(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** The CRC a real gzip encoder stores in its trailer, as an independent reference. */
function gzipTrailerCrc(data: Uint8Array): number {
  const gz = gzipSync(data);
  assert.equal(gunzipSync(gz).length, data.length);
  return new DataView(gz.buffer, gz.byteOffset + gz.length - 8, 4).getUint32(0, true);
}

test("crc32() gives the standard check value and continues across pieces", () => {
  const digits = new TextEncoder().encode("123456789");
  assert.equal(crc32(digits), 0xcbf43926);
  assert.equal(crc32(digits.subarray(4), crc32(digits.subarray(0, 4))), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
});

test("crc32Portable() matches the CRC in a zlib gzip trailer for every length mod 8", () => {
  for (const size of [1, 7, 8, 9, 15, 16, 17, 1000, 65_537]) {
    const data = noise(size, size);
    assert.equal(crc32Portable(data), gzipTrailerCrc(data), `size ${size}`);
    assert.equal(crc32(data), crc32Portable(data), `size ${size}`);
  }
  if (typeof zlibCrc32 === "function") {
    assert.equal(crc32Portable(noise(999, 3)), zlibCrc32(noise(999, 3)));
  }
});

test("crc32Combine() equals the CRC of the concatenation", () => {
  const data = noise(300_000, 11);
  const whole = crc32(data);
  for (const cut of [0, 1, 2, 3, 255, 4096, 131_071, 299_999, 300_000]) {
    const a = data.subarray(0, cut);
    const b = data.subarray(cut);
    assert.equal(crc32Combine(crc32(a), crc32(b), b.length), whole, `cut at ${cut}`);
  }
});

test("crc32Combine() chains over many blocks and lengths beyond 2^32", () => {
  const blocks = [noise(1000, 1), noise(5, 2), noise(70_000, 3), noise(0, 4), noise(33, 5)];
  let combined = 0;
  const all: number[] = [];
  for (const b of blocks) {
    combined = crc32Combine(combined, crc32(b), b.length);
    all.push(...b);
  }
  assert.equal(combined, crc32(Uint8Array.from(all)));
  // A zero-length second piece leaves the first CRC; a huge length must not overflow.
  assert.equal(crc32Combine(0x12345678, 0, 0), 0x12345678);
  const huge = crc32Combine(0x12345678, 0x9abcdef0, 2 ** 33 + 5);
  assert.ok(Number.isInteger(huge) && huge >= 0 && huge < 2 ** 32);
});
