/**
 * Start-up cost of the CLI: which modules load before any work. cli.ts imports each subcommand
 * only when it runs, and a build imports what only a cache miss or a push needs (index client,
 * resolver, wheel installer, lock writer, registry upload…) where that is used. These tests pin
 * the static import graphs (so an innocent `import` can't quietly bring the whole build back
 * into `--version`) and check that `--help` still lists every subcommand with its own summary.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildCommand } from "../../src/cli/build_command.ts";
import { cacheCommand } from "../../src/cli/cache_command.ts";
import { pushCommand } from "../../src/cli/push_command.ts";
import { loginCommand, logoutCommand } from "../../src/cli/login_command.ts";
import { staticGraph, staticSpecifiers } from "./_static_imports.ts";
import { runCli } from "./_run_cli.ts";

/**
 * The repository root: the first directory above this file with a deno.json (tests/cli/ from
 * the sources; npm/esm/tests/cli/ when Node runs the compiled tests, which check the sources).
 */
function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "deno.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no deno.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  return dir;
}

const ROOT = repositoryRoot();

/** Modules needed only when the dependency layers are not in the cache, or when pushing. */
const MISS_OR_PUSH_ONLY = [
  "src/build/dependency_index.ts",
  "src/build/sdist_build.ts",
  "src/build/write_lock.ts",
  "src/python/index_client.ts",
  "src/python/resolver.ts",
  "src/python/wheel_cache.ts",
  "src/python/wheel_install.ts",
  "src/python/install_merge.ts",
  "src/python/zip_reader.ts",
  "src/python/_target_detect.ts",
  "src/python/_base_scan.ts",
  "src/python/locks/uv_lock.ts",
  "src/python/locks/pylock.ts",
  "src/python/locks/poetry_lock.ts",
  "src/python/locks/requirements_txt.ts",
  "src/registry/push.ts",
  "src/registry/upload.ts",
  "src/registry/progress.ts",
  "src/registry/credential_chain.ts",
];

test("staticSpecifiers() follows static imports and re-exports, not type-only or dynamic ones", () => {
  const source = [
    'import { a, type B } from "./a.ts";',
    "import {",
    "  c,",
    "  d,",
    '} from "../c.ts";',
    'import * as e from "./e.ts";',
    'import f, { g } from "./f.ts";',
    'import "./side_effect.ts";',
    'export { h } from "./h.ts";',
    'export * from "./star.ts";',
    'import type { T } from "./type_only.ts";',
    'export type { U } from "./type_reexport.ts";',
    'const lazy = await import("./lazy.ts");',
    '// a comment saying import x from "./comment.ts" is not at the start of a line',
    'import { readFile } from "node:fs/promises";',
  ].join("\n");
  assert.deepEqual(staticSpecifiers(source), [
    "./a.ts",
    "../c.ts",
    "./e.ts",
    "./f.ts",
    "./side_effect.ts",
    "./h.ts",
    "./star.ts",
    "node:fs/promises",
  ]);
});

test("cli.ts loads no subcommand module before one runs (--version, --help)", async () => {
  const graph = await staticGraph(ROOT, "cli.ts");
  assert.deepEqual([...graph].sort(), ["cli.ts", "src/errors.ts", "src/version.ts"]);
});

test("build loads what only a dependency-cache miss or a push needs when that happens", async () => {
  const graph = await staticGraph(ROOT, "src/cli/build_command.ts");
  assert.ok(graph.has("src/build/build.ts"), "the walk reaches the build");
  assert.ok(graph.has("src/build/dependencies.ts"), "and the dependency steps");
  assert.deepEqual(MISS_OR_PUSH_ONLY.filter((f) => graph.has(f)), []);
});

test("main() --help lists every subcommand with the summary its module gives", async () => {
  const r = await runCli(["--help"]);
  assert.equal(r.code, 0);
  const commands = {
    build: buildCommand,
    cache: cacheCommand,
    push: pushCommand,
    login: loginCommand,
    logout: logoutCommand,
  };
  const listed = r.stdout.split("\n").filter((l) => /^ {2}[a-z]+ {2,}\S/.test(l));
  assert.deepEqual(
    listed.map((l) => l.trim().split(/\s{2,}/)),
    Object.entries(commands).map(([name, c]) => [name, c.summary]),
  );
});

test("main() <command> --help prints that command's usage, summary and flags", async () => {
  for (const [name, command] of [["push", pushCommand], ["logout", logoutCommand]] as const) {
    const r = await runCli([name, "--help"]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.startsWith(`${command.usage}\n\n${command.summary}\n\nFlags:\n`), r.stdout);
  }
});

test("main() refuses an unknown command, also one named like an Object method", async () => {
  const typo = await runCli(["pussh", "x"]);
  assert.equal(typo.code, 2);
  assert.match(
    typo.stderr,
    /^error: unknown command "pussh"\nhint: did you mean "pycontainer push"\?/,
  );
  for (const name of ["toString", "constructor", "__proto__"]) {
    const r = await runCli([name]);
    assert.equal(r.code, 2, `${name}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`unknown command "${name}"`));
  }
});
