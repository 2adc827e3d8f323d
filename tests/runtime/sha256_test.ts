import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  createSha256,
  defaultSha256Implementation,
  loadWasmSha256,
  sha256Hex,
} from "../../src/runtime/sha256.ts";

await loadWasmSha256();

function pseudoRandom(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

test("createSha256() gives the same digest with node:crypto and hash-wasm", () => {
  const data = pseudoRandom(3 * 1024 * 1024 + 17, 7);
  const node = createSha256("node");
  const wasm = createSha256("wasm");
  for (let i = 0; i < data.length; i += 65_537) {
    node.update(data.subarray(i, i + 65_537));
    wasm.update(data.subarray(i, i + 65_537));
  }
  const expected = createHash("sha256").update(data).digest("hex");
  assert.equal(node.digestHex(), expected);
  assert.equal(wasm.digestHex(), expected);
});

test("createSha256() keeps interleaved wasm hashers independent", () => {
  const a = createSha256("wasm");
  const b = createSha256("wasm");
  a.update(new TextEncoder().encode("abc"));
  b.update(new TextEncoder().encode("xyz"));
  a.update(new TextEncoder().encode("def"));
  assert.equal(a.digestHex(), sha256Hex("abcdef"));
  assert.equal(b.digestHex(), sha256Hex("xyz"));
});

test("sha256Hex() uses node:crypto by default where the runtime has it", () => {
  assert.equal(defaultSha256Implementation, "node");
  assert.equal(sha256Hex("hello world"), createHash("sha256").update("hello world").digest("hex"));
});
