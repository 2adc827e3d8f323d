import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PycontainerError } from "../../src/errors.ts";
import { describeBytes, digestOf } from "../../src/oci/digest.ts";
import { BlobStore } from "../../src/store/blob_store.ts";
import { defaultCacheDir } from "../../src/store/cache_dir.ts";
import { chainBlobSources, memoryBlobSource, readBlob } from "../../src/store/blob_source.ts";
import { DigestMismatchError, readVerified, verifyStream } from "../../src/store/verify_stream.ts";

const root = await mkdtemp(join(tmpdir(), "pycontainer-store-"));
after(() => rm(root, { recursive: true, force: true }));

const bytes = (s: string) => new TextEncoder().encode(s);
const streamOf = (b: Uint8Array) => new Blob([b as Uint8Array<ArrayBuffer>]).stream();

test("defaultCacheDir() follows PYCONTAINER_CACHE_DIR, then XDG_CACHE_HOME, then ~/.cache", () => {
  assert.equal(defaultCacheDir({ PYCONTAINER_CACHE_DIR: "/a/b", XDG_CACHE_HOME: "/x" }), "/a/b");
  assert.equal(defaultCacheDir({ XDG_CACHE_HOME: "/x" }), "/x/pycontainer");
  assert.match(defaultCacheDir({}), /\.cache\/pycontainer$/);
});

test("BlobStore.write() stores a verified blob under blobs/sha256/<hex>", async () => {
  const store = new BlobStore(join(root, "w"));
  const data = bytes("hello blob");
  const d = describeBytes(data, "application/octet-stream");
  const path = await store.write(d, streamOf(data), "test");
  assert.equal(path, join(root, "w", "blobs", "sha256", d.digest.slice(7)));
  assert.deepEqual(new Uint8Array(await readFile(path)), data);
  assert.ok(await store.has(d));
  assert.ok(await store.verify(d));
  assert.equal(await new Response(await store.open(d)).text(), "hello blob");
  assert.equal(await store.localPath(d), path);
});

test("BlobStore.write() rejects wrong bytes and leaves nothing behind", async () => {
  const store = new BlobStore(join(root, "bad"));
  const d = describeBytes(bytes("expected"), "application/octet-stream");
  await assert.rejects(store.write(d, streamOf(bytes("tampered")), "registry r"), (e: unknown) => {
    assert.ok(e instanceof DigestMismatchError);
    assert.match(
      e.message,
      /^blob sha256:[0-9a-f]{64} from registry r is corrupt: content has digest sha256:/,
    );
    return true;
  });
  await assert.rejects(
    store.write(d, streamOf(bytes("expected plus more")), "r"),
    /more than the expected 8 bytes/,
  );
  await assert.rejects(store.write(d, streamOf(bytes("short")), "r"), /got 5 bytes, expected 8/);
  assert.deepEqual(await readdir(join(root, "bad", "blobs", "sha256")), []);
  assert.ok(!(await store.has(d)));
});

test("BlobStore.put() computes the digest of a stream", async () => {
  const store = new BlobStore(join(root, "put"));
  const big = new Uint8Array(3 * 1024 * 1024 + 7).map((_, i) => i % 251);
  const d = await store.put(streamOf(big), "application/vnd.oci.image.layer.v1.tar");
  assert.equal(d.digest, digestOf(big));
  assert.equal(d.size, big.byteLength);
  assert.ok(await store.verify(d));
});

test("BlobStore.open() checks the size and verify() catches a same-size corruption", async () => {
  const store = new BlobStore(join(root, "corrupt"));
  const d = await store.put(streamOf(bytes("0123456789")), "x");
  await writeFile(store.path(d.digest), "9876543210");
  assert.ok(await store.has(d));
  assert.ok(!(await store.verify(d)));
  await writeFile(store.path(d.digest), "short");
  await assert.rejects(store.open(d), (e: unknown) => {
    assert.ok(e instanceof PycontainerError);
    assert.match(e.message, /has 5 bytes, expected 10/);
    return true;
  });
  await store.remove(d.digest);
  await assert.rejects(store.open(d), /not found in the blob cache/);
});

test("verifyStream() passes bytes through unchanged", async () => {
  const data = bytes("stream me");
  const d = describeBytes(data, "x");
  assert.deepEqual(await readVerified(streamOf(data), d, "t"), data);
  const out = new Uint8Array(
    await new Response(verifyStream(streamOf(data), d, "t")).arrayBuffer(),
  );
  assert.deepEqual(out, data);
});

test("memoryBlobSource() and chainBlobSources() serve blobs by digest", async () => {
  const a = bytes("a-blob");
  const b = bytes("b-blob");
  const da = describeBytes(a, "x");
  const db = describeBytes(b, "x");
  const source = chainBlobSources(memoryBlobSource([a]), memoryBlobSource([b]));
  assert.deepEqual(await readBlob(source, db, "t"), b);
  assert.deepEqual(await readBlob(source, da, "t"), a);
  const missing = describeBytes(bytes("nope"), "application/x");
  assert.equal(await source.has(missing), false);
  await assert.rejects(source.open(missing), /not found in any source/);
});
