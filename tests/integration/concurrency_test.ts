/**
 * Builds sharing one cache directory at once, as separate processes (`deno run -A cli.ts build`)
 * on the real Debian/Python base image (an OCI layout made by make_base_image.sh): every build
 * succeeds, every output is a valid layout that skopeo reads, identical projects give identical
 * digests, the shared cache holds only verified blobs and sound records, and four builds writing
 * into one output layout at once keep all four tags.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { cp, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startCliProcess, useProcessFixture } from "./_cli_process.ts";
import { checkCacheDir, checkLayout, skopeoInspect, skopeoSkipReason } from "./_oci_check.ts";

const skip = await skopeoSkipReason();
const fx = useProcessFixture("pycontainer-concurrency-", skip);

interface BuildRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `pycontainer build` in its own process. */
function buildProcess(args: string[]): Promise<BuildRun> {
  return cliProcess(["build", ...args]);
}

/** Runs `pycontainer <args>` in its own process. */
async function cliProcess(args: string[]): Promise<BuildRun> {
  const { code, stdout, stderr } = await startCliProcess(args, { SOURCE_DATE_EPOCH: "1700000000" })
    .exited;
  return { code, stdout, stderr };
}

/** A project whose content depends only on `variant`: an app and ~1 MB of data files. */
async function makeProject(dir: string, variant: string): Promise<string> {
  await mkdir(join(dir, "data"), { recursive: true });
  await writeFile(
    join(dir, "pyproject.toml"),
    `[project]\nname = "conc"\nversion = "1.0"\nrequires-python = ">=3.11"\n`,
  );
  await writeFile(join(dir, "app.py"), `print("variant ${variant}")\n`);
  let x = [...variant].reduce((h, c) => Math.imul(h ^ c.charCodeAt(0), 16777619), 2166136261);
  for (let i = 0; i < 8; i++) {
    const bytes = new Uint8Array(128 * 1024);
    for (let j = 0; j < bytes.length; j++) {
      x = Math.imul(x ^ (x >>> 15), 2246822507) + 0x6d2b79f5 | 0;
      bytes[j] = x & 0xff;
    }
    await writeFile(join(dir, "data", `part${i}.bin`), bytes);
  }
  return dir;
}

const args = (context: string, cache: string, output: string, tag: string) => [
  "--quiet",
  "--context",
  context,
  "--base-image",
  fx.base,
  "--cache-dir",
  cache,
  "--output",
  output,
  "--tag",
  tag,
];

test(
  "four builds and cache prunes sharing a cold cache at once all succeed with valid, reproducible outputs",
  {
    skip,
    timeout: 120_000,
  },
  async () => {
    const cache = join(fx.work, "cache1");
    const a1 = await makeProject(join(fx.work, "a1"), "A");
    const a2 = join(fx.work, "a2");
    await cp(a1, a2, { recursive: true });
    const b1 = await makeProject(join(fx.work, "b1"), "B");
    const b2 = await makeProject(join(fx.work, "b2"), "B");
    const jobs = [a1, a2, b1, b2].map((dir) => ({ dir, out: `${dir}-out` }));
    // Meanwhile, `cache prune` runs three times: it must neither disturb the builds (temporary
    // files, blobs just written) nor be disturbed by them.
    const prunes = [0, 400, 800].map(async (ms) => {
      await new Promise((r) => setTimeout(r, ms));
      return await cliProcess(["cache", "prune", "--max-size", "0", "--cache-dir", cache]);
    });
    const runs = await Promise.all(
      jobs.map((j) => buildProcess(args(j.dir, cache, j.out, "conc:latest"))),
    );
    for (const p of await Promise.all(prunes)) assert.equal(p.code, 0, p.stderr);
    for (const [i, r] of runs.entries()) {
      assert.equal(r.code, 0, `build ${i} failed: ${r.stderr}`);
      assert.match(r.stdout, /^sha256:[0-9a-f]{64}$/);
    }
    const [da1, da2, db1, db2] = runs.map((r) => r.stdout);
    assert.equal(da1, da2, "identical projects give identical digests");
    assert.equal(db1, db2, "identical projects give identical digests");
    assert.notEqual(da1, db1);

    for (const [i, j] of jobs.entries()) {
      const layout = await checkLayout(j.out);
      assert.equal(layout.state, "complete");
      assert.deepEqual(layout.tags, { latest: runs[i]!.stdout });
      assert.deepEqual(layout.temps, []);
      const inspected = await skopeoInspect(j.out, "latest");
      assert.equal(inspected.Digest, runs[i]!.stdout);
      assert.equal(inspected.Layers.length, 2, "base layer + app layer");
    }
    const sound = await checkCacheDir(cache);
    assert.equal(sound.verified, 2, "one app layer blob per distinct project");
    assert.equal(sound.records, 2);
    assert.equal(sound.recordsHit, 2);
    assert.deepEqual(sound.temps, []);
  },
);

test("four builds writing one output layout at once keep every tag, from a warm cache", {
  skip,
  timeout: 120_000,
}, async () => {
  const cache = join(fx.work, "cache2");
  const a = await makeProject(join(fx.work, "wa"), "A2");
  const b = await makeProject(join(fx.work, "wb"), "B2");
  const out = join(fx.work, "shared-out");
  const warm = await Promise.all([
    buildProcess(args(a, cache, `${a}-out`, "conc:latest")),
    buildProcess(args(b, cache, `${b}-out`, "conc:latest")),
  ]);
  for (const r of warm) assert.equal(r.code, 0, r.stderr);
  // The output layout exists before the concurrent writers start (see the next test for a new one).
  const first = await buildProcess(args(a, cache, out, "conc:first"));
  assert.equal(first.code, 0, first.stderr);
  const jobs: [string, string][] = [[a, "a"], [b, "b"], [a, "a2"], [b, "b2"]];
  const runs = await Promise.all(
    jobs.map(([dir, tag]) => buildProcess([...args(dir, cache, out, `conc:${tag}`)])),
  );
  for (const r of runs) assert.equal(r.code, 0, r.stderr);
  // The tag is part of the manifest's annotations, so compare layers: the cached app layer is
  // reused by every build of the same project.
  const layersOf = async (dir: string, tag: string) => (await skopeoInspect(dir, tag)).Layers;
  const [la, lb] = [
    await layersOf(`${a}-out`, "latest"),
    await layersOf(`${b}-out`, "latest"),
  ];
  assert.notDeepEqual(la, lb);
  for (const [i, [, tag]] of jobs.entries()) {
    assert.deepEqual(await layersOf(out, tag), i % 2 === 0 ? la : lb, tag);
  }
  const layout = await checkLayout(out);
  assert.deepEqual(Object.keys(layout.tags).sort(), ["a", "a2", "b", "b2", "first"]);
  for (const [i, [, tag]] of jobs.entries()) {
    assert.equal(layout.tags[tag], runs[i]!.stdout);
    assert.equal((await skopeoInspect(out, tag)).Digest, runs[i]!.stdout);
  }
  assert.equal(layout.tags.first, first.stdout);
  const index = JSON.parse(await readFile(join(out, "index.json"), "utf8"));
  assert.equal(index.manifests.length, 5);
  const sound = await checkCacheDir(cache);
  assert.equal(sound.verified, 2);
  assert.equal(sound.recordsHit, 2);
});

test("four builds creating one new output layout at once all succeed", {
  skip,
  timeout: 120_000,
}, async () => {
  const cache = join(fx.work, "cache3");
  const a = await makeProject(join(fx.work, "na"), "A3");
  const out = join(fx.work, "new-shared-out");
  const runs = await Promise.all(
    ["t1", "t2", "t3", "t4"].map((tag) => buildProcess(args(a, cache, out, `conc:${tag}`))),
  );
  for (const r of runs) assert.equal(r.code, 0, r.stderr);
  const layout = await checkLayout(out);
  assert.deepEqual(Object.keys(layout.tags).sort(), ["t1", "t2", "t3", "t4"]);
});
