import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileDigests, RACY_WINDOW_MS } from "../../src/cache/file_digests.ts";
import { layerKey } from "../../src/cache/layer_cache.ts";
import { collectAppFiles } from "../../src/project/app_files.ts";
import type { LayerEntry } from "../../src/layer/entry.ts";
import { sha256Hex } from "../../src/runtime/sha256.ts";

const later = () => Date.now() + 10 * RACY_WINDOW_MS;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function withProject(fn: (dir: string) => Promise<void>) {
  const dir = await mkdtemp(join(tmpdir(), "digests-"));
  try {
    await writeFile(join(dir, "pyproject.toml"), '[project]\nname = "x"\n');
    await writeFile(join(dir, "app.py"), 'print("aaaa")\n');
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function appPy(dir: string) {
  const { entries } = await collectAppFiles(dir);
  const e = entries.find((x) => x.path === "app.py");
  assert.ok(e?.type === "file" && e.content.kind === "stream");
  return e.content;
}

test("FileDigests.digest() returns the content's sha256 and records it for the next build", async () => {
  await withProject(async (dir) => {
    const cacheFile = join(dir, "..", `${dir.split("/").pop()}-digests.json`);
    const first = await FileDigests.load(cacheFile, later);
    assert.equal(await first.digest(await appPy(dir)), sha256Hex('print("aaaa")\n'));
    await first.save();
    const saved = JSON.parse(await readFile(cacheFile, "utf8"));
    assert.deepEqual(Object.values(saved), [sha256Hex('print("aaaa")\n')]);
    await rm(cacheFile);
  });
});

test("FileDigests.digest() sees an edit that keeps size and mtime (ctime changes)", async () => {
  // Real waits, no injected clock: Deno reports ctime in whole seconds, so this also proves the
  // racy window covers coarse timestamps.
  await withProject(async (dir) => {
    const cacheFile = join(dir, "digests.json");
    const file = join(dir, "app.py");
    const before = await stat(file);
    await sleep(RACY_WINDOW_MS + 100);
    const one = await FileDigests.load(cacheFile);
    await one.digest(await appPy(dir));
    await one.save();
    assert.equal(Object.keys(JSON.parse(await readFile(cacheFile, "utf8"))).length, 1);
    await writeFile(file, 'print("bbbb")\n'); // same size
    await utimes(file, before.atime, before.mtime); // mtime restored
    assert.ok(
      Math.abs((await stat(file)).mtimeMs - before.mtimeMs) < 2,
      "mtime restored (ms precision)",
    );
    const soon = await FileDigests.load(cacheFile);
    assert.equal(await soon.digest(await appPy(dir)), sha256Hex('print("bbbb")\n'));
    await sleep(RACY_WINDOW_MS + 100);
    const later = await FileDigests.load(cacheFile);
    assert.equal(await later.digest(await appPy(dir)), sha256Hex('print("bbbb")\n'));
  });
});

test("FileDigests does not record files changed within the racy window", async () => {
  await withProject(async (dir) => {
    const cacheFile = join(dir, "digests.json");
    const now = await FileDigests.load(cacheFile); // real clock: app.py was just written
    await now.digest(await appPy(dir));
    await now.save();
    await assert.rejects(readFile(cacheFile), /ENOENT/);
  });
});

test("layerKey() changes with content, mode, path and mtime option, and not with entry order", async () => {
  const files = await FileDigests.load("/nonexistent/digests.json");
  const f = (path: string, text: string, mode = 0o644): LayerEntry => ({
    type: "file",
    path,
    mode,
    content: { kind: "bytes", bytes: new TextEncoder().encode(text) },
  });
  const base = [f("app/a.py", "a"), f("app/b.py", "b")];
  const key = (entries: LayerEntry[], mtime = 0) =>
    layerKey(entries, { mtime, kind: "app" }, files);
  const k = await key(base);
  assert.equal(await key([...base].reverse()), k);
  assert.notEqual(await key([f("app/a.py", "A"), base[1]!]), k);
  assert.notEqual(await key([f("app/a.py", "a", 0o755), base[1]!]), k);
  assert.notEqual(await key([f("app/c.py", "a"), base[1]!]), k);
  assert.notEqual(await key(base, 1), k);
});
