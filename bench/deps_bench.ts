/**
 * Dependency install benchmark (issue 4): the FastAPI app's lock (fastapi + uvicorn[standard],
 * ~20 wheels with uvloop, httptools, pydantic-core…), wheels already cached, installed into one
 * gzip layer:
 *
 * - **ours**: read the pylock.toml, select for the target, find the wheels in the cache (hash
 *   checked by name), stream every wheel from its zip into venv entries, tar + gzip + sha256 the
 *   layer to a file — the `--include-deps` code path, in process.
 * - **uv**: `uv pip install --target DIR --python-platform x86_64-manylinux_2_36
 *   --python-version 3.11 --only-binary :all: --no-index --find-links WHEELS -r requirements.txt`
 *   (uv's own cache warm), then `tar -c DIR | gzip -6 | sha256sum` — what a Dockerfile-free
 *   pipeline around uv would do.
 *
 * Both start from the same wheel files (the local index fixture of tests/fixtures/wheels_index)
 * and produce one compressed layer; the median of BENCH_RUNS runs (default 5) is reported with
 * the ratio. uv is taken from PATH, else installed with pip into a temporary venv.
 *
 * Run: `deno run -A bench/deps_bench.ts`
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { createWriteStream, existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { parse } from "smol-toml";
import { lockedWheel } from "../src/build/locked_wheel.ts";
import { DependencyIndex } from "../src/build/dependency_index.ts";
import { IndexClient } from "../src/python/index_client.ts";
import { markerEnvironmentFor } from "../src/python/marker_environment.ts";
import { compatibleTags } from "../src/python/tags.ts";
import { resolve } from "../src/python/resolver.ts";
import { formatPylock } from "../src/python/pylock_format.ts";
import { readLockFile } from "../src/python/locks/find_lock_file.ts";
import { selectForTarget } from "../src/python/locks/select.ts";
import { downloadWheels } from "../src/python/wheel_cache.ts";
import { installWheel } from "../src/python/wheel_install.ts";
import { venvEntries } from "../src/python/venv.ts";
import { mergeInstalls } from "../src/python/install_merge.ts";
import { writeLayer } from "../src/layer/tar_writer.ts";
import { realIndexDir, startIndexServer } from "../tests/python/_index_server.ts";

const runs = Number(process.env.BENCH_RUNS ?? 5);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function sh(cmd: string, env: Record<string, string> = {}): string {
  const r = spawnSync("bash", ["-c", cmd], { env: { ...process.env, ...env }, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  return r.stdout;
}

function findUv(work: string): string {
  const onPath = spawnSync("bash", ["-c", "command -v uv"], { encoding: "utf8" }).stdout.trim();
  if (onPath) return onPath;
  const venv = join(work, "uv-venv");
  sh(`python3 -m venv ${venv} && ${venv}/bin/pip install --quiet --disable-pip-version-check uv`);
  return join(venv, "bin", "uv");
}

const work = await mkdtemp(join(tmpdir(), "pycontainer-deps-bench-"));
const server = await startIndexServer({ dirs: [realIndexDir()] });
try {
  const markerEnv = markerEnvironmentFor({ pythonFullVersion: "3.11.2", arch: "amd64" });
  const tags = compatibleTags({
    pythonVersion: "3.11",
    arch: "amd64",
    libc: { family: "glibc", version: "2.36" },
  });
  const target = { markerEnv, tags, pythonFullVersion: "3.11.2" };
  const cacheDir = join(work, "cache");
  const index = new IndexClient({ indexUrl: server.url, env: {} });
  const emit = () => {};
  const source = new DependencyIndex({
    index,
    findLinks: [],
    tags,
    targetName: "bench",
    cacheDir,
    env: {},
    emit,
  });

  // The lock, and the same set as requirements.txt + a wheel directory for uv.
  const resolution = await resolve({
    requirements: ["fastapi", "uvicorn[standard]"],
    target,
    index: source,
  });
  const lockPath = join(work, "pylock.toml");
  await writeFile(lockPath, formatPylock(resolution, { markerEnv }));
  const lock = parse(formatPylock(resolution, { markerEnv })) as {
    packages: { name: string; version: string }[];
  };
  await writeFile(
    join(work, "requirements.txt"),
    lock.packages.map((p) => `${p.name}==${p.version}`).join("\n") + "\n",
  );
  const wheelsDir = realIndexDir();

  const ours = async (): Promise<number> => {
    const t0 = performance.now();
    const set = await readLockFile({ kind: "pylock.toml", path: lockPath });
    const chosen = selectForTarget(set, { markerEnv, tags });
    const wanted = await Promise.all(
      chosen.map((s) => lockedWheel(s.package, s.wheel, s.sdist, source, lockPath)),
    );
    const cached = await downloadWheels(wanted, { cacheDir, open: (u) => source.openUrl(u) });
    const t = { venvDir: "app/.venv", pythonVersion: "3.11" };
    const installs = await Promise.all(
      cached.map((w) => installWheel(w.path, t, { sha256: w.sha256, requested: true })),
    );
    const skeleton = {
      label: "venv",
      entries: venvEntries({
        ...t,
        pythonHome: "/usr/bin",
        pythonFullVersion: "3.11.2",
        interpreter: "python3.11",
      }),
    };
    const out = join(work, "ours.tar.gz");
    await writeLayer(
      mergeInstalls([skeleton, ...installs]),
      Writable.toWeb(createWriteStream(out)) as WritableStream<Uint8Array>,
    );
    return performance.now() - t0;
  };

  const uv = findUv(work);
  const uvVersion = sh(`${uv} --version`).trim();
  const target_ = join(work, "uv-target");
  const uvCmd = `rm -rf ${target_} && ${uv} pip install --quiet --target ${target_} ` +
    `--python-platform x86_64-manylinux_2_36 --python-version 3.11 --only-binary :all: ` +
    `--no-index --find-links ${wheelsDir} -r ${join(work, "requirements.txt")} && ` +
    `tar -C ${target_} -c . | gzip -6 | sha256sum`;
  const uvEnv = { UV_CACHE_DIR: join(work, "uv-cache") };
  const theirs = (): number => {
    const t0 = performance.now();
    sh(uvCmd, uvEnv);
    return performance.now() - t0;
  };

  await ours(); // fill the wheel cache
  theirs(); // fill uv's cache
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < runs; i++) {
    a.push(await ours());
    b.push(theirs());
  }
  const ma = median(a);
  const mb = median(b);
  const sizeOurs = Number(sh(`stat -c %s ${join(work, "ours.tar.gz")}`).trim());
  const sizeUv = Number(sh(`tar -C ${target_} -c . | gzip -6 | wc -c`).trim());
  console.log(`FastAPI lock: ${resolution.packages.length} wheels, cached; median of ${runs} runs`);
  console.log("");
  console.log("| pipeline | time | layer (gzip) |");
  console.log("|---|---|---|");
  console.log(
    `| pycontainer (lock → venv entries → tar+gzip+sha256) | ${ma.toFixed(0)} ms | ${
      (sizeOurs / 1048576).toFixed(1)
    } MiB |`,
  );
  console.log(
    `| ${uvVersion} pip install --target + tar \\| gzip -6 \\| sha256sum | ${mb.toFixed(0)} ms | ${
      (sizeUv / 1048576).toFixed(1)
    } MiB |`,
  );
  console.log("");
  console.log(`ratio pycontainer / uv pipeline: ${(ma / mb).toFixed(2)} (below 1 = faster)`);
  if (!existsSync(join(work, "ours.tar.gz"))) throw new Error("no layer written");
} finally {
  await server.close();
  await rm(work, { recursive: true, force: true });
}
