/**
 * Cache eviction, scanning, clearing and size limits, on real cache directories built with the
 * real blob store and layer cache (temp dirs, removed after each test).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LayerCache } from "../../src/cache/layer_cache.ts";
import { classifyCachePath, scanCache, summarizeScan } from "../../src/cache/cache_scan.ts";
import { clearCache } from "../../src/cache/clear_cache.ts";
import { autoEvict, DEFAULT_CHECK_INTERVAL_MS } from "../../src/cache/auto_evict.ts";
import { DEFAULT_GRACE_MS, evictCache, markUsed } from "../../src/cache/eviction.ts";
import { cacheLimit, DEFAULT_CACHE_MAX_BYTES, parseSize } from "../../src/cache/size_limit.ts";
import { PycontainerError } from "../../src/errors.ts";
import { BlobStore } from "../../src/store/blob_store.ts";
import { withDirLock } from "../../src/store/dir_lock.ts";
import { sha256Hex } from "../../src/runtime/sha256.ts";

const HOUR = 3600_000;

async function withCache(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "evict-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Stores `size` bytes (distinct per seed) as a blob, last used `ageMs` ago. */
async function blob(cache: string, seed: string, size: number, ageMs: number): Promise<string> {
  const bytes = new Uint8Array(size).fill(seed.charCodeAt(0));
  bytes.set(new TextEncoder().encode(seed));
  const d = await new BlobStore(cache).put(new Blob([bytes]).stream(), "application/octet-stream");
  await age(new BlobStore(cache).path(d.digest), ageMs);
  return d.digest;
}

async function record(cache: string, key: string, digest: string, ageMs: number): Promise<string> {
  await new LayerCache(cache).put(key, {
    digest,
    diffId: `sha256:${"d".repeat(64)}`,
    size: 1,
    uncompressedSize: 1,
  });
  const path = join(cache, "layers", `${key}.json`);
  await age(path, ageMs);
  return path;
}

async function age(path: string, ageMs: number): Promise<void> {
  const t = new Date(Date.now() - ageMs);
  await utimes(path, t, t);
}

const exists = (p: string) => stat(p).then(() => true, () => false);

test("parseSize() reads SI and binary units and bare bytes", () => {
  assert.equal(parseSize("500MB", "--max-size"), 500_000_000);
  assert.equal(parseSize("5GB", "--max-size"), 5_000_000_000);
  assert.equal(parseSize("2GiB", "--max-size"), 2 * 1024 ** 3);
  assert.equal(parseSize("1.5 gb", "--max-size"), 1_500_000_000);
  assert.equal(parseSize("4096", "--max-size"), 4096);
  assert.equal(parseSize("0", "--max-size"), 0);
  assert.equal(parseSize("10KiB", "--max-size"), 10240);
});

test("parseSize() refuses non-sizes and one-letter units with exit code 2", () => {
  for (const bad of ["", "abc", "-1GB", "5 parsecs", "1e9"]) {
    assert.throws(() => parseSize(bad, "--max-size"), (e: unknown) => {
      assert.ok(e instanceof PycontainerError);
      assert.equal(e.exitCode, 2);
      assert.match(e.message, /^invalid --max-size ".*": not a size$/);
      return true;
    });
  }
  assert.throws(() => parseSize("5G", "--max-size"), (e: unknown) => {
    assert.ok(e instanceof PycontainerError);
    assert.equal(e.exitCode, 2);
    assert.match(e.message, /"G" is ambiguous/);
    assert.match(e.hint ?? "", /5GB .* 5GiB/);
    return true;
  });
});

test("cacheLimit() prefers the flag, then PYCONTAINER_CACHE_MAX_SIZE, then 5 GB", () => {
  const env = { PYCONTAINER_CACHE_MAX_SIZE: "1GB" };
  assert.deepEqual(cacheLimit("2GiB", env), { maxBytes: 2 ** 31, source: "--max-size" });
  assert.deepEqual(cacheLimit(undefined, env), {
    maxBytes: 1e9,
    source: "PYCONTAINER_CACHE_MAX_SIZE",
  });
  assert.deepEqual(cacheLimit(undefined, {}), {
    maxBytes: DEFAULT_CACHE_MAX_BYTES,
    source: "default",
  });
  assert.equal(DEFAULT_CACHE_MAX_BYTES, 5_000_000_000);
  assert.throws(
    () => cacheLimit(undefined, { PYCONTAINER_CACHE_MAX_SIZE: "lots" }),
    /invalid PYCONTAINER_CACHE_MAX_SIZE "lots"/,
  );
});

test("classifyCachePath() knows every part of the cache", () => {
  const hex = "a".repeat(64);
  assert.equal(classifyCachePath(["blobs", "sha256", hex]), "blob");
  assert.equal(classifyCachePath(["blobs", "sha256", `.${hex}.1234abcd.tmp`]), "temp");
  assert.equal(classifyCachePath(["blobs", "sha256", "short"]), "other");
  assert.equal(classifyCachePath(["layers", `${hex}.json`]), "layerRecord");
  assert.equal(
    classifyCachePath(["wheels", "sha256", hex, "six-1.16.0-py3-none-any.whl"]),
    "wheel",
  );
  assert.equal(classifyCachePath(["file-digests", "x.json"]), "fileDigests");
  assert.equal(classifyCachePath(["target-env", "y.json"]), "targetEnv");
  assert.equal(classifyCachePath(["notes.txt"]), "other");
});

test("scanCache() counts and sizes each kind, skipping the lock file", async () => {
  await withCache(async (cache) => {
    const d = await blob(cache, "a", 1000, 0);
    await record(cache, "1".repeat(64), d, 0);
    const wheelDir = join(cache, "wheels", "sha256", "b".repeat(64));
    await mkdir(wheelDir, { recursive: true });
    await writeFile(join(wheelDir, "six-1.16.0-py3-none-any.whl"), new Uint8Array(300));
    await writeFile(join(wheelDir, ".six-1.16.0-py3-none-any.whl.1234abcd.tmp"), "partial");
    await mkdir(join(cache, "file-digests"));
    await writeFile(join(cache, "file-digests", "p.json"), "{}");
    await writeFile(join(cache, ".pycontainer.lock"), "123\n");
    const s = summarizeScan(await scanCache(cache));
    assert.deepEqual(s.kinds.blob, { count: 1, bytes: 1000 });
    assert.equal(s.kinds.layerRecord.count, 1);
    assert.deepEqual(s.kinds.wheel, { count: 1, bytes: 300 });
    assert.deepEqual(s.kinds.temp, { count: 1, bytes: 7 });
    assert.deepEqual(s.kinds.fileDigests, { count: 1, bytes: 2 });
    assert.equal(s.kinds.other.count, 0);
    assert.equal(
      s.totalBytes,
      1000 + 300 + 7 + 2 + s.kinds.layerRecord.bytes,
    );
  });
});

test("evictCache() does nothing while the cache is under its limit", async () => {
  await withCache(async (cache) => {
    const d = await blob(cache, "a", 1000, 5 * HOUR);
    const r = await evictCache(cache, { maxBytes: 10_000 });
    assert.deepEqual(r.removed, []);
    assert.equal(r.bytesBefore, 1000);
    assert.equal(r.bytesAfter, 1000);
    assert.ok(await exists(new BlobStore(cache).path(d)));
  });
});

test("evictCache() removes least-recently-used blobs down to 80% of the limit", async () => {
  await withCache(async (cache) => {
    const store = new BlobStore(cache);
    // Ten 1000-byte blobs, blob i last used (10 - i) hours ago: blob 0 is the oldest.
    const digests: string[] = [];
    for (let i = 0; i < 10; i++) digests.push(await blob(cache, `${i}`, 1000, (10 - i) * HOUR));
    const r = await evictCache(cache, { maxBytes: 7000 });
    // 10 000 > 7000: evict until <= 5600, i.e. the five oldest.
    assert.equal(r.targetBytes, 5600);
    assert.deepEqual(
      r.removed.map((f) => f.path),
      digests.slice(0, 5).map((d) => store.path(d)),
    );
    assert.equal(r.bytesAfter, 5000);
    for (const d of digests.slice(5)) {
      assert.ok(await store.verify({ mediaType: "x", digest: d, size: 1000 }));
    }
    const after = summarizeScan(await scanCache(cache));
    assert.equal(after.totalBytes, 5000);
  });
});

test("markUsed() makes a file the most recently used, so it is evicted last", async () => {
  await withCache(async (cache) => {
    const store = new BlobStore(cache);
    const old = await blob(cache, "o", 1000, 9 * HOUR);
    const mid = await blob(cache, "m", 1000, 5 * HOUR);
    await markUsed(store.path(old), Date.now() - HOUR);
    const r = await evictCache(cache, { maxBytes: 1500, targetRatio: 1 });
    assert.deepEqual(r.removed.map((f) => f.path), [store.path(mid)]);
    assert.ok(await exists(store.path(old)));
    await markUsed(join(cache, "missing")); // no error for a file that is gone
  });
});

test("evictCache() keeps the layer records of an evicted blob, and evicts records by use time", async () => {
  await withCache(async (cache) => {
    const gone = await blob(cache, "g", 4000, 5 * HOUR);
    const kept = await blob(cache, "k", 1000, 2 * HOUR);
    const r1 = await record(cache, "1".repeat(64), gone, 0);
    const r3 = await record(cache, "3".repeat(64), kept, 0);
    const r = await evictCache(cache, { maxBytes: 3000 });
    assert.deepEqual(r.removed.map((f) => f.kind), ["blob"]);
    assert.ok((await exists(r1)) && (await exists(r3)));
    // The record still names the blob: a registry build can push it without rebuilding it.
    const layers = new LayerCache(cache);
    assert.equal((await layers.get("1".repeat(64)))?.digest, gone);
    // Old, unused records go like any other file when the cache is over its limit.
    await age(r1, 9 * HOUR);
    const again = await evictCache(cache, { maxBytes: 1000, targetRatio: 0.5 });
    assert.deepEqual(again.removed.map((f) => [f.kind, f.path]).slice(0, 1), [["layerRecord", r1]]);
  });
});

test("LayerCache.get() marks a record used, so eviction keeps records in use", async () => {
  await withCache(async (cache) => {
    const d = await blob(cache, "u", 10, 0);
    const path = await record(cache, "4".repeat(64), d, 5 * HOUR);
    const before = (await stat(path)).mtimeMs;
    await new LayerCache(cache).get("4".repeat(64));
    assert.ok((await stat(path)).mtimeMs > before + HOUR);
  });
});

test("evictCache() keeps files used within the grace period even over the limit", async () => {
  await withCache(async (cache) => {
    const store = new BlobStore(cache);
    const recent = await blob(cache, "r", 5000, 60_000);
    const old = await blob(cache, "o", 1000, 2 * DEFAULT_GRACE_MS);
    const r = await evictCache(cache, { maxBytes: 1000 });
    assert.deepEqual(r.removed.map((f) => f.path), [store.path(old)]);
    assert.equal(r.keptRecent, 1);
    assert.ok(await exists(store.path(recent)));
    const none = await evictCache(cache, { maxBytes: 1000, graceMs: 0 });
    assert.deepEqual(none.removed.map((f) => f.path), [store.path(recent)]);
  });
});

test("evictCache() evicts wheels, removes their emptied directories later, and stale temp files", async () => {
  await withCache(async (cache) => {
    const hex = sha256Hex("wheel");
    const dir = join(cache, "wheels", "sha256", hex);
    await mkdir(dir, { recursive: true });
    const wheel = join(dir, "w-1.0-py3-none-any.whl");
    await writeFile(wheel, new Uint8Array(2000));
    await age(wheel, 3 * HOUR);
    const freshTemp = join(cache, "blobs", "sha256", ".put.aaaa1111.tmp");
    const staleTemp = join(cache, "blobs", "sha256", ".put.bbbb2222.tmp");
    await mkdir(join(cache, "blobs", "sha256"), { recursive: true });
    await writeFile(freshTemp, new Uint8Array(100));
    await writeFile(staleTemp, new Uint8Array(100));
    await age(staleTemp, 2 * HOUR);
    const r = await evictCache(cache, { maxBytes: 1000 });
    assert.deepEqual(r.removed.map((f) => [f.kind, f.path]).sort(), [
      ["temp", staleTemp],
      ["wheel", wheel],
    ]);
    assert.ok(await exists(freshTemp), "a write in progress is never touched");
    assert.ok(
      await exists(dir),
      "the emptied directory is kept for a while (a download may be starting)",
    );
    await age(dir, 2 * DEFAULT_GRACE_MS);
    await evictCache(cache, { maxBytes: 1000 });
    assert.deepEqual(await readdir(join(cache, "wheels", "sha256")), []);
  });
});

test("evictCache() with sweepRecords removes damaged records and keeps ones whose blob is gone", async () => {
  await withCache(async (cache) => {
    const present = await blob(cache, "p", 10, 0);
    const orphan = await record(cache, "a".repeat(64), `sha256:${"f".repeat(64)}`, 0);
    const damaged = join(cache, "layers", `${"b".repeat(64)}.json`);
    await writeFile(damaged, "{not json");
    const good = await record(cache, "c".repeat(64), present, 0);
    const quiet = await evictCache(cache, { maxBytes: 1e9 });
    assert.deepEqual(quiet.removed, [], "under the limit, records are not read at all");
    const r = await evictCache(cache, { maxBytes: 1e9, sweepRecords: true });
    assert.deepEqual(r.removed.map((f) => f.path), [damaged]);
    assert.ok((await exists(good)) && (await exists(orphan)));
  });
});

test("evictCache() gives up while another process holds the cache's lock", async () => {
  await withCache(async (cache) => {
    await blob(cache, "x", 1000, 5 * HOUR);
    const r = await withDirLock(cache, () => evictCache(cache, { maxBytes: 0, lockWaitMs: 50 }));
    assert.equal(r.locked, true);
    assert.deepEqual(r.removed, []);
    const again = await evictCache(cache, { maxBytes: 0 });
    assert.equal(again.removed.length, 1);
    assert.ok(!(await exists(join(cache, ".pycontainer.lock"))));
  });
});

test("evictCache() on a missing directory removes nothing", async () => {
  const r = await evictCache(join(tmpdir(), `absent-${crypto.randomUUID()}`), { maxBytes: 0 });
  assert.deepEqual(r.removed, []);
  assert.equal(r.locked, false);
});

test("clearCache() removes pycontainer's entries and leaves unknown ones", async () => {
  await withCache(async (cache) => {
    const d = await blob(cache, "z", 500, 0);
    await record(cache, "e".repeat(64), d, 0);
    await mkdir(join(cache, "target-env"));
    await writeFile(join(cache, "target-env", "t.json"), "{}");
    await writeFile(join(cache, "mine.txt"), "keep me");
    await mkdir(join(cache, ".clear.deadbeef.tmp"));
    await writeFile(join(cache, ".clear.deadbeef.tmp", "x"), "left by a killed clear");
    const r = await clearCache(cache);
    assert.equal(r.existed, true);
    assert.deepEqual(r.removed.sort(), [".clear.deadbeef.tmp", "blobs", "layers", "target-env"]);
    assert.deepEqual(r.kept, ["mine.txt"]);
    assert.equal(r.files, 4);
    assert.ok(r.bytes >= 500 + 2 + 22);
    assert.deepEqual(await readdir(cache), ["mine.txt"]);
    const missing = await clearCache(join(cache, "nope"));
    assert.equal(missing.existed, false);
  });
});

test("autoEvict() measures the cache only when its estimate reaches the limit or is old", async () => {
  await withCache(async (cache) => {
    const store = new BlobStore(cache);
    const small = await blob(cache, "s", 3000, 5 * HOUR);
    const first = await autoEvict(cache, { maxBytes: 10_000 });
    assert.equal(first?.bytesBefore, 3000, "no estimate yet: a full measurement");
    assert.deepEqual(first?.removed, []);
    const stamp = JSON.parse(await readFile(join(cache, "eviction.json"), "utf8"));
    assert.equal(stamp.bytes, 3000);

    // Written behind the estimate's back: not noticed until the estimate or the clock says so.
    const big = await blob(cache, "b", 20_000, 4 * HOUR);
    assert.equal(await autoEvict(cache, { maxBytes: 10_000, addedBytes: 1000 }), undefined);
    assert.ok(await exists(store.path(big)));
    assert.equal(JSON.parse(await readFile(join(cache, "eviction.json"), "utf8")).bytes, 4000);

    const due = await autoEvict(cache, { maxBytes: 10_000, addedBytes: 6001 });
    assert.deepEqual(due?.removed.map((f) => f.path), [store.path(small), store.path(big)]);
    assert.equal(JSON.parse(await readFile(join(cache, "eviction.json"), "utf8")).bytes, 0);

    const late = await blob(cache, "l", 20_000, 3 * HOUR);
    assert.equal(await autoEvict(cache, { maxBytes: 10_000 }), undefined);
    const later = await autoEvict(cache, {
      maxBytes: 10_000,
      now: Date.now() + DEFAULT_CHECK_INTERVAL_MS + 1000,
    });
    assert.deepEqual(later?.removed.map((f) => f.path), [store.path(late)]);
  });
});

test("autoEvict() never fails a build: a missing cache, a file instead of a directory, a damaged estimate", async () => {
  const missing = await autoEvict(join(tmpdir(), `absent-${crypto.randomUUID()}`), {
    maxBytes: 0,
  });
  assert.deepEqual(missing?.removed ?? [], []);
  await withCache(async (cache) => {
    await writeFile(join(cache, "file"), "not a directory");
    const notDir = await autoEvict(join(cache, "file"), { maxBytes: 0 });
    assert.deepEqual(notDir?.removed ?? [], []);
    await writeFile(join(cache, "eviction.json"), "garbage");
    const old = await blob(cache, "o", 100, 5 * HOUR);
    const r = await autoEvict(cache, { maxBytes: 50 });
    assert.deepEqual(r?.removed.map((f) => f.path), [new BlobStore(cache).path(old)]);
  });
});
