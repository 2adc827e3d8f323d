/**
 * `--include-deps --platform linux/arm64` on an x86_64 host: the FastAPI app's binary
 * dependencies (uvloop, httptools, pydantic-core, pyyaml, watchfiles, websockets) must come as
 * aarch64 wheels. The base is a two-platform image index made by the test from the cached
 * bookworm base (the arm64 entry reuses its layers with an arm64 config: enough for the target
 * detection, which reads the interpreter and libc from the files and the architecture from the
 * platform). The arm64 image can't run here, so the test opens the dependency layer and checks
 * the ELF machine field (183 = AArch64) of every shared object in it.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { baseLayoutPath } from "./_registry.ts";
import { runtimeSkipReason } from "./_runtime.ts";
import { cli, copyFixture, elfMachine, layerFiles } from "./_deps.ts";
import {
  hasRealIndex,
  type IndexServer,
  realIndexDir,
  startIndexServer,
} from "../python/_index_server.ts";

// The base image is made with debootstrap (root) when not cached, so skip like the other e2e tests.
const skip = await runtimeSkipReason() ??
  (await hasRealIndex()
    ? undefined
    : "no wheel fixture (run tests/fixtures/wheels_index/fetch.sh)");
let work: string;
let index: IndexServer;
let multiArch: string;

/** Writes a blob into a layout and returns its descriptor. */
async function putBlob(layout: string, mediaType: string, value: unknown) {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  const hex = createHash("sha256").update(bytes).digest("hex");
  await writeFile(join(layout, "blobs", "sha256", hex), bytes);
  return { mediaType, digest: `sha256:${hex}`, size: bytes.length };
}

/** A copy of the bookworm base whose tag is an index with amd64 and arm64 manifests. */
async function multiArchBase(dir: string): Promise<string> {
  const from = baseLayoutPath();
  await cp(from, dir, { recursive: true });
  const blob = async (d: string) =>
    JSON.parse(await readFile(join(dir, "blobs", "sha256", d.slice(7)), "utf8"));
  const top = JSON.parse(await readFile(join(dir, "index.json"), "utf8"));
  const amd64 = top.manifests.find((m: { annotations?: Record<string, string> }) =>
    m.annotations?.["org.opencontainers.image.ref.name"] === "bookworm"
  );
  const manifest = await blob(amd64.digest);
  const config = await blob(manifest.config.digest);
  const armConfig = await putBlob(dir, manifest.config.mediaType, {
    ...config,
    architecture: "arm64",
    variant: "v8",
  });
  const armManifest = await putBlob(dir, amd64.mediaType, { ...manifest, config: armConfig });
  const imageIndex = await putBlob(dir, "application/vnd.oci.image.index.v1+json", {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [
      {
        mediaType: amd64.mediaType,
        digest: amd64.digest,
        size: amd64.size,
        platform: { os: "linux", architecture: config.architecture },
      },
      { ...armManifest, platform: { os: "linux", architecture: "arm64", variant: "v8" } },
    ],
  });
  await writeFile(
    join(dir, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{
        ...imageIndex,
        annotations: { "org.opencontainers.image.ref.name": "multi" },
      }],
    }),
  );
  return `oci-layout:${dir}:multi`;
}

before(async () => {
  if (skip) return;
  work = await mkdtemp(join(tmpdir(), "pycontainer-arm64-"));
  index = await startIndexServer({ dirs: [realIndexDir()] });
  multiArch = await multiArchBase(join(work, "base"));
});

after(async () => {
  if (skip) return;
  await index?.close();
  await rm(work, { recursive: true, force: true });
});

test(
  "build --platform linux/arm64 --include-deps installs aarch64 wheels only",
  { skip },
  async () => {
    const dir = await copyFixture("fastapi_app", work, "fastapi-arm64");
    const r = await cli([
      "build",
      "-C",
      dir,
      "--include-deps",
      "--platform",
      "linux/arm64",
      "--base-image",
      multiArch,
      "--index-url",
      index.url,
      "--write-lock",
      "pylock.toml",
      "--json",
    ], { PYCONTAINER_CACHE_DIR: join(work, "cache") });
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout);
    assert.equal(result.images[0].platform, "linux/arm64/v8");
    const lock = await readFile(join(dir, "pylock.toml"), "utf8");
    assert.match(lock, /platform_machine == 'aarch64'/);
    const wheels = [...lock.matchAll(/name = "([^"]+\.whl)"/g)].map((m) => m[1]!);
    const binary = wheels.filter((w) => !w.endsWith("-none-any.whl"));
    assert.ok(binary.length >= 5, binary.join());
    for (const w of binary) assert.match(w, /aarch64/, w);
    const dep = result.images[0].layers.find((l: { source: string }) =>
      l.source === "dependencies"
    );
    const files = await layerFiles(join(dir, "dist", "image"), dep.digest);
    const objects = files.filter((f) => f.type === "0" && /\.so(\.|$)/.test(f.name));
    assert.ok(objects.length >= 5, `${objects.length} shared objects`);
    for (const f of objects) assert.equal(elfMachine(f.data), 183, f.name);
    assert.ok(objects.some((f) => f.name.includes("/uvloop/")));
    assert.ok(objects.some((f) => f.name.includes("/pydantic_core/")));
  },
);

test("a two-platform build writes one lock for both and rebuilds from it identically", {
  skip,
}, async () => {
  const dir = await copyFixture("fastapi_app", work, "fastapi-multi");
  const args = [
    "build",
    "-C",
    dir,
    "--include-deps",
    "--platform",
    "linux/amd64,linux/arm64",
    "--base-image",
    multiArch,
    "--index-url",
    index.url,
    "--json",
  ];
  const env = { PYCONTAINER_CACHE_DIR: join(work, "cache") };
  const first = await cli([...args, "--write-lock", "pylock.toml"], env);
  assert.equal(first.code, 0, first.stderr);
  const lock = await readFile(join(dir, "pylock.toml"), "utf8");
  assert.match(lock, /environments = \[.*'x86_64'.*, .*'aarch64'.*\]/);
  assert.match(lock, /uvloop-[^"]*x86_64[^"]*\.whl/);
  assert.match(lock, /uvloop-[^"]*aarch64[^"]*\.whl/);
  const second = await cli(args, env);
  assert.equal(second.code, 0, second.stderr);
  const deps = (out: string) =>
    JSON.parse(out).images.map((
      i: { platform: string; layers: { source: string; state: string }[] },
    ) => ({
      platform: i.platform,
      layers: i.layers.filter((l) => l.source !== "base" && l.source !== "app files")
        .map(({ state: _, ...digests }) => digests),
    }));
  assert.deepEqual(deps(second.stdout), deps(first.stdout));
  // The second build reused every dependency layer the first one built.
  for (const image of deps(second.stdout)) assert.ok(image.layers.length >= 2);
  for (const image of JSON.parse(second.stdout).images) {
    for (const l of image.layers) {
      if (l.source !== "base" && l.source !== "app files") assert.equal(l.state, "cached");
    }
  }
  const machines = new Map([["linux/amd64", 62], ["linux/arm64/v8", 183]]);
  for (const image of JSON.parse(second.stdout).images) {
    const dep = image.layers.find((l: { source: string }) => l.source === "dependencies");
    const files = await layerFiles(join(dir, "dist", "image"), dep.digest);
    const objects = files.filter((f) => f.type === "0" && /\.so(\.|$)/.test(f.name));
    assert.ok(objects.length >= 5, `${image.platform}: ${objects.length} shared objects`);
    for (const f of objects) assert.equal(elfMachine(f.data), machines.get(image.platform), f.name);
  }
});
