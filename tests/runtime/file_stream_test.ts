import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lazyFileStream, openFileStream, releaseFileChunk } from "../../src/runtime/file_stream.ts";
import { writeLayer } from "../../src/layer/tar_writer.ts";
import type { LayerEntry } from "../../src/layer/entry.ts";
import { sha256Hex } from "../../src/runtime/sha256.ts";

let dir = "";
const files: { path: string; bytes: Uint8Array }[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "file-stream-test-"));
  let x = 99;
  for (const size of [300_000, 200_000, 65_536, 1]) {
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i++) bytes[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
    const path = join(dir, `f${files.length}.bin`);
    await writeFile(path, bytes);
    files.push({ path, bytes });
  }
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function joined(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

test("releaseFileChunk() lets the next read reuse the chunk's buffer", async () => {
  const released = new Set<ArrayBufferLike>();
  for await (const chunk of lazyFileStream(files[0]!.path)) {
    released.add(chunk.buffer);
    releaseFileChunk(chunk);
  }
  const copies: Uint8Array[] = [];
  let reused = 0;
  for await (const chunk of lazyFileStream(files[1]!.path)) {
    if (released.has(chunk.buffer)) reused++;
    copies.push(chunk.slice());
    releaseFileChunk(chunk);
  }
  assert.ok(reused > 0, "no buffer was reused");
  assert.deepEqual(joined(copies), files[1]!.bytes);
});

test("lazyFileStream() never reuses a chunk that was not released", async () => {
  const kept: Uint8Array[] = [];
  for await (const chunk of lazyFileStream(files[0]!.path)) kept.push(chunk);
  // Read (and release) other files: the kept chunks must keep their bytes.
  for (const f of files.slice(1)) {
    for await (const chunk of await openFileStream(f.path, 64 * 1024)) releaseFileChunk(chunk);
  }
  assert.deepEqual(joined(kept), files[0]!.bytes);
});

test("releaseFileChunk() ignores foreign chunks, views and second releases", async () => {
  const foreign = new Uint8Array(64 * 1024);
  releaseFileChunk(foreign);
  const first: Uint8Array[] = [];
  for await (const chunk of lazyFileStream(files[0]!.path)) first.push(chunk);
  releaseFileChunk(first[0]!);
  releaseFileChunk(first[0]!); // twice: must not let two reads share one buffer
  releaseFileChunk(first[1]!.subarray(1)); // not the whole buffer: ignored
  const a = lazyFileStream(files[1]!.path).getReader();
  const b = lazyFileStream(files[2]!.path).getReader();
  const [ra, rb] = [await a.read(), await b.read()];
  assert.ok(ra.value && rb.value);
  assert.notEqual(ra.value.buffer, rb.value.buffer);
  assert.notEqual(ra.value.buffer, foreign.buffer);
  assert.notEqual(rb.value.buffer, foreign.buffer);
  assert.ok(![ra.value.buffer, rb.value.buffer].includes(first[1]!.buffer));
  await a.cancel();
  await b.cancel();
});

test("writeLayer() of files read through recycled buffers equals the layer of their bytes", async () => {
  const fromFiles = (): LayerEntry[] =>
    files.map((f, i) => ({
      type: "file",
      path: `data/f${i}.bin`,
      mode: 0o644,
      content: { kind: "stream", size: f.bytes.length, open: () => lazyFileStream(f.path) },
    }));
  const fromBytes: LayerEntry[] = files.map((f, i) => ({
    type: "file",
    path: `data/f${i}.bin`,
    mode: 0o644,
    content: { kind: "bytes", bytes: f.bytes },
  }));
  const layer = async (entries: LayerEntry[]) => {
    const chunks: Uint8Array[] = [];
    const sink = new WritableStream<Uint8Array>({ write: (c) => void chunks.push(c.slice()) });
    const digests = await writeLayer(entries, sink);
    return { digests, bytes: sha256Hex(joined(chunks)) };
  };
  const expected = await layer(fromBytes);
  // Two layers at once share the recycled buffers.
  const [a, b] = await Promise.all([layer(fromFiles()), layer(fromFiles())]);
  assert.deepEqual(a, expected);
  assert.deepEqual(b, expected);
});
