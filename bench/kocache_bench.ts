/**
 * Registry-build benchmark (`deno run -A bench/kocache_bench.ts`): what `build --push` saves
 * when the cache kept its layer records but lost its blobs and wheels — a CI runner that
 * persists only the small records (`layers/`, `target-env/`, `file-digests/`), or a cache whose
 * big blobs were evicted — and the registry already has the image's layers (ko's KOCACHE idea).
 *
 * The FastAPI app with its 20 locked wheels (tests/fixtures/e2e/fastapi_app, wheels from the
 * local test index of tests/fixtures/wheels_index/fetch.sh) on the cached Debian base, pushed to
 * Debian's docker-registry on loopback. Before every timed run the cache's `blobs/` and
 * `wheels/` are deleted. In the same run:
 *
 * - baseline: `build --push --output DIR`, which must materialise every layer for the layout
 *   (download the wheels, install them, compress the layers) before pushing;
 * - registry-only: `build --push`, which defers the known layers and asks the registry first;
 * - for scale: `build --push` with the whole cache present (no change).
 *
 * Each row is the CLI as a child process (start-up included), median of `BENCH_RUNS` (default 5).
 * Prints a markdown table; docs/benchmarks.md records a run.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  baseLayoutPath,
  pushLayoutToRegistry,
  startRegistry,
} from "../tests/integration/_registry.ts";
import { hasRealIndex, realIndexDir, startIndexServer } from "../tests/python/_index_server.ts";
import { median } from "./_stats.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const runs = Number(process.env.BENCH_RUNS ?? 5);
const isDeno = "Deno" in globalThis;

/** Runs the CLI as a child process (asynchronously: the index server lives in this process). */
function pycontainer(args: string[], env: Record<string, string>): Promise<number> {
  const cli = join(root, "cli.ts");
  const argv = isDeno ? ["run", "-A", cli, ...args] : [cli, ...args];
  const t0 = performance.now();
  const child = spawn(process.execPath, argv, {
    env: { ...process.env, CI: "true", ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on("close", (code) => {
      if (code === 0) resolve(performance.now() - t0);
      else reject(new Error(`pycontainer ${args.join(" ")} failed: ${stderr}`));
    });
  });
}

if (!(await hasRealIndex())) {
  console.error("kocache_bench: no wheel fixture; run tests/fixtures/wheels_index/fetch.sh");
  process.exit(1);
}
const work = await mkdtemp(join(tmpdir(), "pycontainer-kocache-bench-"));
const registry = await startRegistry();
const index = await startIndexServer({ dirs: [realIndexDir()] });
try {
  const baseRef = `${registry.host}/base/python:bookworm`;
  await pushLayoutToRegistry(baseLayoutPath(), "bookworm", baseRef);
  const app = join(work, "fastapi");
  await cp(join(root, "tests", "fixtures", "e2e", "fastapi_app"), app, { recursive: true });
  const cache = join(work, "cache");
  const env = { PYCONTAINER_CACHE_DIR: cache, PIP_INDEX_URL: index.url };
  const tag = `${registry.host}/bench/api:1`;
  const common = ["build", "-q", "-C", app, "--include-deps", "--base-image", baseRef, "-t", tag];
  // Setup (untimed): the lock, then one push so the registry has every layer.
  await pycontainer([...common, "--write-lock", "pylock.toml", "-o", join(work, "setup")], env);
  await pycontainer([...common, "--push"], env);
  const loseBlobs = async () => {
    await rm(join(cache, "blobs"), { recursive: true, force: true });
    await rm(join(cache, "wheels"), { recursive: true, force: true });
  };
  const layoutRuns: number[] = [];
  const registryRuns: number[] = [];
  const warmRuns: number[] = [];
  for (let i = 0; i < runs; i++) {
    await loseBlobs();
    layoutRuns.push(await pycontainer([...common, "--push", "-o", join(work, `out${i}`)], env));
    await loseBlobs();
    registryRuns.push(await pycontainer([...common, "--push"], env));
    warmRuns.push(await pycontainer([...common, "--push"], env));
  }
  const base = median(layoutRuns);
  const row = (what: string, ms: number) =>
    `| ${what} | ${Math.round(ms)} ms | ${(ms / base).toFixed(2)} |`;
  console.log(`runtime: ${isDeno ? "deno" : "other"}, runs: ${runs}`);
  console.log("| measurement | median | ratio to baseline |");
  console.log("|---|---|---|");
  console.log(row("baseline: `build --push -o DIR`, records only (rebuild every layer)", base));
  console.log(
    row("`build --push`, records only (layers deferred, registry asked)", median(registryRuns)),
  );
  console.log(row("`build --push`, whole cache, no change", median(warmRuns)));
} finally {
  await index.close();
  await registry.stop();
  await rm(work, { recursive: true, force: true });
}
