/**
 * End-to-end `build --push` as a registry-only build (ko's KOCACHE idea), against Debian's
 * docker-registry: no OCI layout is written; when the cache kept its small layer records but
 * lost its blobs (a CI cache that persists only records, or eviction), layers the registry
 * already has are never rebuilt — not even the dependency layers, whose wheels are then not
 * downloaded — and base layers are never downloaded; a layer the registry lacks is rebuilt on
 * demand with exactly the recorded digest.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { access, cp, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../cli.ts";
import { baseLayoutPath, pushLayoutToRegistry, run, startRegistry } from "./_registry.ts";
import type { TestRegistry } from "./_registry.ts";
import {
  hasRealIndex,
  type IndexServer,
  realIndexDir,
  startIndexServer,
} from "../python/_index_server.ts";

const skipDeps = (await hasRealIndex())
  ? undefined
  : "no wheel fixture (run tests/fixtures/wheels_index/fetch.sh)";
let registry: TestRegistry;
let index: IndexServer | undefined;
let work: string;
let baseRef: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), "pycontainer-regonly-"));
  registry = await startRegistry();
  baseRef = `${registry.host}/base/python:bookworm`;
  await pushLayoutToRegistry(baseLayoutPath(), "bookworm", baseRef);
  if (!skipDeps) index = await startIndexServer({ dirs: [realIndexDir()] });
});
after(async () => {
  await index?.close();
  await registry?.stop();
  await rm(work, { recursive: true, force: true });
});

interface Built {
  digest: string;
  images: { layers: { digest: string; source: string; state: string }[] }[];
  push: { blobs: { uploaded: number; mounted: number; existed: number } };
  output?: string;
}

async function buildPush(
  dir: string,
  cache: string,
  tag: string,
  extra: string[] = [],
): Promise<{ result: Built; stderr: string }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await main([
    "build",
    "-C",
    dir,
    "--base-image",
    baseRef,
    "--tag",
    `${registry.host}/${tag}`,
    "--push",
    "--json",
    "--verbose",
    ...extra,
  ], {
    stdout: (s) => stdout.push(s),
    stderr: (s) => stderr.push(s),
    env: { ...process.env, PYCONTAINER_CACHE_DIR: cache, CI: "true" },
    isTTY: false,
  });
  assert.equal(code, 0, stderr.join("\n"));
  return { result: JSON.parse(stdout.join("\n")), stderr: stderr.join("\n") };
}

const exists = (path: string) => access(path).then(() => true, () => false);
const blobPath = (cache: string, digest: string) =>
  join(cache, "blobs", "sha256", digest.slice("sha256:".length));
const newLayers = (r: Built) => r.images[0]!.layers.filter((l) => l.source !== "base");
const baseLayers = (r: Built) => r.images[0]!.layers.filter((l) => l.source === "base");

async function skopeoDigest(ref: string): Promise<string> {
  const raw = JSON.parse(await run("skopeo", ["inspect", "--tls-verify=false", `docker://${ref}`]));
  return raw.Digest;
}

async function copyProject(from: string, name: string): Promise<string> {
  const dir = join(work, name);
  await cp(join(import.meta.dirname!, "..", "fixtures", from), dir, { recursive: true });
  return dir;
}

test("build --push writes no OCI layout and never downloads base layers it can mount", async () => {
  const dir = await copyProject("projects/hello", "hello-a");
  const cache = join(work, "cache-a");
  const { result } = await buildPush(dir, cache, "ko/hello:1");
  assert.equal(result.output, undefined);
  assert.equal(await exists(join(dir, "dist", "image")), false, "no layout was written");
  assert.equal(await skopeoDigest(`${registry.host}/ko/hello:1`), result.digest);
  assert.ok(result.push.blobs.mounted >= baseLayers(result).length, JSON.stringify(result.push));
  for (const l of baseLayers(result)) {
    assert.equal(await exists(blobPath(cache, l.digest)), false, `base layer ${l.digest}`);
  }
});

test("build --push with records but no blobs rebuilds nothing the registry has", async () => {
  const dir = await copyProject("projects/hello", "hello-b");
  const cache = join(work, "cache-b");
  const first = await buildPush(dir, cache, "ko/hello-b:1");
  await rm(join(cache, "blobs"), { recursive: true, force: true }); // records, file digests stay
  const again = await buildPush(dir, cache, "ko/hello-b:1");
  assert.equal(again.result.digest, first.result.digest);
  assert.equal(again.result.push.blobs.uploaded, 0, JSON.stringify(again.result.push));
  assert.deepEqual(newLayers(again.result).map((l) => l.state), ["deferred"]);
  for (const l of newLayers(again.result)) {
    assert.equal(await exists(blobPath(cache, l.digest)), false, `${l.source} was materialised`);
  }

  // Another repository lacks the app layer: it is rebuilt on demand, with the recorded digest.
  const other = await buildPush(dir, cache, "ko/elsewhere:1");
  assert.equal(other.result.digest, first.result.digest);
  assert.ok(other.result.push.blobs.uploaded >= 1, JSON.stringify(other.result.push));
  for (const l of newLayers(other.result)) {
    assert.equal(await exists(blobPath(cache, l.digest)), true, `${l.source} not rebuilt`);
  }
  assert.equal(await skopeoDigest(`${registry.host}/ko/elsewhere:1`), first.result.digest);
});

test("build --push --output writes the layout too, materialising every layer", async () => {
  const dir = await copyProject("projects/hello", "hello-c");
  const cache = join(work, "cache-c");
  await buildPush(dir, cache, "ko/hello-c:1");
  await rm(join(cache, "blobs"), { recursive: true, force: true });
  const out = join(work, "hello-c-layout");
  const { result } = await buildPush(dir, cache, "ko/hello-c:1", ["--output", out]);
  assert.equal(result.output, out);
  assert.deepEqual(newLayers(result).map((l) => l.state), ["built"]);
  for (const l of result.images[0]!.layers) {
    assert.equal(await exists(blobPath(out, l.digest)), true, `${l.source} missing in layout`);
  }
  await run("skopeo", ["inspect", `oci:${out}:1`]);
});

test("build --push --include-deps with records but no blobs downloads no wheel", {
  skip: skipDeps,
}, async () => {
  const dir = await copyProject("e2e/fastapi_app", "fastapi");
  const cache = join(work, "cache-deps");
  const locked = ["--include-deps", "--lock", "pylock.toml", "--index-url", index?.url ?? ""];
  await buildPush(dir, cache, "ko/api:0", [
    "--include-deps",
    "--index-url",
    index?.url ?? "",
    "--write-lock",
    "pylock.toml",
  ]);
  const first = await buildPush(dir, cache, "ko/api:1", locked);
  // A CI cache that keeps records (layers/, target-env/, file-digests/) but not blobs or wheels.
  await rm(join(cache, "blobs"), { recursive: true, force: true });
  await rm(join(cache, "wheels"), { recursive: true, force: true });
  const again = await buildPush(dir, cache, "ko/api:1", [
    "--include-deps",
    "--lock",
    "pylock.toml",
  ]);
  assert.equal(again.result.digest, first.result.digest);
  assert.equal(again.result.push.blobs.uploaded, 0, JSON.stringify(again.result.push));
  assert.deepEqual(
    newLayers(again.result).map((l) => [l.source, l.state]),
    [["dependencies", "deferred"], ["project metadata", "deferred"], ["app files", "deferred"]],
  );
  assert.equal(await exists(join(cache, "wheels")), false, "wheels were downloaded");

  // A repository without the layers gets them rebuilt, with the recorded digests.
  const other = await buildPush(dir, cache, "ko/api-copy:1", locked);
  assert.equal(other.result.digest, first.result.digest);
  const wheels = await readdir(join(cache, "wheels", "sha256"));
  assert.ok(wheels.length > 5, `wheels: ${wheels.length}`);
  assert.equal(await skopeoDigest(`${registry.host}/ko/api-copy:1`), first.result.digest);
});
