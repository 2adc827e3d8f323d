/**
 * Peak RSS of the CLI building an image with a ~1 GB layer, under Deno, Bun and Node (the npm
 * package), each against the same runtime's `--version` (issue 5: "peak RSS stays under ~200 MB
 * building an image with a 1 GB layer"). The same measurement as bench/run.ts's peak-RSS rows,
 * on its own so the memory work can be repeated quickly (reuse the generated project with
 * `--project`) and with the CPU time next to it (a fix that trades memory for CPU shows up).
 *
 * Input: a project of 16 × 64 MiB generated files — runs of source text with random bytes
 * between them, about 4:1 for gzip — generated exactly as bench/run.ts does. Each run builds
 * `build --base-image scratch --cache-dir EMPTY -o DIR -q` under `/usr/bin/time -v` and reads
 * "Maximum resident set size"; medians over `--runs`.
 *
 * Node runs the npm package, compiled from the current sources into a temporary directory
 * (`npm-build.ts --out TMP --no-tests`) unless `--npm DIR` names an already built one: `node` is
 * its unbundled `esm/cli.js`, `node-bin` its bundled bin (`bin/pycontainer.js`, what users run).
 *
 * Usage: `deno run -A bench/rss_bench.ts [--runtimes deno,bun,node,node-bin] [--runs 1] [--files 16]
 * [--project DIR] [--npm DIR]`. With `--project DIR` the project is generated there only when
 * missing and kept afterwards.
 *
 * @module
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm, stat, symlink } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { makeBigProject } from "./_tree.ts";
import { median } from "./_stats.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = join(root, "node_modules", ".bin");

const { values: args } = parseArgs({
  args: process.argv.slice(2),
  options: {
    runtimes: { type: "string", default: "deno,bun,node,node-bin" },
    runs: { type: "string", default: "1" },
    files: { type: "string", default: "16" },
    project: { type: "string" },
    npm: { type: "string" },
  },
});

type Runtime = "deno" | "bun" | "node" | "node-bin";

interface Measured {
  /** Peak RSS in MB. */
  rss: number;
  /** Wall-clock seconds. */
  wall: number;
  /** User + system CPU seconds. */
  cpu: number;
}

/** Runs `cmd` under `/usr/bin/time -v` and reads peak RSS, wall and CPU from its report. */
function timeV(cmd: string, cmdArgs: string[]): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const child = spawn("/usr/bin/time", ["-v", cmd, ...cmdArgs], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) {
        return reject(new Error(`${cmd} ${cmdArgs.join(" ")} failed (${code}): ${stderr}`));
      }
      const num = (re: RegExp) => {
        const m = re.exec(stderr);
        if (!m) throw new Error(`no ${re} in /usr/bin/time output: ${stderr.slice(-400)}`);
        return m.slice(1).map(Number);
      };
      const [rssKb] = num(/Maximum resident set size \(kbytes\): (\d+)/);
      const [user] = num(/User time \(seconds\): ([\d.]+)/);
      const [sys] = num(/System time \(seconds\): ([\d.]+)/);
      const wallParts = num(
        /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/,
      );
      const [h = 0, m = 0, s = 0] = wallParts.map((x) => (Number.isNaN(x) ? 0 : x));
      resolve({ rss: rssKb! / 1024, wall: h * 3600 + m * 60 + s, cpu: user! + sys! });
    });
  });
}

async function projectSize(dir: string): Promise<number> {
  let total = 0;
  for (let f = 0;; f++) {
    const file = join(dir, "data", `blob${String(f).padStart(2, "0")}.bin`);
    if (!existsSync(file)) return total;
    total += (await stat(file)).size;
  }
}

const runtimes = args.runtimes.split(",").map((r) => r.trim()) as Runtime[];
const runs = Number(args.runs);
const work = await mkdtemp(join(tmpdir(), "pycontainer-rss-bench-"));
try {
  const project = args.project ?? join(work, "big");
  const bytes = existsSync(join(project, "data"))
    ? await projectSize(project)
    : await makeBigProject(project, Number(args.files));

  let npmDir = args.npm;
  if (runtimes.some((r) => r.startsWith("node")) && npmDir === undefined) {
    npmDir = join(work, "npm");
    const r = spawnSync(join(bin, "deno"), [
      "run",
      "-A",
      "npm-build.ts",
      "--out",
      npmDir,
      "--no-tests",
    ], {
      cwd: root,
      encoding: "utf8",
    });
    if (r.status !== 0) throw new Error(`npm-build.ts failed: ${r.stdout}${r.stderr}`);
    // Its dependencies, as in a checkout: from the repository's node_modules.
    await symlink(join(root, "node_modules"), join(npmDir, "node_modules"), "dir");
  }
  const cli = (runtime: Runtime): [string, string[]] =>
    runtime === "node"
      ? ["node", [join(npmDir!, "esm", "cli.js")]]
      : runtime === "node-bin"
      ? ["node", [join(npmDir!, "bin", "pycontainer.js")]]
      : runtime === "bun"
      ? [join(bin, "bun"), [join(root, "cli.ts")]]
      : [join(bin, "deno"), ["run", "-A", join(root, "cli.ts")]];

  const label: Record<Runtime, string> = {
    deno: "deno",
    bun: "bun",
    node: "node (npm package, `esm/cli.js`)",
    "node-bin": "node (npm package, bundled bin)",
  };
  const rows: string[] = [];
  for (const runtime of runtimes) {
    const [cmd, pre] = cli(runtime);
    const idle: number[] = [];
    for (let i = 0; i < 3; i++) idle.push((await timeV(cmd, [...pre, "--version"])).rss);
    const samples: Measured[] = [];
    for (let i = 0; i < runs; i++) {
      const cache = join(work, "cache");
      const out = join(work, "out");
      await rm(cache, { recursive: true, force: true });
      await rm(out, { recursive: true, force: true });
      samples.push(
        await timeV(cmd, [
          ...pre,
          "build",
          "--context",
          project,
          "--base-image",
          "scratch",
          "--cache-dir",
          cache,
          "-o",
          out,
          "-q",
        ]),
      );
      await rm(cache, { recursive: true, force: true });
      await rm(out, { recursive: true, force: true });
    }
    const base = median(idle);
    const peak = median(samples.map((s) => s.rss));
    rows.push(
      `| ${label[runtime]} | ${base.toFixed(0)} MB | ${peak.toFixed(0)} MB (${
        samples.map((s) => s.rss.toFixed(0)).join(", ")
      }) | ${(peak / base).toFixed(2)} | ${median(samples.map((s) => s.wall)).toFixed(1)} s | ${
        median(samples.map((s) => s.cpu)).toFixed(1)
      } s |`,
    );
  }
  const versions = [
    `deno ${
      spawnSync(join(bin, "deno"), ["--version"], { encoding: "utf8" }).stdout.split("\n")[0]
    }`,
    `bun ${spawnSync(join(bin, "bun"), ["--version"], { encoding: "utf8" }).stdout.trim()}`,
    `node ${spawnSync("node", ["--version"], { encoding: "utf8" }).stdout.trim()}`,
  ].join(", ");
  console.log(
    `${versions}; layer input ${(bytes / 2 ** 30).toFixed(2)} GiB; runs: ${runs} (median)\n`,
  );
  console.log(
    "| runtime | peak RSS `--version` | peak RSS build (each run) | ratio | wall | CPU (user+sys) |",
  );
  console.log("|---|---|---|---|---|---|");
  for (const r of rows) console.log(r);
} finally {
  await rm(work, { recursive: true, force: true });
}
