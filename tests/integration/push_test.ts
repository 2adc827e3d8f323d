/**
 * End-to-end push: `pycontainer push` and `build --push` against Debian's docker-registry on
 * loopback, checked with skopeo (copy back, inspect) and umoci + runc (the pulled image runs);
 * and 20 images pushed through a fault-injecting proxy (500s, 429s, cut connections, slow and
 * stalled answers, relative `Location`s), every one pulled back complete.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { cp, mkdtemp, readFile, rm } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../cli.ts";
import { RegistryClient } from "../../src/registry/client.ts";
import type { PushEvent } from "../../src/registry/progress.ts";
import { pushImage } from "../../src/registry/push.ts";
import { readOciLayout } from "../../src/store/layout_reader.ts";
import { type Fault, startFaultProxy } from "./fault_proxy.ts";
import { makeImage } from "./_push_images.ts";
import {
  baseLayoutPath,
  pushLayoutToRegistry,
  run,
  startRegistry,
  type TestRegistry,
} from "./_registry.ts";
import { runImage, runtimeSkipReason } from "./_runtime.ts";

const skipRun = await runtimeSkipReason();
let registry: TestRegistry;
let work: string;
let base: { dir: string; tag: string };

before(async () => {
  work = await mkdtemp(join(tmpdir(), "pycontainer-push-"));
  base = { dir: baseLayoutPath(), tag: "bookworm" };
  registry = await startRegistry();
  await pushLayoutToRegistry(base.dir, base.tag, `${registry.host}/base/python:bookworm`);
});
after(async () => {
  await registry?.stop();
  await rm(work, { recursive: true, force: true });
});

async function cli(args: string[], env: Record<string, string> = {}) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await main(args, {
    stdout: (s) => stdout.push(s),
    stderr: (s) => stderr.push(s),
    env: { ...process.env, PYCONTAINER_CACHE_DIR: join(work, "cache"), CI: "true", ...env },
    isTTY: false,
  });
  return { code, stdout: stdout.join("\n"), stderr: stderr.join("\n") };
}

async function skopeoDigest(ref: string): Promise<string> {
  const raw = JSON.parse(await run("skopeo", ["inspect", "--tls-verify=false", `docker://${ref}`]));
  return raw.Digest;
}

test("push sends an OCI layout to every tag, mounting base layers, and prints REG/REPO@digest", async () => {
  const dir = join(work, "layout-a");
  const { manifest, layer } = await makeImage(dir, "v1", {
    base,
    files: { "data/marker.txt": "push-a\n" },
    baseName: `${registry.host}/base/python:bookworm`,
  });
  const r = await cli([
    "push",
    dir,
    `${registry.host}/team/app:1.0`,
    `${registry.host}/team/app:latest`,
    `${registry.host}/other/app:1.0`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.split("\n"), [
    `${registry.host}/team/app@${manifest.digest}`,
    `${registry.host}/other/app@${manifest.digest}`,
  ]);
  // Base layers came by mount from base/python; our layer was uploaded once, then mounted.
  assert.match(r.stderr, /mounted from base\/python/);
  assert.match(
    r.stderr,
    new RegExp(`other/app ${layer.digest.slice(7, 19)} .* mounted from team/app`),
  );
  assert.match(r.stderr, /blobs: 2 uploaded/); // the new layer and the config, once
  for (const ref of ["team/app:1.0", "team/app:latest", "other/app:1.0"]) {
    assert.equal(await skopeoDigest(`${registry.host}/${ref}`), manifest.digest);
  }

  // Again: everything is there, nothing is uploaded, and it is quick.
  const started = performance.now();
  const again = await cli(["push", "--json", dir, `${registry.host}/team/app:1.0`]);
  const elapsed = performance.now() - started;
  assert.equal(again.code, 0, again.stderr);
  const json = JSON.parse(again.stdout);
  assert.deepEqual(json.blobs, { uploaded: 0, mounted: 0, existed: 3, uploadedBytes: 0 });
  assert.deepEqual(json.pushed, [`${registry.host}/team/app@${manifest.digest}`]);
  // --json progress: one JSON event per line on stderr.
  const events = again.stderr.split("\n").map((l) => JSON.parse(l) as PushEvent);
  assert.equal(events.filter((e) => e.type === "blob" && e.state === "exists").length, 3);
  assert.ok(elapsed < 1000, `no-op push took ${elapsed} ms`);

  const quiet = await cli(["push", "-q", dir, `${registry.host}/team/app:1.0`]);
  assert.equal(quiet.stderr, "");
});

test("push uploads big blobs in PATCH chunks through relative Locations; the image runs", async () => {
  const proxy = await startFaultProxy({ target: registry.host, relativeLocations: true });
  try {
    const dir = join(work, "layout-chunks");
    const payload = randomBytes(700_000).toString("hex"); // ~1.4 MB, compresses to ~760 KB
    const { manifest } = await makeImage(dir, "v1", {
      base,
      files: { "data/big.txt": payload, "data/marker.txt": "chunked\n" },
    });
    const r = await cli([
      "push",
      "--chunk-size",
      "262144",
      "--verbose",
      dir,
      `${proxy.host}/chunks/app:v1`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /PATCH http:\/\/127\.0\.0\.1:\d+\/v2\/chunks\/app\/blobs\/uploads\/[^ ]+ → 202/,
    );
    assert.equal(await skopeoDigest(`${registry.host}/chunks/app:v1`), manifest.digest);
    const out = join(work, "pulled-chunks");
    await run("skopeo", [
      "copy",
      "--src-tls-verify=false",
      `docker://${registry.host}/chunks/app:v1`,
      `oci:${out}:v1`,
    ]);
    if (!skipRun) {
      const ran = await runImage(out, "v1", {
        args: [
          "python3",
          "-c",
          "print(len(open('/data/big.txt').read()), open('/data/marker.txt').read().strip())",
        ],
      });
      assert.equal(ran.stdout.trim(), `${payload.length} chunked`, ran.stderr);
    }
  } finally {
    await proxy.stop();
  }
});

test("20 images pushed through a fault-injecting proxy all arrive complete", async () => {
  const faults: Fault[] = [
    "500",
    "slow",
    "cut-request",
    "429",
    "cut-response",
    "stall",
    "500",
    "cut-response",
  ];
  // Every fourth request gets the next fault in turn, 48 faults in all (a whole upload restarts
  // after any fault, so without a cap a big blob could lose every attempt).
  let k = 0;
  const proxy = await startFaultProxy({
    target: registry.host,
    stallMs: 1500,
    plan: (n) => (n % 4 === 1 && k < 48 ? faults[k++ % faults.length]! : "none"),
  });
  try {
    const dir = join(work, "layout-faults");
    const images: { tag: string; digest: string; marker: string }[] = [];
    for (let i = 0; i < 20; i++) {
      const marker = `image-${i}-${randomBytes(4).toString("hex")}`;
      const { manifest } = await makeImage(dir, `img${i}`, {
        base,
        files: {
          "data/marker.txt": `${marker}\n`,
          "data/noise.bin": randomBytes(i % 4 < 2 ? 400_000 : 20_000),
        },
        baseName: `${proxy.host}/base/python:bookworm`,
      });
      images.push({ tag: `img${i}`, digest: manifest.digest, marker });
    }
    const layout = await readOciLayout(dir);
    const client = new RegistryClient({ attempts: 8, baseDelayMs: 20, timeoutMs: 1000 });
    const retries: string[] = [];
    await Promise.all(images.map(async (img, i) => {
      const root = layout.resolve(img.tag);
      await pushImage(layout.blobs, root, [`${proxy.host}/faults/app${i % 5}:${img.tag}`], {
        client,
        jobs: 3,
        // Even images: PATCH chunks; odd ones: one streamed PATCH per blob over 64 KiB.
        ...(i % 2 === 0 ? { chunkSize: 256 * 1024 } : { monolithicMax: 64 * 1024 }),
        attempts: 8,
        baseDelayMs: 20,
        onEvent: (e) => {
          if (e.type === "blob" && e.state === "retry") retries.push(e.reason ?? "");
        },
      });
    }));
    for (const f of ["500", "429", "cut-request", "cut-response", "slow", "stall"] as const) {
      assert.ok(proxy.counts[f] > 0, `fault ${f} was injected`);
    }
    assert.ok(retries.length > 0, "some uploads restarted their session");

    const pulled = join(work, "pulled-faults");
    for (const [i, img] of images.entries()) {
      const ref = `${registry.host}/faults/app${i % 5}:${img.tag}`;
      // skopeo verifies every blob digest while copying.
      await run("skopeo", [
        "copy",
        "--src-tls-verify=false",
        `docker://${ref}`,
        `oci:${pulled}:${img.tag}`,
      ]);
      const inspected = JSON.parse(await run("skopeo", ["inspect", `oci:${pulled}:${img.tag}`]));
      assert.equal(inspected.Digest, img.digest);
      assert.equal(inspected.Layers.length, 2);
    }
    const index = JSON.parse(await readFile(join(pulled, "index.json"), "utf8"));
    assert.equal(index.manifests.length, 20);
    if (!skipRun) {
      const last = images[19]!;
      const ran = await runImage(pulled, last.tag, { args: ["cat", "/data/marker.txt"] });
      assert.equal(ran.stdout.trim(), last.marker, ran.stderr);
    }
  } finally {
    await proxy.stop();
  }
});

test("build --push builds, pushes to every tag and prints the pushed references", async () => {
  const dir = join(work, "hello");
  await cp(join(import.meta.dirname!, "..", "fixtures", "projects", "hello"), dir, {
    recursive: true,
  });
  const r = await cli([
    "build",
    "--context",
    dir,
    "--base-image",
    `${registry.host}/base/python:bookworm`,
    "--tag",
    `${registry.host}/built/hello:1`,
    "--tag",
    `${registry.host}/built/hello:latest`,
    "--push",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const [digest, pushed] = r.stdout.split("\n");
  assert.match(digest!, /^sha256:[0-9a-f]{64}$/);
  assert.equal(pushed, `${registry.host}/built/hello@${digest}`);
  // The base layers were mounted from the base image's repository.
  assert.match(r.stderr, /mounted from base\/python/);
  // What was built is reported before the push's progress; no layout is written.
  const built = r.stderr.indexOf("built linux/amd64 sha256:");
  assert.ok(built >= 0 && built < r.stderr.indexOf("pushed "), r.stderr);
  assert.doesNotMatch(r.stderr, /^wrote /m);
  assert.equal(await skopeoDigest(`${registry.host}/built/hello:latest`), digest);
});

test("push respects OCI-Chunk-Min-Length: no PATCH is smaller, except the last", async () => {
  const proxy = await startFaultProxy({ target: registry.host, chunkMinLength: 300_000 });
  try {
    const dir = join(work, "layout-min-chunk");
    const { manifest, layer } = await makeImage(dir, "v1", {
      base,
      files: { "data/noise.bin": randomBytes(1_000_000) },
    });
    const r = await cli(["push", "--chunk-size", "65536", dir, `${proxy.host}/minchunk/app:v1`]);
    assert.equal(r.code, 0, r.stderr);
    const patches = proxy.log.filter((q) => q.method === "PATCH").map((q) => q.contentLength!);
    // The ~1 MB layer and the 42 MB base layer both went up in chunks of the registry's minimum.
    assert.ok(patches.length >= 4, `PATCH sizes: ${patches.join(",")}`);
    assert.equal(patches.filter((n) => n === 300_000).length, patches.length - 2);
    assert.ok(patches.every((n) => n <= 300_000));
    assert.ok(layer.size > 300_000);
    assert.equal(await skopeoDigest(`${registry.host}/minchunk/app:v1`), manifest.digest);
  } finally {
    await proxy.stop();
  }
});

test("push of an image index sends each manifest by digest before the index", async () => {
  const dir = join(work, "layout-index");
  const amd = await makeImage(dir, "amd", { base, files: { "data/arch": "amd64\n" } });
  const arm = await makeImage(dir, "arm", { base, files: { "data/arch": "arm64\n" } });
  const { writeFile } = await import("node:fs/promises");
  const { describeBytes, digestHex } = await import("../../src/oci/digest.ts");
  const index = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [
      { ...amd.manifest, platform: { os: "linux", architecture: "amd64" } },
      { ...arm.manifest, platform: { os: "linux", architecture: "arm64" } },
    ],
  };
  const bytes = new TextEncoder().encode(JSON.stringify(index));
  const desc = describeBytes(bytes, index.mediaType);
  await writeFile(join(dir, "blobs", "sha256", digestHex(desc.digest)), bytes);
  await writeFile(
    join(dir, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ ...desc, annotations: { "org.opencontainers.image.ref.name": "multi" } }],
    }),
  );
  const r = await cli(["push", dir, `${registry.host}/multi/app:1`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${registry.host}/multi/app@${desc.digest}`);
  const manifestLines = r.stderr.split("\n").filter((l) => l.startsWith("manifest "));
  assert.deepEqual(manifestLines, [
    `manifest ${registry.host}/multi/app@${amd.manifest.digest.slice(0, 19)} pushed`,
    `manifest ${registry.host}/multi/app@${arm.manifest.digest.slice(0, 19)} pushed`,
    `manifest ${registry.host}/multi/app@${desc.digest.slice(0, 19)} pushed`,
    `manifest ${registry.host}/multi/app:1 pushed`,
  ]);
  const raw = JSON.parse(
    await run("skopeo", [
      "inspect",
      "--raw",
      "--tls-verify=false",
      `docker://${registry.host}/multi/app:1`,
    ]),
  );
  assert.deepEqual(raw.manifests.map((m: { digest: string }) => m.digest), [
    amd.manifest.digest,
    arm.manifest.digest,
  ]);
  const out = join(work, "pulled-index");
  await run("skopeo", [
    "copy",
    "--all",
    "--src-tls-verify=false",
    `docker://${registry.host}/multi/app:1`,
    `oci:${out}:multi`,
  ]);
});

test("blobs missing from the layout are streamed from the base image's registry", async () => {
  const target = await startRegistry();
  try {
    const dir = join(work, "layout-pruned");
    const baseRef = `${registry.host}/base/python:bookworm`;
    const { manifest } = await makeImage(dir, "v1", {
      base,
      files: { "data/x": "pruned\n" },
      baseName: baseRef,
    });
    const layout = await readOciLayout(dir);
    const m = JSON.parse(
      new TextDecoder().decode(await new Response(await layout.blobs.open(manifest)).arrayBuffer()),
    );
    const { digestHex } = await import("../../src/oci/digest.ts");
    await rm(join(dir, "blobs", "sha256", digestHex(m.layers[0].digest)));
    const r = await cli(["push", dir, `${target.host}/pruned/app:1`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await skopeoDigest(`${target.host}/pruned/app:1`), manifest.digest);
    const out = join(work, "pulled-pruned");
    await run("skopeo", [
      "copy",
      "--src-tls-verify=false",
      `docker://${target.host}/pruned/app:1`,
      `oci:${out}:v1`,
    ]);
  } finally {
    await target.stop();
  }
});
