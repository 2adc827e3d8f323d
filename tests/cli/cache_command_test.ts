/**
 * `pycontainer cache info|prune|clear` through the CLI, on a cache filled by a real build
 * (`--base-image scratch`, so no registry is needed), plus the usage errors (exit code 2).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { cp, mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "./_run_cli.ts";

const hello = join(import.meta.dirname!, "..", "fixtures", "projects", "hello");
let work: string;
let n = 0;

before(async () => {
  work = await mkdtemp(join(tmpdir(), "pycontainer-cli-cache-"));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

/** A cache dir filled by one real build of the hello project. */
async function builtCache(): Promise<{ cache: string; blob: string; record: string }> {
  const dir = join(work, `run${n++}`);
  await cp(hello, join(dir, "p"), { recursive: true });
  const cache = join(dir, "cache");
  const r = await runCli([
    "build",
    "-q",
    "--context",
    join(dir, "p"),
    "--base-image",
    "scratch",
    "--cache-dir",
    cache,
    "--output",
    join(dir, "out"),
  ]);
  assert.equal(r.code, 0, r.stderr);
  const blobs = await readdir(join(cache, "blobs", "sha256"));
  const records = await readdir(join(cache, "layers"));
  assert.equal(blobs.length, 1);
  assert.equal(records.length, 1);
  return {
    cache,
    blob: join(cache, "blobs", "sha256", blobs[0]!),
    record: join(cache, "layers", records[0]!),
  };
}

async function makeOld(path: string, hours = 24): Promise<void> {
  const t = new Date(Date.now() - hours * 3600_000);
  await utimes(path, t, t);
}

const exists = (p: string) => stat(p).then(() => true, () => false);

test("cache info prints the path, total size and counts per kind", async () => {
  const { cache, blob, record } = await builtCache();
  const size = (await stat(blob)).size + (await stat(record)).size;
  const r = await runCli(["cache", "info", "--cache-dir", cache]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^cache: +${cache}$`, "m"));
  assert.match(
    r.stdout,
    new RegExp(`^size: +${size} B \\(limit 5 GB = 4\\.7 GiB, default\\)$`, "m"),
  );
  assert.match(r.stdout, /^blobs: +1 /m);
  assert.match(r.stdout, /^layer records: +1 /m);
  assert.match(r.stdout, /^wheels: +0 /m);
  assert.match(r.stdout, /^file digests: +0 /m);
});

test("cache info --json reports counts, bytes and the limit from the environment", async () => {
  const { cache, blob } = await builtCache();
  const r = await runCli(["cache", "info", "--json"], {
    PYCONTAINER_CACHE_DIR: cache,
    PYCONTAINER_CACHE_MAX_SIZE: "500MB",
  });
  assert.equal(r.code, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  assert.equal(info.path, cache);
  assert.equal(info.exists, true);
  assert.equal(info.maxBytes, 500_000_000);
  assert.equal(info.maxBytesSource, "PYCONTAINER_CACHE_MAX_SIZE");
  assert.deepEqual(info.kinds.blob, { count: 1, bytes: (await stat(blob)).size });
  assert.equal(info.kinds.layerRecord.count, 1);
  assert.equal(info.kinds.wheel.count, 0);
  assert.equal(
    info.totalBytes,
    Object.values(info.kinds as Record<string, { bytes: number }>).reduce(
      (s, k) => s + k.bytes,
      0,
    ),
  );
});

test("cache info on a missing directory says so", async () => {
  const missing = join(work, "never-created");
  const r = await runCli(["cache", "info", "--cache-dir", missing]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /does not exist yet/);
  const j = JSON.parse((await runCli(["cache", "info", "--json", "--cache-dir", missing])).stdout);
  assert.equal(j.exists, false);
  assert.equal(j.totalBytes, 0);
});

test("cache prune keeps recently used files, then evicts old blobs and records", async () => {
  const { cache, blob, record } = await builtCache();
  const first = await runCli(["cache", "prune", "--max-size", "0", "--cache-dir", cache]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^nothing removed: .* over the limit \(0 B, from --max-size\)$/m);
  assert.match(first.stdout, /^kept 2 files used in the last 10 minutes/m);
  assert.ok(await exists(blob));

  await makeOld(blob);
  await makeOld(record);
  const second = await runCli([
    "cache",
    "prune",
    "--max-size",
    "0",
    "--cache-dir",
    cache,
    "--json",
  ]);
  assert.equal(second.code, 0, second.stderr);
  const j = JSON.parse(second.stdout);
  assert.deepEqual(j.removed.map((f: { path: string }) => f.path).sort(), [blob, record].sort());
  assert.equal(j.bytesAfter, 0);
  assert.equal(j.freedBytes, j.bytesBefore);
  assert.equal(j.maxBytes, 0);
  assert.ok(!(await exists(blob)) && !(await exists(record)));
});

test("cache prune prints what was freed", async () => {
  const { cache, blob } = await builtCache();
  await makeOld(blob);
  const r = await runCli(["cache", "prune", "--max-size", "1KB", "--cache-dir", cache]);
  assert.equal(r.code, 0, r.stderr);
  // The blob and record together are under 1 KB: nothing to do.
  assert.match(r.stdout, /^nothing removed: .* within the limit \(1 KB = 1000 B/m);
  // An older 5000-byte wheel puts the cache over the limit; it goes first, and that is enough.
  const big = join(cache, "wheels", "sha256", "a".repeat(64));
  await mkdir(big, { recursive: true });
  await writeFile(join(big, "x-1.0-py3-none-any.whl"), new Uint8Array(5000));
  await makeOld(join(big, "x-1.0-py3-none-any.whl"), 48);
  const p = await runCli(["cache", "prune", "--max-size", "1KB", "--cache-dir", cache]);
  assert.equal(p.code, 0, p.stderr);
  assert.match(p.stdout, /^removed 1 wheel \(4\.9 KiB\)$/m);
  assert.match(
    p.stdout,
    /^freed 4\.9 KiB: .* now holds \d+ B \(limit 1 KB = 1000 B, from --max-size\)$/m,
  );
});

test("cache clear removes everything pycontainer keeps and leaves other files", async () => {
  const { cache } = await builtCache();
  await writeFile(join(cache, "README"), "not ours");
  const r = await runCli(["cache", "clear", "--cache-dir", cache]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^removed 2 files \(\d+ B\) from /m);
  assert.match(r.stdout, /^left README \(not pycontainer's/m);
  assert.deepEqual(await readdir(cache), ["README"]);
  const j = JSON.parse((await runCli(["cache", "clear", "--json", "--cache-dir", cache])).stdout);
  assert.equal(j.files, 0);
  assert.deepEqual(j.kept, ["README"]);
});

test("a build after cache clear rebuilds the layer from scratch", async () => {
  const { cache, blob } = await builtCache();
  assert.equal((await runCli(["cache", "clear", "--cache-dir", cache])).code, 0);
  const dir = join(cache, "..");
  const r = await runCli([
    "build",
    "--context",
    join(dir, "p"),
    "--base-image",
    "scratch",
    "--cache-dir",
    cache,
    "--output",
    join(dir, "out"),
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, / built +app files/);
  assert.ok(await exists(blob));
});

test("cache usage errors exit 2 with a hint", async () => {
  const cases: [string[], Record<string, string>, RegExp, RegExp][] = [
    [["cache"], {}, /needs an action: info, prune or clear/, /cache info/],
    [["cache", "infp"], {}, /unknown action "infp"/, /did you mean "pycontainer cache info"/],
    [["cache", "info", "/tmp"], {}, /unexpected argument "\/tmp"/, /--cache-dir/],
    [["cache", "clear", "--max-size", "1GB"], {}, /--max-size does not apply/, /prune/],
    [["cache", "prune", "--max-size", "5G"], {}, /"G" is ambiguous/, /5GB/],
    [["cache", "prune", "--max-size"], {}, /--max-size needs a value/, /SIZE/],
    [["cache", "info", "--max-sise", "1GB"], {}, /unknown flag --max-sise/, /--max-size/],
    [
      ["cache", "prune", "--cache-dir", join(tmpdir(), "nope")],
      { PYCONTAINER_CACHE_MAX_SIZE: "big" },
      /invalid PYCONTAINER_CACHE_MAX_SIZE "big"/,
      /5GB/,
    ],
  ];
  for (const [args, env, message, hint] of cases) {
    const r = await runCli(args, env);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^error: .*${message.source}`, "m"));
    assert.match(r.stderr, new RegExp(`^hint: .*${hint.source}`, "m"));
    assert.equal(r.stdout, "");
  }
});

test("cache --help lists the actions and flags", async () => {
  const r = await runCli(["cache", "--help"]);
  assert.equal(r.code, 0);
  for (const word of ["info", "prune", "clear", "--cache-dir DIR", "--max-size SIZE", "--json"]) {
    assert.ok(r.stdout.includes(word), word);
  }
  const top = await runCli(["--help"]);
  assert.match(top.stdout, /^ {2}cache +Show, prune or clear the build cache$/m);
});
