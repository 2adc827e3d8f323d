/**
 * Push benchmark (`deno run -A bench/push_bench.ts`): a ~100 MB image (the test Python base,
 * ~42 MB, plus a ~60 MB layer of incompressible data) in an OCI layout, pushed to Debian's
 * docker-registry on loopback by `pycontainer push` (the CLI as a child process, so start-up is
 * included) and by `skopeo copy oci:… docker://…` of the same layout, in the same run:
 *
 * - cold: a fresh registry each run, every blob uploaded;
 * - no-op: the same push again, every blob already there.
 *
 * Reports medians and the ratio pycontainer / skopeo as a markdown table on stdout;
 * docs/benchmarks.md records a run. `BENCH_RUNS` sets the runs (default 3).
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { makeImage } from "../tests/integration/_push_images.ts";
import { baseLayoutPath, startRegistry } from "../tests/integration/_registry.ts";
import { median } from "./_stats.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const runs = Number(process.env.BENCH_RUNS ?? 3);
const isDeno = "Deno" in globalThis;

function timed(cmd: string, args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, CI: "true" } });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr}`);
  return ms;
}

function pycontainer(layout: string, ref: string): number {
  const cli = join(root, "cli.ts");
  const args = isDeno
    ? ["run", "-A", cli, "push", "-q", layout, ref]
    : [cli, "push", "-q", layout, ref];
  return timed(process.execPath, args);
}

function skopeo(layout: string, ref: string): number {
  return timed("skopeo", [
    "--insecure-policy",
    "copy",
    "--quiet",
    "--dest-tls-verify=false",
    `oci:${layout}:bench`,
    `docker://${ref}`,
  ]);
}

const work = await mkdtemp(join(tmpdir(), "pycontainer-push-bench-"));
try {
  const layout = join(work, "layout");
  const { manifest } = await makeImage(layout, "bench", {
    base: { dir: baseLayoutPath(), tag: "bookworm" },
    files: { "data/blob.bin": randomBytes(60 * 1024 * 1024) },
  });
  const results: Record<string, number[]> = {
    "pycontainer cold": [],
    "skopeo cold": [],
    "pycontainer no-op": [],
    "skopeo no-op": [],
  };
  for (let i = 0; i < runs; i++) {
    for (const tool of ["pycontainer", "skopeo"] as const) {
      const registry = await startRegistry();
      try {
        const ref = `${registry.host}/bench/app:1`;
        const push = tool === "pycontainer" ? pycontainer : skopeo;
        results[`${tool} cold`]!.push(push(layout, ref));
        results[`${tool} no-op`]!.push(push(layout, ref));
      } finally {
        await registry.stop();
      }
    }
  }
  const m = (k: string) => median(results[k]!);
  const size = spawnSync("du", ["-sb", join(layout, "blobs")], { encoding: "utf8" }).stdout
    .split("\t")[0];
  console.log(
    `runtime: ${isDeno ? "deno" : "bun"}, image ${manifest.digest.slice(0, 19)} (${
      (Number(size) / 1e6).toFixed(0)
    } MB of blobs), runs: ${runs} (median)\n`,
  );
  console.log("| push | pycontainer | skopeo copy | ratio |");
  console.log("|---|---:|---:|---:|");
  for (const kind of ["cold", "no-op"]) {
    const ours = m(`pycontainer ${kind}`);
    const theirs = m(`skopeo ${kind}`);
    console.log(
      `| ${kind} | ${ours.toFixed(0)} ms | ${theirs.toFixed(0)} ms | ${
        (ours / theirs).toFixed(2)
      } |`,
    );
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
