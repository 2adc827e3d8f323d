/**
 * Benchmarks (`deno task bench`). Every number is reported as a ratio against a baseline
 * measured in the same run, so results compare across machines:
 *
 * 1. hello app, base image cached: cold build, rebuild after editing app.py, no-change rebuild —
 *    wall time of the whole CLI process vs the same runtime printing `--version` (start-up);
 *    plus the in-process work of a no-change rebuild (the build() call alone).
 * 2. layer throughput: a ~100 MB tree of site-packages-like files through our
 *    tar + gzip + sha256 pipeline vs `tar -c | gzip -6 | sha256sum` of the same tree.
 * 3. the no-change rebuild under Deno and Bun (and Node when `deno task npm` has been run).
 *
 * Writes a markdown table to stdout; docs/benchmarks.md records a run with its command.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "../src/build/build.ts";
import { collectAppFiles } from "../src/project/app_files.ts";
import { writeLayer } from "../src/layer/tar_writer.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = join(root, "node_modules", ".bin");
const runs = Number(process.env.BENCH_RUNS ?? 5);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timeCommand(cmd: string, args: string[], env: Record<string, string> = {}): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, encoding: "utf8" });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr}`);
  return ms;
}

function timeN(fn: () => number, n = runs): number {
  return median(Array.from({ length: n }, fn));
}

const baseLayout = spawnSync("bash", [join(root, "tests/integration/make_base_image.sh")], {
  encoding: "utf8",
})
  .stdout.trim().split("\n").pop()!;
const work = await mkdtemp(join(tmpdir(), "pycontainer-bench-"));
const rows: string[][] = [];
const row = (...cells: (string | number)[]) => rows.push(cells.map(String));
const fmt = (ms: number) => `${ms.toFixed(0)} ms`;

try {
  // 1. hello app through the CLI under Deno.
  const app = join(work, "hello");
  await cp(join(root, "examples", "hello"), app, { recursive: true });
  const cache = join(work, "cache");
  const args = (runtime: string) => {
    const cli = runtime === "node"
      ? [join(root, "npm", "esm", "cli.js")]
      : runtime === "bun"
      ? [join(root, "cli.ts")]
      : ["run", "-A", join(root, "cli.ts")];
    return [
      ...cli,
      "build",
      "--context",
      app,
      "--base-image",
      `oci-layout:${baseLayout}:bookworm`,
      "-q",
    ];
  };
  const deno = join(bin, "deno");
  const env = { PYCONTAINER_CACHE_DIR: cache };
  const startup = timeN(() => timeCommand(deno, ["run", "-A", join(root, "cli.ts"), "--version"]));
  const cold = timeN(() => {
    spawnSync("rm", ["-rf", cache, join(app, "dist")]);
    return timeCommand(deno, args("deno"), env);
  });
  let edits = 0;
  const edit = timeN(() => {
    spawnSync("bash", ["-c", `echo 'print(${edits++})' >> ${join(app, "app.py")}`]);
    return timeCommand(deno, args("deno"), env);
  });
  await new Promise((r) => setTimeout(r, 2100)); // past the racy-stat window
  timeCommand(deno, args("deno"), env);
  const noChange = timeN(() => timeCommand(deno, args("deno"), env));
  const work_ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await build({
      context: app,
      overrides: { build: { baseImage: `oci-layout:${baseLayout}:bookworm` } },
      env: { ...process.env, ...env },
    });
    work_ms.push(performance.now() - t0);
  }
  row("baseline: `deno run -A cli.ts --version` (start-up)", fmt(startup), "1.00");
  row("hello: cold build (empty cache)", fmt(cold), (cold / startup).toFixed(2));
  row("hello: rebuild after editing app.py", fmt(edit), (edit / startup).toFixed(2));
  row("hello: no-change rebuild", fmt(noChange), (noChange / startup).toFixed(2));
  row(
    "hello: no-change rebuild, build() work in-process",
    fmt(median(work_ms)),
    (median(work_ms) / startup).toFixed(2),
  );

  // 3. Same no-change rebuild under the other runtimes.
  const bun = join(bin, "bun");
  const bunStartup = timeN(() => timeCommand(bun, [join(root, "cli.ts"), "--version"]));
  const bunBuild = timeN(() => timeCommand(bun, args("bun"), env));
  row("bun: `cli.ts --version` (start-up)", fmt(bunStartup), (bunStartup / startup).toFixed(2));
  row("bun: no-change rebuild", fmt(bunBuild), (bunBuild / startup).toFixed(2));
  if (existsSync(join(root, "npm", "esm", "cli.js"))) {
    const nodeBuild = timeN(() => timeCommand("node", args("node"), env));
    row("node (npm package): no-change rebuild", fmt(nodeBuild), (nodeBuild / startup).toFixed(2));
  }

  // 2. Layer throughput on a ~100 MB tree.
  const tree = join(work, "tree");
  const mb = await makeTree(tree, 100);
  const gnu = timeN(
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
  const oursMs = median(ours);
  row(`layer: \`tar | gzip -6 | sha256sum\` of ${mb} MB (baseline)`, fmt(gnu), "1.00");
  row(`layer: our tar+gzip+sha256 pipeline, same tree`, fmt(oursMs), (oursMs / gnu).toFixed(2));
} finally {
  await rm(work, { recursive: true, force: true });
}

console.log(`runtime: ${"Deno" in globalThis ? "deno" : "other"}, runs: ${runs} (median)\n`);
console.log("| measurement | time | ratio to baseline |\n|---|---|---|");
for (const r of rows) console.log(`| ${r.join(" | ")} |`);

/** Writes a site-packages-like tree: many small .py files and some larger binary-ish ones. */
async function makeTree(dir: string, megabytes: number): Promise<number> {
  let total = 0;
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const source = (await readFile(join(root, "src", "build", "build.ts"), "utf8")).repeat(2);
  for (let pkg = 0; total < megabytes * 1_000_000; pkg++) {
    const pdir = join(dir, `pkg${pkg}`, "sub");
    await mkdir(pdir, { recursive: true });
    for (let f = 0; f < 40; f++) {
      const text = source.slice(0, 2000 + Math.floor(rand() * 12000));
      await writeFile(join(pdir, `mod${f}.py`), text);
      total += text.length;
    }
    const bin = new Uint8Array(400_000 + Math.floor(rand() * 800_000));
    for (let i = 0; i < bin.length; i++) bin[i] = i % 7 === 0 ? Math.floor(rand() * 256) : i % 251;
    await writeFile(join(dir, `pkg${pkg}`, `_native.so`), bin);
    total += bin.length;
  }
  return Math.round(total / 1_000_000);
}
