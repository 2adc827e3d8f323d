/**
 * Single-executable test: `bun build --compile cli.ts src/runtime/_deflate_worker.ts` (the
 * `compile` task, offline) produces a standalone binary that runs without Deno, Bun or Node on
 * PATH, prints the version, and builds an image with the same digest as `deno run cli.ts`, its
 * gzip blocks compressed on the embedded worker threads.
 *
 * @module
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BIN, describeResult, exec, ROOT } from "./_exec.ts";

const work = await mkdtemp(join(tmpdir(), "pycontainer-compile-"));
after(() => rm(work, { recursive: true, force: true }));
const deno = JSON.parse(await readFile(join(ROOT, "deno.json"), "utf8")) as {
  version: string;
  tasks: Record<string, string>;
};

test("deno.json compile task builds cli.ts and the gzip worker with bun build --compile", () => {
  assert.match(
    deno.tasks.compile ?? "",
    /(^|\/)bun build --compile cli\.ts src\/runtime\/_deflate_worker\.ts --outfile dist\/pycontainer$/,
  );
});

test(
  "bun build --compile makes a standalone pycontainer binary",
  { timeout: 300_000 },
  async () => {
    const outfile = join(work, "pycontainer");
    const build = await exec(
      join(BIN, "bun"),
      ["build", "--compile", "cli.ts", "src/runtime/_deflate_worker.ts", "--outfile", outfile],
      { timeoutMs: 280_000 },
    );
    assert.equal(build.code, 0, describeResult(build));
    console.log(`bun build --compile took ${(build.ms / 1000).toFixed(1)} s`);
    assert.ok((await stat(outfile)).mode & 0o100, "binary is executable");

    // No runtime on PATH: the binary must carry its own.
    const r = await exec(outfile, ["--version"], { cwd: work, env: { PATH: "/nonexistent" } });
    assert.equal(r.code, 0, describeResult(r));
    assert.match(r.stdout, new RegExp(`(^|\\s)${deno.version.replaceAll(".", "\\.")}(\\s|$)`));

    const help = await exec(outfile, ["--help"], { cwd: work, env: { PATH: "/nonexistent" } });
    assert.equal(help.code, 0, describeResult(help));
    assert.match(help.stdout, /\bbuild\b/);

    // A layer of several 1 MiB blocks: compressed on the embedded worker threads, same digest.
    const project = join(work, "project");
    await mkdir(project);
    await writeFile(join(project, "pyproject.toml"), '[project]\nname = "big"\nversion = "1"\n');
    const text = await readFile(join(ROOT, "src", "build", "build.ts"));
    const data = new Uint8Array(3 * 1024 * 1024 + 17);
    for (let i = 0; i < data.length; i++) data[i] = text[(i * 7) % text.length]! ^ (i % 251);
    await writeFile(join(project, "data.bin"), data);
    await writeFile(join(project, "app.py"), 'print("big")\n');
    const args = (tag: string) => [
      "build",
      "--verbose",
      "--context",
      project,
      "--base-image",
      "scratch",
      "--cache-dir",
      join(work, `cache-${tag}`),
      "-o",
      join(work, `out-${tag}`),
    ];
    const built = await exec(outfile, args("exe"), { cwd: work, env: { PATH: "/nonexistent" } });
    assert.equal(built.code, 0, describeResult(built));
    const blocks = /gzip: (\d+) blocks on worker threads, 0 on the main thread\n/.exec(
      built.stderr,
    );
    assert.ok(blocks && Number(blocks[1]) >= 3, built.stderr);
    const ref = await exec(
      join(BIN, "deno"),
      ["run", "-A", join(ROOT, "cli.ts"), ...args("deno")],
      {
        cwd: work,
      },
    );
    assert.equal(ref.code, 0, describeResult(ref));
    assert.equal(built.stdout.trim(), ref.stdout.trim());
  },
);
