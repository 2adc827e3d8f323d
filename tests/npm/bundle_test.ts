/**
 * The npm package's bundled bin (`bin/pycontainer.js`, made by `bun build --target=node
 * --format=esm` in npm-build.ts): it is one self-contained ESM file (only `node:` imports), its
 * gzip worker is bundled beside it, and under Node it builds the same image as `deno run
 * cli.ts` while really compressing on worker threads. The last point is checked from outside
 * the bundle: a `--import` preload wraps `node:worker_threads`' `Worker` (through
 * `syncBuiltinESMExports`) and records which module each worker ran and how many compressed
 * blocks came back from workers.
 *
 * @module
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { BIN_BANNER, buildNpm } from "../../npm-build.ts";
import { BIN, describeResult, exec, ROOT } from "./_exec.ts";

const opts = { timeout: 300_000 };
const work = await mkdtemp(join(tmpdir(), "pycontainer-bundle-"));
after(() => rm(work, { recursive: true, force: true }));

let building: Promise<string> | undefined;
/** The package directory, built once (without tests: only the bin matters here). */
function pkgDir(): Promise<string> {
  building ??= (async () => {
    const dir = join(work, "npm");
    await buildNpm({ root: ROOT, outDir: dir, tests: false });
    return dir;
  })();
  return building;
}

/** Specifiers of static `import … from "x"` / `import "x"` / `export … from "x"` and `import("x")`. */
function importedSpecifiers(js: string): string[] {
  const statics = [
    ...js.matchAll(/^\s*(?:import|export)\b[^;"'`]*?\bfrom\s*["']([^"']+)["']/gm),
    ...js.matchAll(/^\s*import\s*["']([^"']+)["']/gm),
  ];
  const dynamic = [...js.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)];
  return [...statics, ...dynamic].map((m) => m[1]!);
}

/** Preload for `node --import`: records the workers started and the blocks they compressed. */
const PROBE = `import workerThreads from "node:worker_threads";
import { syncBuiltinESMExports } from "node:module";
import { writeFileSync } from "node:fs";
const seen = { workers: [], blocks: 0 };
const Original = workerThreads.Worker;
workerThreads.Worker = class extends Original {
  constructor(url, options) {
    super(url, options);
    seen.workers.push(String(url));
    this.on("message", (m) => {
      if (m && typeof m === "object" && "deflated" in m) seen.blocks++;
    });
  }
};
syncBuiltinESMExports();
process.on("exit", () => writeFileSync(process.env.PROBE_OUT, JSON.stringify(seen)));
`;

/** A project with a 3 MiB compressible file, so the app layer spans several gzip blocks. */
async function bigProject(dir: string): Promise<void> {
  await mkdir(join(dir, "data"), { recursive: true });
  await writeFile(join(dir, "app.py"), 'print("bundled")\n');
  await writeFile(join(dir, "pyproject.toml"), '[project]\nname = "bundled"\nversion = "0.1.0"\n');
  const words = ["import", "def", "return", "self", "value", "layer", "wheel", "\n", "    ", "="];
  const out: string[] = [];
  let x = 2463534242;
  let size = 0;
  while (size < 3 * 1024 * 1024) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    const w = `${words[x % words.length]!}${(x >>> 8) % 1000} `;
    out.push(w);
    size += w.length;
  }
  await writeFile(join(dir, "data", "module.py"), out.join(""));
}

test(
  "npm bin is one ESM file importing only node: builtins, its gzip worker beside it",
  opts,
  async () => {
    const dir = await pkgDir();
    assert.deepEqual((await readdir(join(dir, "bin"))).sort(), [
      "_deflate_worker.js",
      "pycontainer.js",
    ]);
    const bin = await readFile(join(dir, "bin", "pycontainer.js"), "utf8");
    assert.ok(bin.startsWith(`${BIN_BANNER}\n`), bin.slice(0, 80));
    const binImports = importedSpecifiers(bin);
    assert.ok(binImports.includes("node:worker_threads"), binImports.join(" "));
    assert.deepEqual(binImports.filter((s) => !s.startsWith("node:")), []);
    // The pool starts its worker from next to the running module: "./_deflate_worker.js".
    assert.match(bin, /"\.\/_deflate_worker\.js"/);
    const worker = await readFile(join(dir, "bin", "_deflate_worker.js"), "utf8");
    assert.deepEqual(importedSpecifiers(worker).filter((s) => !s.startsWith("node:")), []);
    assert.match(
      worker,
      /pycontainer-deflate-worker/,
      "the worker bundle checks its workerData mark",
    );
  },
);

test(
  "npm bin under node builds the image deno run cli.ts builds, gzip on worker threads",
  {
    ...opts,
    skip: availableParallelism() < 2
      ? "one core: the gzip pool compresses on the main thread by design"
      : false,
  },
  async () => {
    const dir = await pkgDir();
    const project = join(work, "project");
    await bigProject(project);
    const args = (tag: string) => [
      "build",
      "--context",
      project,
      "--base-image",
      "scratch",
      "--cache-dir",
      join(work, `cache-${tag}`),
      "-o",
      join(work, `out-${tag}`),
      "-q",
    ];
    const denoRun = await exec(join(BIN, "deno"), [
      "run",
      "-A",
      join(ROOT, "cli.ts"),
      ...args("deno"),
    ]);
    assert.equal(denoRun.code, 0, describeResult(denoRun));
    const digest = denoRun.stdout.trim();
    assert.match(digest, /^sha256:[0-9a-f]{64}$/);

    const probe = join(work, "probe.mjs");
    await writeFile(probe, PROBE);
    const probeOut = join(work, "probe.json");
    const binPath = join(dir, "bin", "pycontainer.js");
    // Run from a directory without node_modules: the bundle must carry its dependencies.
    const nodeRun = await exec(
      "node",
      ["--import", pathToFileURL(probe).href, binPath, ...args("node")],
      { cwd: work, env: { PROBE_OUT: probeOut } },
    );
    assert.equal(nodeRun.code, 0, describeResult(nodeRun));
    assert.equal(nodeRun.stdout.trim(), digest, "same image digest as deno run cli.ts");

    const seen = JSON.parse(await readFile(probeOut, "utf8")) as {
      workers: string[];
      blocks: number;
    };
    const workerUrl = pathToFileURL(join(dir, "bin", "_deflate_worker.js")).href;
    assert.ok(seen.workers.length >= 1, `gzip workers started: ${JSON.stringify(seen)}`);
    assert.deepEqual([...new Set(seen.workers)], [workerUrl]);
    assert.ok(
      seen.blocks >= 3,
      `3 MiB compressed on workers in ≥3 blocks: ${JSON.stringify(seen)}`,
    );
  },
);

test("npm bin under bun builds the same image as under node", opts, async () => {
  const dir = await pkgDir();
  const project = join(work, "project-bun");
  await bigProject(project);
  const digests: string[] = [];
  for (const [cmd, pre] of [["node", []], [join(BIN, "bun"), []]] as const) {
    const out = join(work, `out-bun-${digests.length}`);
    const r = await exec(cmd, [
      ...pre,
      join(dir, "bin", "pycontainer.js"),
      "build",
      "--context",
      project,
      "--base-image",
      "scratch",
      "--cache-dir",
      join(work, `cache-bun-${digests.length}`),
      "-o",
      out,
      "-q",
    ], { cwd: work });
    assert.equal(r.code, 0, describeResult(r));
    assert.ok(existsSync(join(out, "index.json")));
    digests.push(r.stdout.trim());
  }
  assert.match(digests[0]!, /^sha256:[0-9a-f]{64}$/);
  assert.equal(digests[1], digests[0]);
});
