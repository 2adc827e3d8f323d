import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeferredBlobs } from "../../src/build/deferred_blobs.ts";
import { describeBytes } from "../../src/oci/digest.ts";
import { chainBlobSources, readBlob } from "../../src/store/blob_source.ts";
import { BlobStore } from "../../src/store/blob_store.ts";
import { PycontainerError } from "../../src/errors.ts";

const MEDIA = "application/vnd.oci.image.layer.v1.tar+gzip";

async function withStore(fn: (store: BlobStore) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "pycontainer-deferred-"));
  try {
    await fn(new BlobStore(dir));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const blob = (text: string) => new TextEncoder().encode(text);
const stream = (bytes: Uint8Array) => new Blob([bytes as Uint8Array<ArrayBuffer>]).stream();

test("DeferredBlobs.open() builds a deferred blob once, however many consumers ask", async () => {
  await withStore(async (store) => {
    const bytes = blob("layer bytes");
    const descriptor = describeBytes(bytes, MEDIA);
    const deferred = new DeferredBlobs(store);
    let builds = 0;
    deferred.defer(descriptor, "app files", async () => {
      builds++;
      return (await store.put(stream(bytes), MEDIA)).digest;
    });
    assert.equal(await deferred.has(descriptor), true);
    assert.equal(await store.has(descriptor), false, "nothing is built before a consumer asks");
    const reads = await Promise.all([1, 2, 3].map(() => readBlob(deferred, descriptor, "test")));
    assert.equal(builds, 1);
    for (const r of reads) assert.deepEqual(r, bytes);
    assert.equal(await store.has(descriptor), true);
    assert.equal(await deferred.localPath(descriptor), store.path(descriptor.digest));
    assert.deepEqual(deferred.digests(), [descriptor.digest]);
  });
});

test("DeferredBlobs.open() refuses a rebuild whose digest differs from the record", async () => {
  await withStore(async (store) => {
    const recorded = describeBytes(blob("what the cache recorded"), MEDIA);
    const deferred = new DeferredBlobs(store);
    let builds = 0;
    deferred.defer(recorded, "dependencies", async () => {
      builds++;
      return (await store.put(stream(blob("something else")), MEDIA)).digest;
    });
    await assert.rejects(deferred.open(recorded), (e: unknown) => {
      assert.ok(e instanceof PycontainerError);
      assert.match(
        e.message,
        /layer "dependencies" rebuilt as sha256:[0-9a-f]{64}, but the layer cache recorded/,
      );
      assert.match(e.hint ?? "", /pycontainer cache clear/);
      return true;
    });
    await assert.rejects(deferred.open(recorded), PycontainerError);
    assert.equal(builds, 2, "a failed build is tried again by the next consumer");
  });
});

test("DeferredBlobs does not have, and cannot open, a blob that was never deferred", async () => {
  await withStore(async (store) => {
    const d = describeBytes(blob("unknown"), MEDIA);
    const deferred = new DeferredBlobs(store);
    assert.equal(await deferred.has(d), false);
    await assert.rejects(deferred.open(d), /not found in the deferred layers/);
  });
});

test("DeferredBlobs.open() reads a blob already in the store without building it", async () => {
  await withStore(async (store) => {
    const bytes = blob("already there");
    const d = await store.put(stream(bytes), MEDIA);
    const deferred = new DeferredBlobs(store);
    deferred.defer(d, "app files", () => Promise.reject(new Error("must not build")));
    assert.deepEqual(await readBlob(deferred, d, "test"), bytes);
  });
});

test("DeferredBlobs.prepare() builds the blob ahead of opening it, once", async () => {
  await withStore(async (store) => {
    const bytes = blob("prepared ahead");
    const d = describeBytes(bytes, MEDIA);
    const deferred = new DeferredBlobs(store);
    let builds = 0;
    deferred.defer(d, "app files", async () => {
      builds++;
      return (await store.put(stream(bytes), MEDIA)).digest;
    });
    const chain = chainBlobSources(store, deferred);
    await chain.prepare!(d);
    assert.equal(builds, 1);
    assert.equal(await store.has(d), true, "in the store before anyone opens it");
    assert.deepEqual(await readBlob(chain, d, "test"), bytes);
    await chain.prepare!(d); // now the store has it: nothing to do
    assert.equal(builds, 1);
  });
});
