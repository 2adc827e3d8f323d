/**
 * Builds killed at random moments (SIGKILL, as a crash or an OOM killer would) never leave a
 * corrupt cache entry or a half-written OCI layout. Each round edits a project of ~6 MB (so its
 * layer is rebuilt), starts `deno run -A cli.ts build` on the real Debian/Python base image,
 * kills it after a random delay, and checks: every blob in the cache and in the output hashes to
 * its name; every layer record points to a blob that is missing or valid; the output is absent
 * or a complete layout; anything else left is a recognisable temporary file. Finally a normal
 * build with the same cache and output succeeds, and eviction clears the leftovers.
 *
 * The delays come from a seeded PRNG; the seed is logged, and `KILL_TEST_SEED=N` replays a run.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { evictCache } from "../../src/cache/eviction.ts";
import { baseLayoutPath, pushLayoutToRegistry, run, startRegistry } from "./_registry.ts";
import { type CliProcess, startCliProcess, useProcessFixture } from "./_cli_process.ts";
import { checkCacheDir, checkLayout, skopeoInspect, skopeoSkipReason } from "./_oci_check.ts";

const ROUNDS = 15;
const BUDGET_MS = 45_000;
const FILES = 24;
const FILE_BYTES = 256 * 1024;
const skip = await skopeoSkipReason();
const fx = useProcessFixture("pycontainer-kill-", skip);

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomBytes(rand: () => number, n: number): Uint8Array {
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i += 4) {
    const v = Math.floor(rand() * 4294967296);
    bytes[i] = v & 0xff;
    bytes[i + 1] = (v >>> 8) & 0xff;
    bytes[i + 2] = (v >>> 16) & 0xff;
    bytes[i + 3] = v >>> 24;
  }
  return bytes;
}

function startBuild(context: string, cache: string, output: string): CliProcess {
  return startCli([
    "build",
    "--quiet",
    "--context",
    context,
    "--base-image",
    fx.base,
    "--cache-dir",
    cache,
    "--output",
    output,
  ]);
}

function startCli(args: string[]): CliProcess {
  return startCliProcess(args, { CI: "true" });
}

test("builds killed at random moments leave no corrupt cache entry and no half-written layout", {
  skip,
  timeout: 120_000,
}, async () => {
  const seed = Number(process.env.KILL_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));
  console.log(`kill test seed ${seed} (replay with KILL_TEST_SEED=${seed})`);
  const rand = prng(seed);
  const project = join(fx.work, "project");
  const cache = join(fx.work, "cache");
  const shared = join(fx.work, "out");
  await mkdir(join(project, "data"), { recursive: true });
  await writeFile(join(project, "pyproject.toml"), '[project]\nname = "killme"\nversion = "1"\n');
  await writeFile(join(project, "app.py"), 'print("start")\n');
  for (let i = 0; i < FILES; i++) {
    await writeFile(join(project, "data", `part${i}.bin`), randomBytes(rand, FILE_BYTES));
  }

  // How long a whole build takes here (cold cache and output: the base layers are copied too).
  // This also makes the shared output a complete layout, the "previous" state later kills must
  // leave intact (a new directory killed before its first index.json: see the last test).
  const t0 = Date.now();
  const warm = await startBuild(project, cache, shared).exited;
  assert.equal(warm.code, 0, warm.stderr);
  const buildMs = Date.now() - t0;
  console.log(
    `a full build takes ${buildMs} ms; kills land in [0, ${Math.round(buildMs * 1.2)}] ms`,
  );

  const started = Date.now();
  let killed = 0;
  let rounds = 0;
  for (let round = 0; round < ROUNDS && Date.now() - started < BUDGET_MS; round++) {
    rounds++;
    // Change one data file and the app so the layer is rebuilt (no cache hit).
    await writeFile(
      join(project, "data", `part${round % FILES}.bin`),
      randomBytes(rand, FILE_BYTES),
    );
    await writeFile(join(project, "app.py"), `print("round ${round}")\n`);
    const output = rand() < 0.3 ? join(fx.work, `out-${round}`) : shared;
    const delay = Math.floor(rand() * buildMs * 1.2);
    const build = startBuild(project, cache, output);
    const timer = setTimeout(() => build.kill(), delay);
    const r = await build.exited;
    clearTimeout(timer);
    if (r.signal === "SIGKILL") killed++;
    else assert.equal(r.code, 0, `round ${round} failed without being killed: ${r.stderr}`);

    const c = await checkCacheDir(cache);
    const l = await checkLayout(output);
    console.log(
      `round ${round}: ${r.signal === "SIGKILL" ? "killed" : "finished"} after ${delay} ms; ` +
        `cache ${c.verified} blobs, ${c.recordsHit}/${c.records} records hit, ` +
        `${c.temps.length} temp; ${output === shared ? "shared" : "new"} output ${l.state}` +
        `${l.temps.length ? `, ${l.temps.length} temp` : ""}`,
    );
  }
  assert.ok(killed >= Math.min(3, rounds), `only ${killed} of ${rounds} builds were killed`);

  // Leftovers don't get in the way of the next build, and eviction clears stale temp files.
  const final = await startBuild(project, cache, shared).exited;
  assert.equal(final.code, 0, final.stderr);
  const layout = await checkLayout(shared);
  assert.equal(layout.state, "complete");
  assert.equal(layout.tags.latest, final.stdout);
  assert.equal((await skopeoInspect(shared, "latest")).Digest, final.stdout);
  const sound = await checkCacheDir(cache);
  assert.ok(sound.recordsHit >= 1);
  await evictCache(cache, { maxBytes: Number.MAX_SAFE_INTEGER, staleTempMs: 0 });
  assert.deepEqual((await checkCacheDir(cache)).temps, []);
  // The finished build's layer is still a cache hit after the clean-up.
  const again = await startBuild(project, cache, shared).exited;
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout, final.stdout);
});

test(
  "a build into a layout directory left by a build killed before its first index.json succeeds",
  {
    skip,
    timeout: 60_000,
  },
  async () => {
    const project = join(fx.work, "leftover-project");
    await mkdir(project, { recursive: true });
    await writeFile(
      join(project, "pyproject.toml"),
      '[project]\nname = "leftover"\nversion = "1"\n',
    );
    await writeFile(join(project, "app.py"), 'print("hi")\n');
    const output = join(fx.work, "leftover-out");
    // Exactly what a killed first write leaves: some verified blobs and a temporary file.
    const bytes = new TextEncoder().encode("a blob copied before the kill");
    const hex = createHash("sha256").update(bytes).digest("hex");
    await mkdir(join(output, "blobs", "sha256"), { recursive: true });
    await writeFile(join(output, "blobs", "sha256", hex), bytes);
    await writeFile(join(output, "blobs", "sha256", `.${"0".repeat(64)}.1234abcd.tmp`), "part");
    assert.equal((await checkLayout(output)).state, "absent");
    const r = await startBuild(project, join(fx.work, "leftover-cache"), output).exited;
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await checkLayout(output)).state, "complete");
  },
);

test(
  "registry-only builds killed while rebuilding deferred layers for a push leave a sound cache",
  {
    skip,
    timeout: 120_000,
  },
  async () => {
    const seed = Number(process.env.KILL_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));
    console.log(`registry kill test seed ${seed} (replay with KILL_TEST_SEED=${seed})`);
    const rand = prng(seed);
    const registry = await startRegistry();
    try {
      const baseRef = `${registry.host}/base/python:bookworm`;
      await pushLayoutToRegistry(baseLayoutPath(), "bookworm", baseRef);
      const project = join(fx.work, "push-project");
      const cache = join(fx.work, "push-cache");
      await mkdir(join(project, "data"), { recursive: true });
      await writeFile(
        join(project, "pyproject.toml"),
        '[project]\nname = "pushme"\nversion = "1"\n',
      );
      await writeFile(join(project, "app.py"), 'print("push")\n');
      for (let i = 0; i < FILES; i++) {
        await writeFile(join(project, "data", `part${i}.bin`), randomBytes(rand, FILE_BYTES));
      }
      const push = (repository: string) =>
        startCli([
          "build",
          "--quiet",
          "--context",
          project,
          "--base-image",
          baseRef,
          "--cache-dir",
          cache,
          "--tag",
          `${registry.host}/${repository}:1`,
          "--push",
        ]);
      const t0 = Date.now();
      const first = await push("kill/first").exited;
      assert.equal(first.code, 0, first.stderr);
      const pushMs = Date.now() - t0;
      const digest = first.stdout.split("\n")[0]!;

      const started = Date.now();
      let killed = 0;
      let rounds = 0;
      for (let round = 0; round < ROUNDS && Date.now() - started < BUDGET_MS; round++) {
        rounds++;
        // The cache keeps its records but not its blobs, and each round pushes to a repository
        // that lacks the app layer: the push has to rebuild the deferred layer, and is killed.
        await rm(join(cache, "blobs"), { recursive: true, force: true });
        const delay = Math.floor(rand() * pushMs * 1.2);
        const build = push(`kill/round${round}`);
        const timer = setTimeout(() => build.kill(), delay);
        const r = await build.exited;
        clearTimeout(timer);
        if (r.signal === "SIGKILL") killed++;
        else {
          assert.equal(r.code, 0, `round ${round} failed without being killed: ${r.stderr}`);
          assert.equal(
            r.stdout.split("\n")[0],
            digest,
            "the rebuilt layer has the recorded digest",
          );
        }
        const c = await checkCacheDir(cache);
        console.log(
          `round ${round}: ${r.signal === "SIGKILL" ? "killed" : "finished"} after ${delay} ms; ` +
            `cache ${c.verified} blobs, ${c.recordsHit}/${c.records} records hit, ${c.temps.length} temp`,
        );
      }
      assert.ok(killed >= Math.min(3, rounds), `only ${killed} of ${rounds} pushes were killed`);

      // The next push completes, with the same image.
      await rm(join(cache, "blobs"), { recursive: true, force: true });
      const final = await push("kill/final").exited;
      assert.equal(final.code, 0, final.stderr);
      assert.equal(final.stdout.split("\n")[0], digest);
      const raw = JSON.parse(
        await run("skopeo", [
          "inspect",
          "--tls-verify=false",
          `docker://${registry.host}/kill/final:1`,
        ]),
      );
      assert.equal(raw.Digest, digest);
      await checkCacheDir(cache);
    } finally {
      await registry.stop();
    }
  },
);
