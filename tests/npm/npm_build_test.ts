/**
 * Unit tests for the pure parts of npm-build.ts: deno.json imports → dependencies, exports →
 * conditional exports, `.d.ts` specifier rewriting, the generated package.json and the
 * `bun build` runs that bundle the bin (tests/npm/bundle_test.ts runs them).
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  BIN_BANNER,
  bundleArgs,
  type DenoJson,
  NPM_NAME,
  npmDependencies,
  npmExports,
  packageJson,
  rewriteDtsSpecifiers,
} from "../../npm-build.ts";
import { ROOT } from "./_exec.ts";

test("npmDependencies() maps npm: specifiers, scoped ones included", () => {
  assert.deepEqual(
    npmDependencies({
      pako: "npm:pako@2.1.0",
      "smol-toml": "npm:smol-toml@^1.9.1",
      zip: "npm:@zip.js/zip.js@2.7.0",
      "zip/sub": "npm:@zip.js/zip.js@2.7.0/lib/x.js",
    }),
    { "@zip.js/zip.js": "2.7.0", pako: "2.1.0", "smol-toml": "^1.9.1" },
  );
});

test("npmDependencies() refuses imports the npm package can't depend on", () => {
  assert.throws(
    () => npmDependencies({ "@std/tar": "jsr:@std/tar@0.1" }),
    /imports\["@std\/tar"\] = "jsr:@std\/tar@0.1" is not an npm:name@version specifier/,
  );
  assert.throws(() => npmDependencies({ x: "npm:x" }), /not an npm:name@version/);
  assert.throws(
    () => npmDependencies({ a: "npm:x@1", b: "npm:x@2" }),
    /imports name x twice with different versions/,
  );
});

test("npmExports() points each subpath at esm/*.js with types", () => {
  assert.deepEqual(npmExports({ ".": "./mod.ts", "./cli": "./cli.ts", "./x": "./src/x/mod.ts" }), {
    ".": { types: "./esm/mod.d.ts", default: "./esm/mod.js" },
    "./cli": { types: "./esm/cli.d.ts", default: "./esm/cli.js" },
    "./x": { types: "./esm/src/x/mod.d.ts", default: "./esm/src/x/mod.js" },
  });
  assert.throws(() => npmExports({ ".": "mod.js" }), /exports\["\."\] = "mod.js" must be/);
});

test("rewriteDtsSpecifiers() rewrites relative .ts specifiers only", () => {
  const src = [
    'import type { A } from "./a.ts";',
    "export * from '../b/c.ts';",
    'export type T = import("./d.ts").D;',
    'import { x } from "smol-toml";',
    'export { y } from "./e.mts";',
    'declare const s: "not/a/path.ts";',
  ].join("\n");
  assert.equal(
    rewriteDtsSpecifiers(src),
    [
      'import type { A } from "./a.js";',
      "export * from '../b/c.js';",
      'export type T = import("./d.js").D;',
      'import { x } from "smol-toml";',
      'export { y } from "./e.mjs";',
      'declare const s: "not/a/path.ts";',
    ].join("\n"),
  );
});

test("packageJson() is generated from the repository's deno.json", async () => {
  const deno = JSON.parse(await readFile(join(ROOT, "deno.json"), "utf8")) as DenoJson;
  const pkg = packageJson(deno);
  assert.equal(pkg.name, NPM_NAME);
  assert.equal(pkg.version, deno.version);
  assert.equal(pkg.type, "module");
  assert.deepEqual(Object.keys(pkg.exports as object).sort(), Object.keys(deno.exports).sort());
  assert.deepEqual(pkg.bin, { pycontainer: "./bin/pycontainer.js" });
  assert.deepEqual(pkg.engines, { node: ">=20" });
  const deps = pkg.dependencies as Record<string, string>;
  for (const [name, target] of Object.entries(deno.imports ?? {})) {
    assert.ok(target.startsWith("npm:"), `${name} → ${target}`);
    assert.ok(Object.values(deps).some((v) => target.endsWith(`@${v}`)), `${name} → ${target}`);
  }
});

test("bundleArgs() bundles cli.ts and the gzip worker as Node ESM, side by side in bin/", () => {
  const [cli, worker, ...rest] = bundleArgs("/repo", "/repo/npm");
  assert.deepEqual(rest, []);
  assert.deepEqual(cli, [
    "build",
    "--target=node",
    "--format=esm",
    `--banner=${BIN_BANNER}`,
    "/repo/cli.ts",
    "--outfile",
    "/repo/npm/bin/pycontainer.js",
  ]);
  assert.deepEqual(worker, [
    "build",
    "--target=node",
    "--format=esm",
    "/repo/src/runtime/_deflate_worker.ts",
    "--outfile",
    "/repo/npm/bin/_deflate_worker.js",
  ]);
  assert.equal(BIN_BANNER, "#!/usr/bin/env node");
});

test("bundleArgs() names files that exist: the bin's entry and the worker the pool starts", async () => {
  for (const args of bundleArgs(ROOT, join(ROOT, "npm"))) {
    const entry = args[args.indexOf("--outfile") - 1]!;
    await readFile(entry); // throws if the entry point moved
  }
  // The pool starts "./_deflate_worker.js" next to the running module (the bundled bin).
  const pool = await readFile(join(ROOT, "src", "runtime", "_deflate_pool.ts"), "utf8");
  assert.match(pool, /"\.\/_deflate_worker\.js"/);
});
