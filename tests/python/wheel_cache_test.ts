import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IndexClient } from "../../src/python/index_client.ts";
import { indexesFromConfig } from "../../src/python/index_config.ts";
import {
  type DownloadEvent,
  downloadWheels,
  wheelCachePath,
  type WheelDownload,
} from "../../src/python/wheel_cache.ts";
import { PycontainerError } from "../../src/errors.ts";
import { type IndexServerOptions, startIndexServer, syntheticWheel } from "./_index_server.ts";

const FILES = [
  syntheticWheel({ name: "alpha", version: "1.0" }),
  syntheticWheel({ name: "beta", version: "2.0" }),
  syntheticWheel({ name: "gamma", version: "3.0" }),
];

async function withCache(
  options: IndexServerOptions,
  fn: (
    cacheDir: string,
    server: Awaited<ReturnType<typeof startIndexServer>>,
    wants: WheelDownload[],
  ) => Promise<void>,
): Promise<void> {
  const server = await startIndexServer({ files: FILES, ...options });
  const cacheDir = await mkdtemp(join(tmpdir(), "wheel-cache-"));
  try {
    const wants = FILES.map((f) => ({
      name: f.filename.split("-")[0]!,
      version: f.filename.split("-")[1]!,
      filename: f.filename,
      url: `${server.origin}/files/${f.filename}`,
      sha256: createHash("sha256").update(f.bytes).digest("hex"),
      size: f.bytes.length,
    }));
    await fn(cacheDir, server, wants);
  } finally {
    await server.close();
    await rm(cacheDir, { recursive: true, force: true });
  }
}

test("downloadWheels() stores verified files by hash and reuses them", async () => {
  await withCache({}, async (cacheDir, server, wants) => {
    const events: DownloadEvent[] = [];
    const got = await downloadWheels(wants, { cacheDir, onEvent: (e) => events.push(e) });
    assert.equal(got.length, 3);
    for (const [i, g] of got.entries()) {
      assert.equal(g.path, wheelCachePath(cacheDir, wants[i]!.sha256, wants[i]!.filename));
      assert.equal(g.cached, false);
      const bytes = await readFile(g.path);
      assert.equal(createHash("sha256").update(bytes).digest("hex"), wants[i]!.sha256);
    }
    assert.equal(events.filter((e) => e.kind === "done").length, 3);
    const hits = server.hits.length;
    const again = await downloadWheels(wants, { cacheDir, onEvent: (e) => events.push(e) });
    assert.ok(again.every((g) => g.cached));
    assert.equal(server.hits.length, hits, "no request for cached wheels");
    assert.equal(events.filter((e) => e.kind === "cached").length, 3);
    // Nothing temporary left behind.
    const dir = join(cacheDir, "wheels", "sha256", wants[0]!.sha256);
    assert.deepEqual(await readdir(dir), [wants[0]!.filename]);
  });
});

test("downloadWheels() refuses a file whose sha256 differs, naming the package and URL", async () => {
  await withCache({ corrupt: ["beta-2.0-py3-none-any.whl"] }, async (cacheDir, _server, wants) => {
    await assert.rejects(
      downloadWheels(wants, { cacheDir }),
      (e: unknown) =>
        e instanceof PycontainerError &&
        e.message.startsWith("beta 2.0: the file downloaded from") &&
        e.message.includes(wants[1]!.url) && e.message.includes(`expected ${wants[1]!.sha256}`),
    );
    const bad = join(cacheDir, "wheels", "sha256", wants[1]!.sha256);
    assert.deepEqual(await readdir(bad).catch(() => []), [], "nothing kept for the bad file");
  });
});

test("downloadWheels() refuses a file whose size differs from the lock", async () => {
  await withCache({}, async (cacheDir, _server, wants) => {
    const wrong = { ...wants[0]!, size: wants[0]!.size! - 10 };
    await assert.rejects(
      downloadWheels([wrong], { cacheDir }),
      (e: unknown) =>
        e instanceof PycontainerError && /alpha 1\.0: .* is larger than the/.test(e.message),
    );
  });
});

test("downloadWheels() retries a 500 and needs a valid sha256 up front", async () => {
  await withCache(
    { failOnce: ["/files/gamma-3.0-py3-none-any.whl"] },
    async (cacheDir, server, wants) => {
      const events: DownloadEvent[] = [];
      const got = await downloadWheels([wants[2]!], {
        cacheDir,
        baseDelayMs: 1,
        onEvent: (e) => events.push(e),
      });
      assert.equal(got[0]!.cached, false);
      assert.deepEqual(
        server.hits.filter((h) => h.path.endsWith("gamma-3.0-py3-none-any.whl")).map((h) =>
          h.status
        ),
        [500, 200],
      );
      assert.equal(events.filter((e) => e.kind === "retry").length, 1);
      await assert.rejects(
        downloadWheels([{ ...wants[0]!, sha256: "md5:abc" }], { cacheDir }),
        (e: unknown) =>
          e instanceof PycontainerError && e.exitCode === 2 && /no valid sha256/.test(e.message),
      );
    },
  );
});

test("downloadWheels() reports a missing file with the URL and status", async () => {
  await withCache({}, async (cacheDir, server, wants) => {
    const missing = { ...wants[0]!, url: `${server.origin}/files/nope-1.0-py3-none-any.whl` };
    await assert.rejects(
      downloadWheels([missing], { cacheDir }),
      (e: unknown) =>
        e instanceof PycontainerError && /HTTP 404/.test(e.message) &&
        e.message.includes("alpha 1.0"),
    );
  });
});

test("downloadWheels() downloads through an IndexClient with the index's credentials", async () => {
  await withCache({ auth: { username: "u", password: "p" } }, async (cacheDir, server, wants) => {
    const client = new IndexClient({
      indexes: indexesFromConfig(undefined, {}, {
        indexUrl: server.url.replace("http://", "http://u:p@"),
      }),
      netrc: false,
    });
    const got = await downloadWheels(wants, {
      cacheDir,
      concurrency: 2,
      open: (url) => client.openUrl(url),
    });
    assert.equal(got.length, 3);
    await assert.rejects(
      downloadWheels([{ ...wants[0]!, sha256: "a".repeat(64) }], { cacheDir }),
      /HTTP 401/,
    );
  });
});

test("downloadWheels() with rehashCached replaces a cached file whose content changed", async () => {
  await withCache({}, async (cacheDir, server, wants) => {
    const [first] = await downloadWheels([wants[0]!], { cacheDir });
    const original = await readFile(first!.path);
    const tampered = new Uint8Array(original);
    tampered[10] = tampered[10]! ^ 0xff;
    await writeFile(first!.path, tampered);
    const trusting = await downloadWheels([wants[0]!], { cacheDir });
    assert.equal(trusting[0]!.cached, true, "same size: reused without rehash");
    const hits = server.hits.length;
    const events: DownloadEvent[] = [];
    const again = await downloadWheels([wants[0]!], {
      cacheDir,
      rehashCached: true,
      onEvent: (e) => events.push(e),
    });
    assert.equal(again[0]!.cached, false);
    assert.equal(server.hits.length, hits + 1);
    assert.deepEqual(await readFile(again[0]!.path), original);
    assert.ok(events.some((e) => e.kind === "evicted"));
  });
});
