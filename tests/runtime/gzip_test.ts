import { after, test } from "node:test";
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { spawnSync } from "node:child_process";
import {
  createGzipStream,
  GZIP_BLOCK_SIZE,
  gzipBlockStats,
  type GzipStreamOptions,
} from "../../src/runtime/gzip.ts";
import {
  _deflateJobsInFlight,
  _setDeflateWorkerUrl,
  deflateThreads,
  setDeflateThreads,
} from "../../src/runtime/_deflate_pool.ts";
import { sha256Hex } from "../../src/runtime/sha256.ts";

after(() => setDeflateThreads(0)); // stop the workers so the runner can finish cleanly

function mixedInput(size: number): Uint8Array {
  // Text-like runs and noise, so both the literal and the match paths of deflate are used.
  const out = new Uint8Array(size);
  let x = 42;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = i % 4096 < 2048 ? 97 + (i % 23) : x >>> 24;
  }
  return out;
}

async function gzip(
  data: Uint8Array,
  chunk: number,
  options: GzipStreamOptions = {},
): Promise<Uint8Array> {
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      for (let i = 0; i < data.length; i += chunk) c.enqueue(data.slice(i, i + chunk));
      c.close();
    },
  });
  const gz = stream.pipeThrough(createGzipStream(options));
  return new Uint8Array(await new Response(gz).arrayBuffer());
}

async function withThreads<T>(n: number | undefined, fn: () => Promise<T>): Promise<T> {
  setDeflateThreads(n);
  try {
    return await fn();
  } finally {
    setDeflateThreads(undefined);
  }
}

const input = mixedInput(1_500_000);
// Several blocks plus a partial one, so block boundaries, dictionaries and CRC combining count.
const big = mixedInput(4 * GZIP_BLOCK_SIZE + 123_457);

test("createGzipStream() output decompresses to the input", async () => {
  const out = await gzip(input, 65_536);
  assert.deepEqual(new Uint8Array(gunzipSync(out)), input);
});

test("createGzipStream() output decompresses with the gzip command", async () => {
  const out = await gzip(big, 100_000);
  const r = spawnSync("gzip", ["-dc"], { input: out, maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, String(r.stderr));
  assert.equal(sha256Hex(new Uint8Array(r.stdout)), sha256Hex(big));
  const t = spawnSync("gzip", ["-t"], { input: out });
  assert.equal(t.status, 0, String(t.stderr));
});

test("createGzipStream() handles empty input and exact multiples of the block size", async () => {
  const empty = await gzip(new Uint8Array(0), 1);
  assert.equal(gunzipSync(empty).length, 0);
  const exact = mixedInput(2 * GZIP_BLOCK_SIZE);
  assert.deepEqual(new Uint8Array(gunzipSync(await gzip(exact, GZIP_BLOCK_SIZE))), exact);
});

test("createGzipStream() writes a reproducible header: mtime 0, OS unix", async () => {
  const out = await gzip(input.subarray(0, 1000), 1000);
  assert.deepEqual([...out.subarray(0, 10)], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
});

test("createGzipStream() output does not depend on chunk sizes", async () => {
  const a = await gzip(big, 1000);
  const b = await gzip(big, 3 * GZIP_BLOCK_SIZE + 1);
  assert.equal(sha256Hex(a), sha256Hex(b));
});

test("createGzipStream() output does not depend on the number of threads", async () => {
  const digests = new Set<string>();
  for (const n of [0, 1, 2, 3]) {
    await withThreads(n, async () => {
      assert.equal(deflateThreads(), n);
      digests.add(sha256Hex(await gzip(big, 65_536)));
    });
  }
  assert.equal(digests.size, 1, [...digests].join(" "));
});

test("createGzipStream() streams running at once share the pool and keep their own bytes", async () => {
  const other = mixedInput(2 * GZIP_BLOCK_SIZE + 5).reverse();
  const alone = [sha256Hex(await gzip(big, 65_536)), sha256Hex(await gzip(other, 65_536))];
  const together = await Promise.all([gzip(big, 30_000), gzip(other, 70_000)]);
  assert.deepEqual(together.map(sha256Hex), alone);
});

test("createGzipStream() falls back to the main thread when workers can't start", async () => {
  const expected = sha256Hex(await gzip(big, 65_536));
  setDeflateThreads(0); // so the next call starts new workers from the missing file
  _setDeflateWorkerUrl(new URL("./no_such_deflate_worker.js", import.meta.url));
  try {
    await withThreads(2, async () => {
      assert.equal(sha256Hex(await gzip(big, 65_536)), expected);
      assert.equal(deflateThreads(), 0, "the pool noticed the workers failed");
    });
  } finally {
    _setDeflateWorkerUrl(undefined);
  }
});

test("createGzipStream() bytes match the golden digest on every runtime", async () => {
  // Pinned once; Deno, Bun and Node must all produce exactly these bytes (issue 5). Changed on
  // purpose when gzip.ts moved to 1 MiB blocks with preset dictionaries, level 4.
  const out = await gzip(big, 65_536);
  assert.equal(sha256Hex(out), "54d78d43e110a120cfcf23290a4d6efb0d60dcc4a84bf9b1d17f7fe56291d597");
});

test("createGzipStream() hands each input chunk back once it no longer needs it", async () => {
  const expected = sha256Hex(await gzip(big, 65_536));
  const released: number[] = [];
  // Scribbling over a chunk the moment it comes back would change the output if gzip still
  // read it (the layer writer reuses these buffers for the next file read).
  const out = await gzip(big, 300_001, {
    releaseInput: (chunk) => {
      released.push(chunk.length);
      chunk.fill(0xaa);
    },
  });
  assert.equal(sha256Hex(out), expected);
  assert.equal(released.length, Math.ceil(big.length / 300_001));
  assert.equal(released.reduce((a, b) => a + b, 0), big.length);
});

test("createGzipStream() keeps at most 2 blocks per worker thread in flight", async () => {
  for (const threads of [0, 2]) {
    await withThreads(threads, async () => {
      let peak = 0;
      const sample = () => void (peak = Math.max(peak, _deflateJobsInFlight()));
      const timer = setInterval(sample, 1);
      try {
        // One 24 MiB write: the transform cuts it into 24 blocks in a single call.
        const data = mixedInput(24 * GZIP_BLOCK_SIZE);
        const source = new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(data);
            c.close();
          },
        });
        const gz = source.pipeThrough(createGzipStream());
        for await (const _ of gz) sample();
      } finally {
        clearInterval(timer);
      }
      const bound = Math.max(2, 2 * threads);
      assert.ok(peak <= bound, `${threads} threads: ${peak} blocks in flight, bound ${bound}`);
      assert.ok(peak >= 2, `${threads} threads: blocks never overlapped (${peak})`);
      assert.equal(_deflateJobsInFlight(), 0);
    });
  }
});

test("gzipBlockStats() counts the blocks compressed on worker threads and on the main thread", async () => {
  const blocks = Math.ceil(big.length / GZIP_BLOCK_SIZE);
  const before = gzipBlockStats();
  await withThreads(0, () => gzip(big, 65_536));
  const inline = gzipBlockStats();
  assert.equal(inline.mainThreadBlocks - before.mainThreadBlocks, blocks);
  assert.equal(inline.workerBlocks, before.workerBlocks);
  await withThreads(2, () => gzip(big, 65_536));
  const threaded = gzipBlockStats();
  assert.equal(threaded.workerBlocks - inline.workerBlocks, blocks);
  assert.equal(threaded.mainThreadBlocks, inline.mainThreadBlocks);
  assert.equal(threaded.workersUnavailable, false);
});
