/**
 * Single-executable test: `bun build --compile cli.ts` (the `compile` task, offline) produces a
 * standalone binary that runs without Deno, Bun or Node on PATH and prints the version.
 *
 * @module
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BIN, describeResult, exec, ROOT } from "./_exec.ts";

const work = await mkdtemp(join(tmpdir(), "pycontainer-compile-"));
after(() => rm(work, { recursive: true, force: true }));
const deno = JSON.parse(await readFile(join(ROOT, "deno.json"), "utf8")) as {
  version: string;
  tasks: Record<string, string>;
};

test("deno.json compile task builds cli.ts with bun build --compile", () => {
  assert.match(
    deno.tasks.compile ?? "",
    /(^|\/)bun build --compile cli\.ts --outfile dist\/pycontainer$/,
  );
});

test(
  "bun build --compile makes a standalone pycontainer binary",
  { timeout: 300_000 },
  async () => {
    const outfile = join(work, "pycontainer");
    const build = await exec(
      join(BIN, "bun"),
      ["build", "--compile", "cli.ts", "--outfile", outfile],
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
  },
);
