import { test } from "node:test";
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileEntry, type LayerEntry } from "../../src/layer/entry.ts";
import { normalizeEntries, writeLayer } from "../../src/layer/tar_writer.ts";
import { sha256Hex } from "../../src/runtime/sha256.ts";

async function layerBytes(entries: LayerEntry[], mtime?: number) {
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  const sink = new WritableStream<Uint8Array>({ write: (c) => void chunks.push(c.slice()) });
  const digests = await writeLayer(entries, sink, mtime === undefined ? {} : { mtime });
  const gz = new Uint8Array(await new Blob(chunks).arrayBuffer());
  return { digests, gz, tar: new Uint8Array(gunzipSync(gz)) };
}

function gnuTarList(tar: Uint8Array): string[] {
  const dir = mkdtempSync(join(tmpdir(), "layer-test-"));
  try {
    writeFileSync(join(dir, "l.tar"), tar);
    const out = execFileSync(
      "tar",
      ["--numeric-owner", "--full-time", "-tvf", join(dir, "l.tar")],
      {
        env: { ...process.env, TZ: "UTC" },
      },
    );
    return out.toString().trim().split("\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const streamed = (text: string): LayerEntry => {
  const bytes = new TextEncoder().encode(text);
  return {
    type: "file",
    path: "app/big.bin",
    mode: 0o600,
    content: { kind: "stream", size: bytes.length, open: () => new Blob([bytes]).stream() },
  };
};

test("writeLayer() digests are the sha256 of the gzip and of the tar", async () => {
  const { digests, gz, tar } = await layerBytes([fileEntry("app/app.py", "print('hi')\n")]);
  assert.equal(digests.digest, `sha256:${sha256Hex(gz)}`);
  assert.equal(digests.diffId, `sha256:${sha256Hex(tar)}`);
  assert.equal(digests.size, gz.length);
  assert.equal(digests.uncompressedSize, tar.length);
});

test("writeLayer() writes sorted entries with explicit parents, root owner and fixed mtime", async () => {
  const { tar } = await layerBytes([
    fileEntry("app/src/pkg/mod.py", "x = 1\n", 0o664),
    fileEntry("app/run.sh", "#!/bin/sh\n", 0o700),
    { type: "symlink", path: "app/link.py", target: "src/pkg/mod.py" },
    streamed("streamed content"),
  ], 1_700_000_000);
  const lines = gnuTarList(tar).map((l) => l.replace(/\s+/g, " "));
  assert.deepEqual(lines, [
    "drwxr-xr-x 0/0 0 2023-11-14 22:13:20 app/",
    "-rw-r--r-- 0/0 16 2023-11-14 22:13:20 app/big.bin",
    "lrwxrwxrwx 0/0 0 2023-11-14 22:13:20 app/link.py -> src/pkg/mod.py",
    "-rwxr-xr-x 0/0 10 2023-11-14 22:13:20 app/run.sh",
    "drwxr-xr-x 0/0 0 2023-11-14 22:13:20 app/src/",
    "drwxr-xr-x 0/0 0 2023-11-14 22:13:20 app/src/pkg/",
    "-rw-r--r-- 0/0 6 2023-11-14 22:13:20 app/src/pkg/mod.py",
  ]);
});

test("writeLayer() gives the same digest whatever the input order", async () => {
  const a = [fileEntry("app/a.py", "a"), fileEntry("app/b/c.py", "c"), fileEntry("z.txt", "z")];
  const one = await layerBytes(a);
  const two = await layerBytes([...a].reverse());
  assert.equal(one.digests.digest, two.digests.digest);
  assert.equal(one.digests.diffId, two.digests.diffId);
});

test("writeLayer() stores paths longer than 256 bytes (PAX)", async () => {
  const long = `app/${"d".repeat(120)}/${"e".repeat(120)}/${"f".repeat(60)}.py`;
  const { tar } = await layerBytes([fileEntry(long, "x")]);
  assert.ok(gnuTarList(tar).some((l) => l.endsWith(long)));
});

test("writeLayer() fails when a streamed file's size changed", async () => {
  const entry: LayerEntry = {
    type: "file",
    path: "app/grew.txt",
    mode: 0o644,
    content: { kind: "stream", size: 3, open: () => new Blob(["longer than 3"]).stream() },
  };
  await assert.rejects(layerBytes([entry]), /"app\/grew.txt" changed size/);
});

test("normalizeEntries() rejects '..', absolute paths and duplicate files", () => {
  assert.throws(() => normalizeEntries([fileEntry("app/../etc/passwd", "")]), /invalid layer path/);
  assert.throws(() => normalizeEntries([fileEntry("/etc/passwd", "")]), /invalid layer path/);
  assert.throws(
    () => normalizeEntries([fileEntry("app/a.py", "1"), fileEntry("app/a.py", "2")]),
    /two layer entries write "app\/a.py"/,
  );
  assert.throws(
    () => normalizeEntries([fileEntry("app", "1"), fileEntry("app/a.py", "2")]),
    /"app" is a file/,
  );
});
