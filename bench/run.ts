/**
 * Benchmarks (`deno task bench`). Every number is reported as a ratio against a baseline
 * measured in the same run, so results compare across machines:
 *
 * 1. hello app, base image cached: cold build, rebuild after editing app.py, no-change rebuild —
 *    wall time of the whole CLI process vs the same runtime printing `--version` (start-up);
 *    plus the in-process work of a no-change rebuild (the build() call alone).
 * 2. FastAPI app with its dependencies (fastapi + uvicorn[standard], 20 locked wheels) from a
 *    local PEP 691 index started by this script (the real-wheel fixture of
 *    tests/fixtures/wheels_index/fetch.sh): the lock is written once in setup; then a cold build
 *    (empty cache: the wheels are downloaded from the local index again), a rebuild after editing
 *    app.py and a no-change rebuild, each a whole CLI process under Deno, vs the same start-up
 *    baseline; the app-only rebuild under Bun too; plus the in-process build() work of the
 *    app-only rebuild.
 * 3. the no-change hello rebuild under Deno and Bun, and under Node the npm package's bundled
 *    bin (`bin/pycontainer.js`, one ESM file), against the same package's unbundled tsc output
 *    (`esm/cli.js`, one file per module); the FastAPI app-only rebuild under Node too. The
 *    package is built by this script into its temp dir (`npm-build.ts --no-tests`), so it is
 *    always the tree being measured and the repository's npm/ is left alone.
 * 4. layer throughput: a ~100 MB tree of site-packages-like files through our
 *    tar + gzip + sha256 pipeline vs `tar -c | gzip -6 | sha256sum` of the same tree.
 * 5. peak RSS (`/usr/bin/time -v`, "Maximum resident set size") of the CLI building an image
 *    with a ~1 GB layer (16 × 64 MiB of semi-compressible generated files, `--base-image
 *    scratch`, empty cache each run) under Deno, Bun and Node, vs the same runtime's `--version`.
 *
 * `BENCH_RUNS` (default 5) runs per small measurement, `BENCH_BIG_RUNS` (default 1) for the
 * 1 GB build; medians are reported. Writes a markdown table to stdout; docs/benchmarks.md
 * records a run with its command.
 *
 * @module
 */
import { spawn, spawnSync } from "node:child_process";
import { cp, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "../src/build/build.ts";
import { collectAppFiles } from "../src/project/app_files.ts";
import { writeLayer } from "../src/layer/tar_writer.ts";
import { hasRealIndex, realIndexDir, startIndexServer } from "../tests/python/_index_server.ts";
import { makeBigProject, makeTree } from "./_tree.ts";
import { median } from "./_stats.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = join(root, "node_modules", ".bin");
const runs = Number(process.env.BENCH_RUNS ?? 5);
const bigRuns = Number(process.env.BENCH_BIG_RUNS ?? 1);
const deno = join(bin, "deno");
const bun = join(bin, "bun");
/** The npm package, built into the work dir below. */
let npmDir = "";

interface Ran {
  ms: number;
  stderr: string;
}

/**
 * Runs a command to completion without blocking the event loop (the local index server of
 * this process must keep answering the child), and times it.
 */
function runCommand(cmd: string, args: string[], env: Record<string, string> = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, {
      env: { ...process.env, ...env },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => {
      const ms = performance.now() - t0;
      if (code !== 0) reject(new Error(`${cmd} ${args.join(" ")} failed (${code}): ${stderr}`));
      else resolve({ ms, stderr });
    });
  });
}

async function timeCommand(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<number> {
  return (await runCommand(cmd, args, env)).ms;
}

async function timeN(fn: () => Promise<number>, n = runs): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) xs.push(await fn());
  return median(xs);
}

type Runtime = "deno" | "bun" | "node" | "node-esm";

/** `cli --version` under a runtime: the start-up baseline. */
function versionArgs(runtime: Runtime): [string, string[]] {
  const [cmd, pre] = cliArgs(runtime);
  return [cmd, [...pre, "--version"]];
}

/**
 * The command line that runs the CLI under a runtime: `node` is the npm package's bundled bin,
 * `node-esm` the same package's unbundled `esm/cli.js`.
 */
function cliArgs(runtime: Runtime): [string, string[]] {
  if (runtime === "node") return ["node", [join(npmDir, "bin", "pycontainer.js")]];
  if (runtime === "node-esm") return ["node", [join(npmDir, "esm", "cli.js")]];
  if (runtime === "bun") return [bun, [join(root, "cli.ts")]];
  return [deno, ["run", "-A", join(root, "cli.ts")]];
}

const baseLayout = spawnSync("bash", [join(root, "tests/integration/make_base_image.sh")], {
  encoding: "utf8",
})
  .stdout.trim().split("\n").pop()!;
const base = `oci-layout:${baseLayout}:bookworm`;
const work = await mkdtemp(join(tmpdir(), "pycontainer-bench-"));
const rows: string[][] = [];
const notes: string[] = [];
const row = (...cells: (string | number)[]) => rows.push(cells.map(String));
const fmt = (ms: number) => `${ms.toFixed(0)} ms`;
const ratio = (x: number, of: number) => (x / of).toFixed(2);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

try {
  // Node: the npm package of this tree, built into the work dir (the library needs the
  // repository's node_modules for its dependencies; the bundled bin carries its own).
  npmDir = join(work, "npm");
  const npmBuild = spawnSync(
    deno,
    ["run", "-A", join(root, "npm-build.ts"), "--no-tests", "--out", npmDir],
    { cwd: root, encoding: "utf8" },
  );
  const hasNode = npmBuild.status === 0 && existsSync(join(npmDir, "bin", "pycontainer.js"));
  if (hasNode) {
    await symlink(join(root, "node_modules"), join(npmDir, "node_modules"), "dir");
  } else {
    notes.push(
      `node skipped: the npm build failed (${npmBuild.stderr.trim().split("\n").pop()})`,
    );
  }

  // 1. hello app through the CLI under Deno.
  const app = join(work, "hello");
  await cp(join(root, "examples", "hello"), app, { recursive: true });
  const cache = join(work, "cache");
  const helloArgs = (runtime: Runtime): [string, string[]] => {
    const [cmd, pre] = cliArgs(runtime);
    return [cmd, [...pre, "build", "--context", app, "--base-image", base, "-q"]];
  };
  const env = { PYCONTAINER_CACHE_DIR: cache };
  const startup = await timeN(() => timeCommand(...versionArgs("deno")));
  const cold = await timeN(async () => {
    await rm(cache, { recursive: true, force: true });
    await rm(join(app, "dist"), { recursive: true, force: true });
    return await timeCommand(...helloArgs("deno"), env);
  });
  let edits = 0;
  const edit = await timeN(async () => {
    await writeFile(join(app, "app.py"), `print(${edits++})\n`, { flag: "a" });
    return await timeCommand(...helloArgs("deno"), env);
  });
  await sleep(2100); // past the racy-stat window
  await timeCommand(...helloArgs("deno"), env);
  const noChange = await timeN(() => timeCommand(...helloArgs("deno"), env));
  const work_ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await build({
      context: app,
      overrides: { build: { baseImage: base } },
      env: { ...process.env, ...env },
    });
    work_ms.push(performance.now() - t0);
  }
  row("baseline: `deno run -A cli.ts --version` (start-up)", fmt(startup), "1.00");
  row("hello: cold build (empty cache)", fmt(cold), ratio(cold, startup));
  row("hello: rebuild after editing app.py", fmt(edit), ratio(edit, startup));
  row("hello: no-change rebuild", fmt(noChange), ratio(noChange, startup));
  row(
    "hello: no-change rebuild, `build()` work in-process",
    fmt(median(work_ms)),
    ratio(median(work_ms), startup),
  );

  // 2. FastAPI app with its dependencies, from a local index.
  if (await hasRealIndex()) {
    await benchFastapi(startup, hasNode);
  } else {
    notes.push("FastAPI rows skipped: run tests/fixtures/wheels_index/fetch.sh first");
  }

  // 3. Same no-change hello rebuild under the other runtimes.
  const bunStartup = await timeN(() => timeCommand(...versionArgs("bun")));
  const bunBuild = await timeN(() => timeCommand(...helloArgs("bun"), env));
  row("bun: `cli.ts --version` (start-up)", fmt(bunStartup), ratio(bunStartup, startup));
  row("bun: hello no-change rebuild", fmt(bunBuild), ratio(bunBuild, startup));
  if (hasNode) {
    const nodeStartup = await timeN(() => timeCommand(...versionArgs("node")));
    const nodeBuild = await timeN(() => timeCommand(...helloArgs("node"), env));
    const esmStartup = await timeN(() => timeCommand(...versionArgs("node-esm")));
    const esmBuild = await timeN(() => timeCommand(...helloArgs("node-esm"), env));
    row(
      "node (npm package, bundled bin): `--version` (start-up)",
      fmt(nodeStartup),
      ratio(nodeStartup, startup),
    );
    row(
      "node (npm package, bundled bin): hello no-change rebuild",
      fmt(nodeBuild),
      ratio(nodeBuild, startup),
    );
    row(
      "node (npm package, unbundled `esm/cli.js`): `--version`",
      fmt(esmStartup),
      ratio(esmStartup, startup),
    );
    row(
      "node (npm package, unbundled `esm/cli.js`): hello no-change rebuild",
      fmt(esmBuild),
      ratio(esmBuild, startup),
    );
  }

  // 4. Layer throughput on a ~100 MB tree.
  const tree = join(work, "tree");
  const mb = Math.round(await makeTree(tree, 100) / 1_000_000);
  const gnu = await timeN(
    () => timeCommand("bash", ["-c", `tar -C ${tree} -cf - . | gzip -6 | sha256sum >/dev/null`]),
    3,
  );
  const ours: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const { entries } = await collectAppFiles(tree);
    await writeLayer(entries, new WritableStream());
    ours.push(performance.now() - t0);
  }
  await rm(tree, { recursive: true, force: true });
  const oursMs = median(ours);
  row(`layer: \`tar \\| gzip -6 \\| sha256sum\` of ${mb} MB (baseline)`, fmt(gnu), "1.00");
  row(`layer: our tar+gzip+sha256 pipeline, same tree`, fmt(oursMs), ratio(oursMs, gnu));

  // 5. Peak RSS building a ~1 GB layer.
  if (existsSync("/usr/bin/time")) {
    await benchBigLayer(hasNode);
  } else {
    notes.push("peak-RSS rows skipped: /usr/bin/time is not installed (Debian package `time`)");
  }
} finally {
  await rm(work, { recursive: true, force: true });
}

const versions = [
  `deno ${spawnSync(deno, ["--version"], { encoding: "utf8" }).stdout.split("\n")[0]}`,
  `bun ${spawnSync(bun, ["--version"], { encoding: "utf8" }).stdout.trim()}`,
  `node ${spawnSync("node", ["--version"], { encoding: "utf8" }).stdout.trim()}`,
].join(", ");
console.log(`${versions}; runs: ${runs} (median), 1 GB build runs: ${bigRuns}\n`);
console.log("| measurement | value | ratio to baseline |\n|---|---|---|");
for (const r of rows) console.log(`| ${r.join(" | ")} |`);
for (const n of notes) console.log(`\n${n}`);

/** FastAPI app with dependencies: lock once, then cold / edit / no-change and in-process. */
async function benchFastapi(startup: number, hasNode: boolean): Promise<void> {
  const server = await startIndexServer({ dirs: [realIndexDir()] });
  try {
    const app = join(work, "fastapi");
    await cp(join(root, "tests", "fixtures", "e2e", "fastapi_app"), app, { recursive: true });
    const cache = join(work, "fastapi-cache");
    const env = { PYCONTAINER_CACHE_DIR: cache, PIP_INDEX_URL: server.url };
    const [cmd, pre] = cliArgs("deno");
    const args = [...pre, "build", "--context", app, "--include-deps", "--base-image", base, "-q"];
    await timeCommand(cmd, [...args, "--write-lock", "pylock.toml"], env); // setup: the lock
    const cold = await timeN(async () => {
      await rm(cache, { recursive: true, force: true });
      await rm(join(app, "dist"), { recursive: true, force: true });
      return await timeCommand(cmd, args, env);
    });
    let edits = 0;
    const edit = await timeN(async () => {
      await writeFile(join(app, "app.py"), `# edit ${edits++}\n`, { flag: "a" });
      return await timeCommand(cmd, args, env);
    });
    await sleep(2100); // past the racy-stat window
    await timeCommand(cmd, args, env);
    const noChange = await timeN(() => timeCommand(cmd, args, env));
    const [bunCmd, bunPre] = cliArgs("bun");
    const bunArgs = [...bunPre, ...args.slice(pre.length)];
    const bunEdit = await timeN(async () => {
      await writeFile(join(app, "app.py"), `# bun edit ${edits++}\n`, { flag: "a" });
      return await timeCommand(bunCmd, bunArgs, env);
    });
    const nodeEdit = async (runtime: Runtime) => {
      const [nodeCmd, nodePre] = cliArgs(runtime);
      const nodeArgs = [...nodePre, ...args.slice(pre.length)];
      return await timeN(async () => {
        await writeFile(join(app, "app.py"), `# ${runtime} edit ${edits++}\n`, { flag: "a" });
        return await timeCommand(nodeCmd, nodeArgs, env);
      });
    };
    const nodeEdits = hasNode ? [await nodeEdit("node"), await nodeEdit("node-esm")] : [];
    const inProcess: number[] = [];
    for (let i = 0; i < runs; i++) {
      await writeFile(join(app, "app.py"), `# in-process edit ${i}\n`, { flag: "a" });
      const t0 = performance.now();
      await build({
        context: app,
        overrides: { build: { baseImage: base, includeDeps: true } },
        env: { ...process.env, ...env },
      });
      inProcess.push(performance.now() - t0);
    }
    const work_ms = median(inProcess);
    row(
      "fastapi+deps: cold build (empty cache, wheels from local index)",
      fmt(cold),
      ratio(cold, startup),
    );
    row("fastapi+deps: rebuild after editing app.py", fmt(edit), ratio(edit, startup));
    row("fastapi+deps: no-change rebuild", fmt(noChange), ratio(noChange, startup));
    row(
      "fastapi+deps: rebuild after editing app.py, under Bun",
      fmt(bunEdit),
      ratio(bunEdit, startup),
    );
    if (nodeEdits.length === 2) {
      row(
        "fastapi+deps: rebuild after editing app.py, node (bundled bin)",
        fmt(nodeEdits[0]!),
        ratio(nodeEdits[0]!, startup),
      );
      row(
        "fastapi+deps: rebuild after editing app.py, node (unbundled `esm/cli.js`)",
        fmt(nodeEdits[1]!),
        ratio(nodeEdits[1]!, startup),
      );
    }
    row(
      "fastapi+deps: app-only rebuild, `build()` work in-process",
      fmt(work_ms),
      ratio(work_ms, startup),
    );
  } finally {
    await server.close();
  }
}

/** Peak RSS of the CLI building a ~1 GB layer under each runtime, vs its `--version`. */
async function benchBigLayer(hasNode: boolean): Promise<void> {
  const project = join(work, "big");
  const gib = ((await makeBigProject(project, 16)) / 2 ** 30).toFixed(2);
  const out = join(work, "big-out");
  const cache = join(work, "big-cache");
  const runtimes: Runtime[] = hasNode ? ["deno", "bun", "node"] : ["deno", "bun"];
  for (const runtime of runtimes) {
    const [cmd, pre] = cliArgs(runtime);
    const idle = median(
      await Promise.all(
        [0, 1, 2].map(async () => peakRss(await timeV(cmd, [...pre, "--version"]))),
      ),
    );
    const peaks: number[] = [];
    const walls: number[] = [];
    for (let i = 0; i < bigRuns; i++) {
      await rm(cache, { recursive: true, force: true });
      await rm(out, { recursive: true, force: true });
      const args = [...pre, "build", "--context", project, "--base-image", "scratch"];
      const r = await runCommand("/usr/bin/time", [
        "-v",
        cmd,
        ...args,
        "--cache-dir",
        cache,
        "-o",
        out,
        "-q",
      ]);
      peaks.push(peakRss(r));
      walls.push(r.ms);
    }
    await rm(cache, { recursive: true, force: true });
    await rm(out, { recursive: true, force: true });
    const peak = median(peaks);
    const label = runtime === "node" ? "node (npm package, bundled bin)" : runtime;
    row(`${label}: peak RSS of \`--version\` (baseline)`, `${idle.toFixed(0)} MB`, "1.00");
    row(
      `${label}: peak RSS building a ${gib} GB layer (wall ${(median(walls) / 1000).toFixed(1)} s)`,
      `${peak.toFixed(0)} MB`,
      ratio(peak, idle),
    );
  }
  await rm(project, { recursive: true, force: true });
}

async function timeV(cmd: string, args: string[]): Promise<Ran> {
  return await runCommand("/usr/bin/time", ["-v", cmd, ...args]);
}

/** "Maximum resident set size (kbytes)" of a `/usr/bin/time -v` run, in MB. */
function peakRss(r: Ran): number {
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  if (!m) throw new Error(`no peak RSS in /usr/bin/time output: ${r.stderr.slice(-400)}`);
  return Number(m[1]) / 1024;
}
