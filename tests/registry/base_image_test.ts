import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PycontainerError } from "../../src/errors.ts";
import { describeBytes } from "../../src/oci/digest.ts";
import { MediaType } from "../../src/oci/media_types.ts";
import type { ImageConfig, ImageManifest } from "../../src/oci/types.ts";
import { resolveBaseImage } from "../../src/registry/base_image.ts";
import { RegistryClient, type RegistryEvent } from "../../src/registry/client.ts";
import { RegistryError } from "../../src/registry/registry_error.ts";
import { chainBlobSources, memoryBlobSource, readBlob } from "../../src/store/blob_source.ts";
import { BlobStore } from "../../src/store/blob_store.ts";
import { readOciLayout } from "../../src/store/layout_reader.ts";
import { writeOciLayout } from "../../src/store/layout_writer.ts";
import {
  baseLayoutPath,
  freePort,
  pushLayoutToRegistry,
  run,
  startRegistry,
  type TestRegistry,
} from "../integration/_registry.ts";

const amd64 = { os: "linux", architecture: "amd64" };
const arm64 = { os: "linux", architecture: "arm64" };
const noCredentials = { get: () => Promise.resolve(undefined) };

let registry: TestRegistry;
let work: string;
let baseDigest: string;
let baseManifest: ImageManifest;
let baseManifestBytes: Uint8Array;
let baseConfig: ImageConfig;

before(async () => {
  work = await mkdtemp(join(tmpdir(), "pycontainer-pull-"));
  const layoutDir = baseLayoutPath();
  const layout = await readOciLayout(layoutDir);
  const desc = layout.resolve("bookworm");
  baseDigest = desc.digest;
  baseManifestBytes = await readBlob(layout.blobs, desc, "base");
  baseManifest = JSON.parse(new TextDecoder().decode(baseManifestBytes));
  baseConfig = JSON.parse(
    new TextDecoder().decode(await readBlob(layout.blobs, baseManifest.config, "base")),
  );

  // A two-platform index: the real amd64 image, and an "arm64" image on the same layers.
  const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
  const armConfig = enc({ ...baseConfig, architecture: "arm64", variant: "v8" });
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
      { ...desc, annotations: undefined, platform: amd64 },
      { ...armDesc, platform: { ...arm64, variant: "v8" } },
    ],
  });
  const multiDir = join(work, "multi-layout");
  await writeOciLayout(multiDir, {
    manifests: [{ descriptor: describeBytes(index, MediaType.ociIndex), tag: "multi" }],
    blobs: chainBlobSources(memoryBlobSource([index, armConfig, armManifest]), layout.blobs),
  });

  const armDir = join(work, "arm-layout");
  await writeOciLayout(armDir, {
    manifests: [{ descriptor: armDesc, tag: "arm" }],
    blobs: chainBlobSources(memoryBlobSource([armConfig, armManifest]), layout.blobs),
  });

  registry = await startRegistry();
  await dockerManifestList(layoutDir, armDir);
  await pushLayoutToRegistry(layoutDir, "bookworm", `${registry.host}/base/python:bookworm`);
  await pushLayoutToRegistry(layoutDir, "bookworm", `${registry.host}/library/python:3.11-slim`);
  await pushLayoutToRegistry(multiDir, "multi", `${registry.host}/multi/python:3.11`, {
    all: true,
  });
});

after(async () => {
  await registry?.stop();
  await rm(work, { recursive: true, force: true });
});

/** Pushes both images in Docker schema 2 form and a Docker manifest list over them. */
async function dockerManifestList(amdLayout: string, armLayout: string): Promise<void> {
  const push = (layout: string, tag: string, to: string) =>
    run("skopeo", [
      "--insecure-policy",
      "copy",
      "--quiet",
      "--dest-tls-verify=false",
      "--format",
      "v2s2",
      `oci:${layout}:${tag}`,
      `docker://${registry.host}/dlist/python:${to}`,
    ]);
  await push(amdLayout, "bookworm", "amd64");
  await push(armLayout, "arm", "arm64");
  const entry = async (tag: string, platform: object) => {
    const res = await fetch(`${registry.url}/v2/dlist/python/manifests/${tag}`, {
      headers: { accept: MediaType.dockerManifest },
    });
    const bytes = new Uint8Array(await res.arrayBuffer());
    assert.equal(res.headers.get("content-type"), MediaType.dockerManifest);
    return { ...describeBytes(bytes, MediaType.dockerManifest), platform };
  };
  const list = JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.dockerManifestList,
    manifests: [await entry("amd64", amd64), await entry("arm64", { ...arm64, variant: "v8" })],
  });
  const put = await fetch(`${registry.url}/v2/dlist/python/manifests/3.11`, {
    method: "PUT",
    headers: { "content-type": MediaType.dockerManifestList },
    body: list,
  });
  await put.body?.cancel();
  assert.equal(put.status, 201);
}

function newStore(): BlobStore {
  return new BlobStore(join(work, `cache-${crypto.randomUUID()}`));
}

function counting(): { client: RegistryClient; blobGets: () => number; events: RegistryEvent[] } {
  const events: RegistryEvent[] = [];
  const client = new RegistryClient({ credentials: noCredentials, onEvent: (e) => events.push(e) });
  return {
    client,
    events,
    blobGets: () =>
      events.filter((e) => e.type === "request" && e.method === "GET" && e.url.includes("/blobs/"))
        .length,
  };
}

test("resolveBaseImage() pulls a base image by full reference over plain HTTP on loopback", async () => {
  const store = newStore();
  const base = await resolveBaseImage(`${registry.host}/base/python:bookworm`, amd64, {
    store,
    credentials: noCredentials,
  });
  assert.equal(base.kind, "registry");
  assert.equal(base.reference, `${registry.host}/base/python:bookworm`);
  assert.deepEqual(base.repository, { registry: registry.host, repository: "base/python" });
  assert.equal(base.manifestDigest, baseDigest);
  assert.equal(base.indexDigest, undefined);
  assert.deepEqual(base.layers, baseManifest.layers);
  assert.equal(base.config.descriptor?.digest, baseManifest.config.digest);
  assert.deepEqual(base.config.value.config?.Cmd, ["python3"]);
  assert.deepEqual(base.config.value.rootfs, baseConfig.rootfs);
  assert.deepEqual(base.platform, amd64);
});

test("resolveBaseImage() pulls python:3.11-slim from a registry mirror", async () => {
  const events: RegistryEvent[] = [];
  const base = await resolveBaseImage("python:3.11-slim", amd64, {
    client: new RegistryClient({
      mirror: registry.host,
      credentials: noCredentials,
      onEvent: (e) => events.push(e),
    }),
    store: newStore(),
  });
  assert.equal(base.reference, "docker.io/library/python:3.11-slim");
  assert.deepEqual(base.repository, { registry: "docker.io", repository: "library/python" });
  assert.equal(base.manifestDigest, baseDigest);
  const urls = events.filter((e) => e.type === "request").map((e) => (e as { url: string }).url);
  assert.ok(
    urls.length > 0 && urls.every((u) => u.startsWith(`${registry.url}/v2/library/python/`)),
    urls.join(),
  );
});

test("resolveBaseImage() selects the platform from an index, variant included", async () => {
  const store = newStore();
  const ref = `${registry.host}/multi/python:3.11`;
  const arm = await resolveBaseImage(ref, { ...arm64, variant: "v8" }, {
    store,
    credentials: noCredentials,
  });
  assert.equal(arm.config.value.architecture, "arm64");
  assert.deepEqual(arm.platform, arm64);
  assert.match(arm.indexDigest ?? "", /^sha256:/);
  assert.notEqual(arm.manifestDigest, baseDigest);
  const amd = await resolveBaseImage(ref, amd64, { store, credentials: noCredentials });
  assert.equal(amd.manifestDigest, baseDigest);
  assert.equal(amd.indexDigest, arm.indexDigest);
});

test("resolveBaseImage() reads Docker manifest lists and schema 2 manifests", async () => {
  const store = newStore();
  const ref = `${registry.host}/dlist/python:3.11`;
  const arm = await resolveBaseImage(ref, arm64, { store, credentials: noCredentials });
  assert.equal(arm.config.value.architecture, "arm64");
  assert.equal(arm.config.descriptor?.mediaType, MediaType.dockerConfig);
  assert.ok(arm.layers.every((l) => l.mediaType === MediaType.dockerLayerGzip));
  assert.deepEqual(arm.layers.map((l) => l.digest), baseManifest.layers.map((l) => l.digest));
  const amd = await resolveBaseImage(ref, amd64, { store, credentials: noCredentials });
  assert.equal(amd.config.value.architecture, "amd64");
  assert.equal(amd.indexDigest, arm.indexDigest);
  assert.notEqual(amd.manifestDigest, arm.manifestDigest);
  await assert.rejects(
    resolveBaseImage(ref, { os: "linux", architecture: "s390x" }, {
      store,
      credentials: noCredentials,
    }),
    /is not available for linux\/s390x \(available platforms: linux\/amd64, linux\/arm64\)$/,
  );
});

test("resolveBaseImage() lists the available platforms when the index lacks the wanted one", async () => {
  await assert.rejects(
    resolveBaseImage(`${registry.host}/multi/python:3.11`, {
      os: "linux",
      architecture: "arm",
      variant: "v7",
    }, {
      store: newStore(),
      credentials: noCredentials,
    }),
    (e: unknown) => {
      assert.ok(e instanceof PycontainerError);
      assert.equal(
        e.message,
        `base image ${registry.host}/multi/python:3.11 is not available for linux/arm/v7 (available platforms: linux/amd64, linux/arm64)`,
      );
      return true;
    },
  );
});

test("resolveBaseImage() refuses a single-platform image of another architecture", async () => {
  await assert.rejects(
    resolveBaseImage(`${registry.host}/base/python:bookworm`, arm64, {
      store: newStore(),
      credentials: noCredentials,
    }),
    (e: unknown) => {
      assert.ok(e instanceof PycontainerError);
      assert.equal(
        e.message,
        `base image ${registry.host}/base/python:bookworm is linux/amd64 only, not linux/arm64`,
      );
      assert.match(e.hint ?? "", /--platform linux\/amd64/);
      return true;
    },
  );
});

test("resolveBaseImage() reports a missing tag or repository as not found (404)", async () => {
  // distribution 2.8 answers MANIFEST_UNKNOWN for an unknown repository too; others say NAME_UNKNOWN.
  for (
    const [ref, code] of [["base/python:nope", "MANIFEST_UNKNOWN"], [
      "nothing/here:1",
      "(MANIFEST|NAME)_UNKNOWN",
    ]]
  ) {
    await assert.rejects(
      resolveBaseImage(`${registry.host}/${ref}`, amd64, {
        store: newStore(),
        credentials: noCredentials,
      }),
      (e: unknown) => {
        assert.ok(e instanceof PycontainerError);
        assert.equal(e.exitCode, 2);
        assert.match(
          e.message,
          new RegExp(
            `^base image ${registry.host}/${ref} not found in ${registry.host} \\(HTTP 404 ${code}\\)$`,
          ),
        );
        assert.match(e.hint ?? "", /--base-image/);
        return true;
      },
    );
  }
  await assert.rejects(
    resolveBaseImage("python:nope", amd64, {
      mirror: registry.host,
      store: newStore(),
      credentials: noCredentials,
    }),
    new RegExp(
      `^PycontainerError: base image python:nope not found in ${registry.host} \\(mirror of docker\\.io\\)`,
    ),
  );
});

test("resolveBaseImage() names an unreachable registry and hints at a mirror", async () => {
  const port = await freePort();
  for (const options of [{}, { mirror: `127.0.0.1:${port}` }]) {
    const ref = "mirror" in options ? "python:3.11-slim" : `127.0.0.1:${port}/x/y:1`;
    const started = Date.now();
    await assert.rejects(
      resolveBaseImage(ref, amd64, { ...options, store: newStore(), credentials: noCredentials }),
      (e: unknown) => {
        assert.ok(e instanceof RegistryError);
        const who = "mirror" in options
          ? `127.0.0.1:${port} (mirror of docker.io)`
          : `127.0.0.1:${port}`;
        assert.ok(e.message.startsWith(`cannot reach registry ${who} (get manifest `), e.message);
        assert.match(e.message, /: (ECONNREFUSED|connection refused)$/);
        assert.match(e.hint ?? "", /--registry-mirror/);
        assert.match(e.hint ?? "", /PYCONTAINER_REGISTRY_MIRROR/);
        return true;
      },
    );
    assert.ok(Date.now() - started < 5000, "a refused connection is not retried for long");
  }
});

test("the blob source downloads base layers once and serves them from the cache", async () => {
  const store = newStore();
  const ref = `${registry.host}/base/python:bookworm`;
  const first = counting();
  const base = await resolveBaseImage(ref, amd64, { client: first.client, store });
  assert.equal(first.blobGets(), 1, "only the config is downloaded while resolving");
  const out = join(work, "out-1");
  await writeOciLayout(out, {
    manifests: [{ descriptor: describeBytes(baseManifestBytes, MediaType.ociManifest), tag: "x" }],
    blobs: chainBlobSources(memoryBlobSource([baseManifestBytes]), base.blobSource),
  });
  assert.equal(first.blobGets(), 1 + base.layers.length);
  for (const l of base.layers) assert.ok(await store.verify(l));
  const inspect = JSON.parse(await run("skopeo", ["inspect", `oci:${out}:x`]));
  assert.equal(inspect.Digest, baseDigest);
  await run("umoci", ["stat", "--image", `${out}:x`]);

  const second = counting();
  const again = await resolveBaseImage(ref, amd64, { client: second.client, store });
  await writeOciLayout(join(work, "out-2"), {
    manifests: [{ descriptor: describeBytes(baseManifestBytes, MediaType.ociManifest), tag: "x" }],
    blobs: chainBlobSources(memoryBlobSource([baseManifestBytes]), again.blobSource),
  });
  assert.equal(second.blobGets(), 0, "a second build downloads nothing");
  const manifestGets = second.events.filter((e) =>
    e.type === "request" && e.url.includes("/manifests/")
  );
  assert.deepEqual(
    manifestGets.map((e) => (e as { method: string }).method),
    ["HEAD"],
    "the tag is still asked for",
  );
});

test("a corrupt cached layer is detected and downloaded again", async () => {
  const store = newStore();
  const ref = `${registry.host}/base/python:bookworm`;
  const base = await resolveBaseImage(ref, amd64, { client: counting().client, store });
  const layer = base.layers[0]!;
  const path = await base.blobSource.localPath!(layer);
  assert.equal(path, store.path(layer.digest));
  // Flip one byte in the middle: same size, wrong content.
  const fh = await open(path!, "r+");
  const buf = new Uint8Array(1);
  await fh.read(buf, 0, 1, 1000);
  buf[0] = buf[0]! ^ 0xff;
  await fh.write(buf, 0, 1, 1000);
  await fh.close();
  assert.ok(!(await store.verify(layer)));

  const fresh = counting();
  const again = await resolveBaseImage(ref, amd64, { client: fresh.client, store });
  const stream = await again.blobSource.open(layer);
  await stream.pipeTo(new WritableStream());
  assert.equal(fresh.blobGets(), 1, "the corrupt layer was downloaded again");
  const states = fresh.events.filter((e) => e.type === "blob" && e.digest === layer.digest)
    .map((e) => (e as { state: string }).state);
  assert.deepEqual(states, ["corrupt", "download", "downloaded"]);
  assert.ok(await store.verify(layer));
});

test("resolveBaseImage() supports scratch and oci-layout bases", async () => {
  const scratch = await resolveBaseImage("scratch", {
    os: "linux",
    architecture: "arm",
    variant: "v7",
  });
  assert.equal(scratch.reference, "scratch");
  assert.deepEqual(scratch.layers, []);
  assert.equal(scratch.manifestDigest, undefined);
  assert.deepEqual(scratch.config.value, {
    architecture: "arm",
    os: "linux",
    variant: "v7",
    config: {},
    rootfs: { type: "layers", diff_ids: [] },
    history: [],
  });

  const layoutDir = baseLayoutPath();
  const local = await resolveBaseImage(`oci-layout:${layoutDir}:bookworm`, amd64);
  assert.equal(local.kind, "oci-layout");
  assert.equal(local.reference, `oci-layout:${layoutDir}:bookworm`);
  assert.equal(local.manifestDigest, baseDigest);
  assert.deepEqual(local.layers, baseManifest.layers);
  const untagged = await resolveBaseImage(`oci-layout:${layoutDir}`, amd64);
  assert.equal(untagged.manifestDigest, baseDigest);

  const multi = await resolveBaseImage(`oci-layout:${join(work, "multi-layout")}:multi`, arm64);
  assert.equal(multi.config.value.architecture, "arm64");
  await assert.rejects(
    resolveBaseImage(`oci-layout:${layoutDir}:nope`, amd64),
    /tag "nope" not found in OCI layout/,
  );
});
