/**
 * Gzip throughput benchmark: the old pako streaming compressor, ours (`createGzipStream`, parallel
 * blocks on worker threads, and the same on the main thread only), and `gzip -6 | sha256sum`, on
 * the same ~100 MB tar, each as a ratio to `gzip -6` measured in the same run. Every contender
 * also hashes its output (SHA-256), like the layer pipeline does.
 *
 * Rounds are interleaved (every contender once per round, order rotated) and medians reported,
 * because other processes share the machine. Besides wall-clock MB/s, it reports CPU seconds
 * (user + system, all threads), which load on the machine disturbs much less: on a machine with N
 * idle cores, ours can approach N × (gzip's CPU time / ours).
 *
 * Inputs: a site-packages-like tree (the same generator as bench/run.ts: many small .py files plus
 * binary-ish `.so` files), and when present the host's Python standard library (`/usr/lib/python3*`)
 * as real-world data.
 *
 * Usage: `deno run -A bench/gzip_bench.ts [--mb 100] [--runs 3] [--levels]`
 * (also `bun bench/gzip_bench.ts`). `--levels` adds our compressor at levels 1–6 (sizes and speed
 * for the level choice documented in src/runtime/gzip.ts).
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { existsSync, readdirSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import pako from "pako";
import { _createGzipStreamAtLevel, createGzipStream, GZIP_LEVEL } from "../src/runtime/gzip.ts";
import { deflateThreads, setDeflateThreads } from "../src/runtime/_deflate_pool.ts";
import { makeTree } from "./_tree.ts";
import { median } from "./_stats.ts";

const { values: args } = parseArgs({
  args: process.argv.slice(2),
  options: {
    mb: { type: "string", default: "100" },
    runs: { type: "string", default: "3" },
    levels: { type: "boolean", default: false },
  },
});
const megabytes = Number(args.mb);
const runs = Number(args.runs);

interface Sample {
  ms: number;
  cpuMs: number;
  size: number;
}

interface Contender {
  name: string;
  run: (file: string, data: Uint8Array) => Promise<Sample>;
}

/** `gzip -L -c file | sha256sum`; CPU from bash's `times` (children's user + system). */
function gnu(level: number): Contender {
  return {
    name: `\`gzip -${level} | sha256sum\``,
    run: (file) => {
      const script = `gzip -${level} -c '${file}' | tee >(wc -c >&2) | sha256sum >/dev/null; times`;
      const t0 = performance.now();
      const r = spawnSync("bash", ["-c", script], { encoding: "utf8" });
      const ms = performance.now() - t0;
      if (r.status !== 0) throw new Error(`gzip failed: ${r.stderr}`);
      // `times` prints the shell's own times, then its children's: "0m1.234s 0m0.012s".
      const lines = r.stdout.trim().split("\n");
      const child = lines[lines.length - 1]!.match(/(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/);
      const cpuMs = child
        ? (Number(child[1]) * 60 + Number(child[2]) + Number(child[3]) * 60 + Number(child[4])) *
          1000
        : NaN;
      return Promise.resolve({ ms, cpuMs, size: Number(r.stderr.trim()) });
    },
  };
}

/** Feeds the input in 64 KiB chunks through a transform and hashes what comes out. */
async function throughStream(
  data: Uint8Array,
  make: () => TransformStream<Uint8Array, Uint8Array>,
): Promise<Sample> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const hash = createHash("sha256");
  let size = 0;
  let offset = 0;
  const source = new ReadableStream<Uint8Array>({
    pull(c) {
      if (offset >= data.length) return c.close();
      c.enqueue(data.subarray(offset, offset + 65_536));
      offset += 65_536;
    },
  });
  await source.pipeThrough(make()).pipeTo(
    new WritableStream({
      write(chunk) {
        hash.update(chunk);
        size += chunk.length;
      },
    }),
  );
  hash.digest("hex");
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000, size };
}

/** The compressor gzip.ts used before parallel blocks: one pako stream, level 6. */
function oldPakoStream(): TransformStream<Uint8Array, Uint8Array> {
  let deflate: pako.Deflate;
  return new TransformStream({
    start(controller) {
      deflate = new pako.Deflate({ level: 6, gzip: true, header: { time: 0, os: 3 } });
      deflate.onData = (chunk: Uint8Array) => controller.enqueue(chunk);
    },
    transform(chunk) {
      deflate.push(chunk, false);
    },
    flush() {
      deflate.push(new Uint8Array(0), true);
    },
  });
}

function ours(name: string, threads: number | undefined, level = GZIP_LEVEL): Contender {
  return {
    name,
    run: async (_file, data) => {
      setDeflateThreads(threads);
      // Start (and JIT-warm) the workers outside the timing, as after a build's first layer.
      await throughStream(data.subarray(0, 8 << 20), createGzipStream);
      return throughStream(data, () => _createGzipStreamAtLevel(level));
    },
  };
}

function tarOf(args: string[], out: string, limit: number): void {
  const r = spawnSync("bash", [
    "-c",
    `tar ${args.join(" ")} -cf - 2>/dev/null | head -c ${limit} > '${out}'`,
  ]);
  if (r.status !== 0) throw new Error(`tar failed: ${r.stderr}`);
}

const work = await mkdtemp(join(tmpdir(), "pycontainer-gzip-bench-"));
try {
  const inputs: { label: string; file: string }[] = [];
  const tree = join(work, "tree");
  await makeTree(tree, megabytes);
  tarOf(["-C", tree, "--sort=name", "."], join(work, "tree.tar"), megabytes * 1_000_000);
  inputs.push({ label: "site-packages-like tree", file: join(work, "tree.tar") });
  const pythons = existsSync("/usr/lib")
    ? readdirSync("/usr/lib").filter((d) => /^python3(\.\d+)?$/.test(d))
    : [];
  if (pythons.length > 0) {
    tarOf(
      ["-C", "/usr/lib", "--sort=name", ...pythons],
      join(work, "py.tar"),
      megabytes * 1_000_000,
    );
    inputs.push({
      label: `/usr/lib/${pythons.join(",")} (real Python files)`,
      file: join(work, "py.tar"),
    });
  }

  const contenders: Contender[] = [
    gnu(6),
    { name: "pako stream, level 6 (old gzip.ts)", run: (_f, d) => throughStream(d, oldPakoStream) },
    ours(`ours, level ${GZIP_LEVEL}, ${deflateThreads()} worker threads`, undefined),
    ours(`ours, level ${GZIP_LEVEL}, main thread only`, 0),
  ];
  if (args.levels) {
    contenders.push(gnu(1), gnu(4));
    for (const level of [1, 3, 5, 6]) {
      if (level !== GZIP_LEVEL) {
        contenders.push(ours(`ours, level ${level}, workers`, undefined, level));
      }
    }
  }

  const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
  console.log(
    `runtime: ${runtime}, cores: ${deflateThreads()} workers, rounds: ${runs} (medians)\n`,
  );
  for (const input of inputs) {
    const data = new Uint8Array(await readFile(input.file));
    const samples = contenders.map(() => [] as Sample[]);
    for (let round = 0; round < runs; round++) {
      for (let k = 0; k < contenders.length; k++) {
        const i = (k + round) % contenders.length;
        samples[i]!.push(await contenders[i]!.run(input.file, data));
      }
    }
    setDeflateThreads(undefined);
    const mbOf = data.length / 1e6;
    const stats = samples.map((s) => ({
      ms: median(s.map((x) => x.ms)),
      cpuMs: median(s.map((x) => x.cpuMs)),
      size: s[0]!.size,
    }));
    const base = stats[0]!;
    console.log(`### ${input.label}, ${mbOf.toFixed(0)} MB tar\n`);
    console.log(
      "| compressor | MB/s (wall) | × gzip -6 | CPU s | CPU × gzip -6 | size | size × gzip -6 |",
    );
    console.log("|---|---|---|---|---|---|---|");
    contenders.forEach((c, i) => {
      const s = stats[i]!;
      console.log(
        `| ${c.name} | ${(mbOf / (s.ms / 1000)).toFixed(1)} | ${(base.ms / s.ms).toFixed(2)} | ${
          (s.cpuMs / 1000).toFixed(2)
        } | ${(s.cpuMs / base.cpuMs).toFixed(2)} | ${s.size} | ${
          (s.size / base.size).toFixed(3)
        } |`,
      );
    });
    console.log("");
  }
} finally {
  setDeflateThreads(0);
  await rm(work, { recursive: true, force: true });
}
