import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PycontainerError } from "../../src/errors.ts";
import { describeBytes } from "../../src/oci/digest.ts";
import { MediaType } from "../../src/oci/media_types.ts";
import type { Descriptor, ImageConfig, ImageManifest } from "../../src/oci/types.ts";
import type { BlobSource } from "../../src/store/blob_source.ts";
import { chainBlobSources, memoryBlobSource, readBlob } from "../../src/store/blob_source.ts";
import {
  parseOciLayoutReference,
  readOciLayout,
  REF_NAME_ANNOTATION,
} from "../../src/store/layout_reader.ts";
import { writeOciLayout } from "../../src/store/layout_writer.ts";
import { LOCK_FILE_NAME, withDirLock } from "../../src/store/dir_lock.ts";
import { spawn, spawnSync } from "node:child_process";
import { BlobStore } from "../../src/store/blob_store.ts";
import { DigestMismatchError } from "../../src/store/verify_stream.ts";
import { baseLayoutPath, run } from "../integration/_registry.ts";

const root = await mkdtemp(join(tmpdir(), "pycontainer-layout-"));
after(() => rm(root, { recursive: true, force: true }));

const base = await readOciLayout(baseLayoutPath());
const baseDesc = base.resolve("bookworm");
const baseManifest = JSON.parse(
  new TextDecoder().decode(await readBlob(base.blobs, baseDesc, "base")),
) as ImageManifest;
const baseConfig = JSON.parse(
  new TextDecoder().decode(await readBlob(base.blobs, baseManifest.config, "base")),
) as ImageConfig;

const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

/** A new image on the base's layers with a label, as the image writer would make it. */
function derived(label: string): { descriptor: Descriptor; source: BlobSource } {
  const config = enc({
    ...baseConfig,
    config: { ...baseConfig.config, Labels: { "test.label": label } },
  });
  const configDesc = describeBytes(config, MediaType.ociConfig);
  const manifest = enc({
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: configDesc,
    layers: baseManifest.layers,
  });
  return {
    descriptor: describeBytes(manifest, MediaType.ociManifest),
    source: chainBlobSources(memoryBlobSource([config, manifest]), base.blobs),
  };
}

async function blobNames(dir: string): Promise<string[]> {
  return (await readdir(join(dir, "blobs", "sha256"))).sort();
}

test("writeOciLayout() writes a layout skopeo and umoci accept", async () => {
  const dir = join(root, "roundtrip");
  const image = derived("one");
  const result = await writeOciLayout(dir, {
    manifests: [{ descriptor: image.descriptor, tag: "latest" }],
    blobs: image.source,
  });
  assert.equal(result.written.length, 2 + baseManifest.layers.length);
  assert.deepEqual(result.removed, []);
  assert.equal(await readFile(join(dir, "oci-layout"), "utf8"), '{"imageLayoutVersion":"1.0.0"}');
  const index = JSON.parse(await readFile(join(dir, "index.json"), "utf8"));
  assert.equal(index.schemaVersion, 2);
  assert.equal(index.manifests.length, 1);
  assert.equal(index.manifests[0].digest, image.descriptor.digest);
  assert.equal(index.manifests[0].annotations[REF_NAME_ANNOTATION], "latest");

  const inspect = JSON.parse(await run("skopeo", ["inspect", `oci:${dir}:latest`]));
  assert.equal(inspect.Digest, image.descriptor.digest);
  assert.equal(inspect.Labels["test.label"], "one");
  assert.deepEqual(inspect.Layers, baseManifest.layers.map((l) => l.digest));
  assert.match(await run("umoci", ["ls", "--layout", dir]), /^latest$/m);
  const stat = await run("umoci", ["stat", "--image", `${dir}:latest`]);
  assert.match(stat, /LAYER/);
  assert.ok(!(await readdir(dir)).some((n) => n.endsWith(".tmp")));
  assert.ok(!(await blobNames(dir)).some((n) => n.endsWith(".tmp")));
});

test("writeOciLayout() replaces a tag, keeps other tags and removes unreferenced blobs", async () => {
  const dir = join(root, "retag");
  const one = derived("one");
  const two = derived("two");
  const three = derived("three");
  await writeOciLayout(dir, {
    manifests: [{ descriptor: one.descriptor, tag: "a" }],
    blobs: one.source,
  });
  await writeOciLayout(dir, {
    manifests: [{ descriptor: two.descriptor, tag: "b" }],
    blobs: two.source,
  });
  const before = await blobNames(dir);
  assert.equal(before.length, 4 + baseManifest.layers.length);

  const result = await writeOciLayout(dir, {
    manifests: [{ descriptor: three.descriptor, tag: "a" }],
    blobs: three.source,
  });
  assert.equal(result.written.length, 2, "only the new config and manifest are written");
  assert.equal(result.reused.length, baseManifest.layers.length);
  assert.equal(result.removed.length, 2, "image one's config and manifest are gone");
  assert.ok(result.removed.includes(one.descriptor.digest));
  const tags = result.index.manifests.map((d) => [d.annotations?.[REF_NAME_ANNOTATION], d.digest]);
  assert.deepEqual(tags, [["b", two.descriptor.digest], ["a", three.descriptor.digest]]);
  assert.equal((await blobNames(dir)).length, before.length);

  const inspectA = JSON.parse(await run("skopeo", ["inspect", `oci:${dir}:a`]));
  assert.equal(inspectA.Labels["test.label"], "three");
  const inspectB = JSON.parse(await run("skopeo", ["inspect", `oci:${dir}:b`]));
  assert.equal(inspectB.Labels["test.label"], "two");
  const listed = (await run("umoci", ["ls", "--layout", dir])).trim().split("\n").sort();
  assert.deepEqual(listed, ["a", "b"]);

  const again = await writeOciLayout(dir, {
    manifests: [{ descriptor: three.descriptor, tag: "a" }],
    blobs: three.source,
  });
  assert.deepEqual(again.written, [], "a no-change rebuild writes no blob");
  assert.deepEqual(again.removed, []);
});

test("writeOciLayout() writes an index with its platform manifests", async () => {
  const dir = join(root, "index");
  const amd = derived("amd64");
  const armConfig = enc({ ...baseConfig, architecture: "arm64" });
  const armConfigDesc = describeBytes(armConfig, MediaType.ociConfig);
  const armManifest = enc({
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: armConfigDesc,
    layers: baseManifest.layers,
  });
  const armDesc = describeBytes(armManifest, MediaType.ociManifest);
  const index = enc({
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: [
      { ...amd.descriptor, platform: { os: "linux", architecture: "amd64" } },
      { ...armDesc, platform: { os: "linux", architecture: "arm64" } },
    ],
  });
  const indexDesc = describeBytes(index, MediaType.ociIndex);
  await writeOciLayout(dir, {
    manifests: [{ descriptor: indexDesc, tag: "multi" }],
    blobs: chainBlobSources(memoryBlobSource([index, armConfig, armManifest]), amd.source),
  });
  const raw = JSON.parse(await run("skopeo", ["inspect", "--raw", `oci:${dir}:multi`]));
  assert.equal(raw.manifests.length, 2);
  const names = await blobNames(dir);
  for (const d of [indexDesc, amd.descriptor, armDesc, armConfigDesc]) {
    assert.ok(names.includes(d.digest.slice(7)), `${d.digest} written`);
  }
  const layout = await readOciLayout(dir);
  assert.equal(layout.resolve("multi").digest, indexDesc.digest);
  assert.equal(layout.resolve().digest, indexDesc.digest, "the only entry needs no tag");
});

test("writeOciLayout() refuses a corrupt blob and leaves the layout as it was", async () => {
  const dir = join(root, "corrupt");
  const good = derived("good");
  await writeOciLayout(dir, {
    manifests: [{ descriptor: good.descriptor, tag: "latest" }],
    blobs: good.source,
  });
  const indexBefore = await readFile(join(dir, "index.json"), "utf8");
  const config = enc({ ...baseConfig, architecture: "arm64" });
  const configDesc = describeBytes(config, MediaType.ociConfig);
  const manifest = enc({
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: configDesc,
    layers: [],
  });
  const manifestDesc = describeBytes(manifest, MediaType.ociManifest);
  const lying: BlobSource = {
    ...memoryBlobSource([manifest]),
    has: () => Promise.resolve(true),
    open: (d) =>
      d.digest === configDesc.digest
        ? Promise.resolve(new Blob([config.map((b) => b ^ 1)]).stream())
        : memoryBlobSource([manifest]).open(d),
  };
  await assert.rejects(
    writeOciLayout(dir, { manifests: [{ descriptor: manifestDesc, tag: "latest" }], blobs: lying }),
    DigestMismatchError,
  );
  assert.equal(await readFile(join(dir, "index.json"), "utf8"), indexBefore);
  assert.ok(!(await blobNames(dir)).includes(configDesc.digest.slice(7)));
  assert.ok(!(await blobNames(dir)).some((n) => n.endsWith(".tmp")));
});

test("writeOciLayout() refuses a non-empty directory that is not a layout", async () => {
  const dir = join(root, "project");
  await mkdir(dir);
  await writeFile(join(dir, "app.py"), "print(1)\n");
  const image = derived("x");
  await assert.rejects(
    writeOciLayout(dir, {
      manifests: [{ descriptor: image.descriptor, tag: "t" }],
      blobs: image.source,
    }),
    (e: unknown) => {
      assert.ok(e instanceof PycontainerError);
      assert.equal(e.message, `output directory ${dir} exists and is not an OCI image layout`);
      assert.equal(e.exitCode, 2);
      return true;
    },
  );
  assert.deepEqual(await readdir(dir), ["app.py"]);
});

test("writeOciLayout() names the directory when it cannot write", async () => {
  const file = join(root, "a-file");
  await writeFile(file, "x");
  const image = derived("x");
  await assert.rejects(
    writeOciLayout(join(file, "out"), {
      manifests: [{ descriptor: image.descriptor, tag: "t" }],
      blobs: image.source,
    }),
    (e: unknown) => {
      assert.ok(e instanceof PycontainerError);
      assert.ok(
        e.message.startsWith(`cannot write OCI layout to ${join(file, "out")}: `),
        e.message,
      );
      assert.match(e.hint ?? "", /writable --output/);
      return true;
    },
  );
});

test("readOciLayout() resolves tags and explains missing ones", async () => {
  assert.equal(base.resolve("bookworm").digest, baseDesc.digest);
  assert.throws(() => base.resolve("nope"), /tag "nope" not found in OCI layout .*base-layout/);
  await assert.rejects(readOciLayout(join(root, "missing")), /OCI layout .*missing not found/);
  await mkdir(join(root, "plain"));
  await assert.rejects(
    readOciLayout(join(root, "plain")),
    /is not an OCI image layout \(it has no oci-layout file\)/,
  );
  const dir = join(root, "two-tags");
  const one = derived("1");
  const two = derived("2");
  await writeOciLayout(dir, {
    manifests: [{ descriptor: one.descriptor, tag: "x" }, { descriptor: two.descriptor, tag: "y" }],
    blobs: chainBlobSources(one.source, two.source),
  });
  const layout = await readOciLayout(dir);
  assert.throws(() => layout.resolve(), (e: unknown) => {
    assert.ok(e instanceof PycontainerError);
    assert.match(e.message, /holds 2 images; say which with oci-layout:PATH:TAG/);
    assert.equal(e.hint, "tags in it: x, y");
    return true;
  });
});

test("parseOciLayoutReference() splits path and tag", () => {
  assert.deepEqual(parseOciLayoutReference("oci-layout:/data/img:v1"), {
    path: "/data/img",
    tag: "v1",
  });
  assert.deepEqual(parseOciLayoutReference("oci-layout:/data/img"), { path: "/data/img" });
  assert.deepEqual(parseOciLayoutReference("oci-layout:img:3.11", "/ctx"), {
    path: "/ctx/img",
    tag: "3.11",
  });
  assert.deepEqual(parseOciLayoutReference("oci-layout:./a:b/c", "/ctx"), { path: "/ctx/a:b/c" });
  assert.throws(
    () => parseOciLayoutReference("oci-layout:"),
    (e: unknown) => e instanceof PycontainerError && e.exitCode === 2,
  );
  assert.throws(
    () => parseOciLayoutReference("oci-layout:/x:"),
    /expected oci-layout:PATH\[:TAG\]/,
  );
});

test("writeOciLayout() verifies blobs it copies from a local file", async () => {
  const store = new BlobStore(join(root, "cache-for-copy"));
  const config = enc({ ...baseConfig, architecture: "riscv64" });
  const configDesc = await store.put(new Blob([config]).stream(), MediaType.ociConfig);
  const manifest = enc({
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: configDesc,
    layers: [],
  });
  const manifestDesc = describeBytes(manifest, MediaType.ociManifest);
  const source = chainBlobSources(memoryBlobSource([manifest]), store);
  const good = join(root, "copy-good");
  const result = await writeOciLayout(good, {
    manifests: [{ descriptor: manifestDesc, tag: "t" }],
    blobs: source,
  });
  assert.deepEqual(result.written.sort(), [configDesc.digest, manifestDesc.digest].sort());

  await writeFile(store.path(configDesc.digest), config.map((b) => (b === 0x22 ? 0x27 : b)));
  await assert.rejects(
    writeOciLayout(join(root, "copy-bad"), {
      manifests: [{ descriptor: manifestDesc, tag: "t" }],
      blobs: source,
    }),
    (e: unknown) => {
      assert.ok(e instanceof DigestMismatchError);
      assert.ok(
        e.message.startsWith(
          `blob ${configDesc.digest} from ${store.path(configDesc.digest)} is corrupt`,
        ),
        e.message,
      );
      assert.equal(
        e.hint,
        `delete ${store.path(configDesc.digest)} (a damaged cache file) and run again`,
      );
      return true;
    },
  );
  assert.deepEqual(await blobNames(join(root, "copy-bad")), []);
});

test("writeOciLayout() run concurrently into one directory keeps every tag", async () => {
  const dir = join(root, "concurrent");
  const images = ["c1", "c2", "c3", "c4"].map((t) => ({ tag: t, ...derived(t) }));
  await Promise.all(
    images.map((i) =>
      writeOciLayout(dir, {
        manifests: [{ descriptor: i.descriptor, tag: i.tag }],
        blobs: i.source,
      })
    ),
  );
  const layout = await readOciLayout(dir);
  for (const i of images) assert.equal(layout.resolve(i.tag).digest, i.descriptor.digest);
  const listed = (await run("umoci", ["ls", "--layout", dir])).trim().split("\n").sort();
  assert.deepEqual(listed, ["c1", "c2", "c3", "c4"]);
  assert.ok(!(await readdir(dir)).includes(LOCK_FILE_NAME), "the lock is released");
});

test("withDirLock() breaks a dead owner's lock and times out on a live one", async () => {
  const dir = await mkdtemp(join(root, "lock-"));
  const dead = spawnSync("true").pid!;
  await writeFile(join(dir, LOCK_FILE_NAME), `${dead}\n`);
  assert.equal(await withDirLock(dir, () => Promise.resolve("got it"), { waitMs: 2000 }), "got it");
  assert.ok(!(await readdir(dir)).includes(LOCK_FILE_NAME));

  const sleeper = spawn("sleep", ["30"]);
  try {
    await writeFile(join(dir, LOCK_FILE_NAME), `${sleeper.pid}\n`);
    await assert.rejects(
      withDirLock(dir, () => Promise.resolve(1), { waitMs: 200 }),
      (e: unknown) => {
        assert.ok(e instanceof PycontainerError);
        assert.equal(
          e.message,
          `${dir} is locked by another pycontainer process (pid ${sleeper.pid})`,
        );
        assert.match(e.hint ?? "", new RegExp(`delete ${join(dir, LOCK_FILE_NAME)}`));
        return true;
      },
    );
    assert.equal(
      await withDirLock(dir, () => Promise.resolve(2), { waitMs: 200, staleMs: 0 }),
      2,
      "a stale lock is broken",
    );
  } finally {
    sleeper.kill();
  }
});
