/**
 * Packaging test: builds the npm package with npm-build.ts, packs it with `npm pack`, installs
 * the tarball into a fresh consumer project, and runs the installed `pycontainer` bin under
 * Node and under Bun: `--version`, `--help`, and a real build of a hello project whose image is
 * then run with runc (or, without root/runc/the cached base image, a `scratch` build whose
 * layout is checked). Also type-checks a consumer against the shipped `.d.ts` files.
 *
 * @module
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { buildNpm } from "../../npm-build.ts";
import { runImage, runtimeSkipReason } from "../integration/_runtime.ts";
import { BIN, describeResult, exec, ROOT } from "./_exec.ts";

const deno = JSON.parse(await readFile(join(ROOT, "deno.json"), "utf8")) as {
  version: string;
  exports: Record<string, string>;
};
const opts = { timeout: 300_000 };
const work = await mkdtemp(join(tmpdir(), "pycontainer-pack-"));
after(() => rm(work, { recursive: true, force: true }));

const cache = process.env.PYCONTAINER_TEST_CACHE ?? join(homedir(), ".cache", "pycontainer-test");
const baseLayout = join(cache, "base-layout");
const runSkip = (await runtimeSkipReason()) ??
  (existsSync(join(baseLayout, ".complete")) ? undefined : `no base image at ${baseLayout}`);

interface Installed {
  /** The npm/ directory that was packed. */
  pkgDir: string;
  /** Paths inside the tarball (without the leading "package/"). */
  files: string[];
  /** The consumer project the tarball was installed into. */
  consumer: string;
  /** The installed bin script. */
  bin: string;
}

let installing: Promise<Installed> | undefined;
function installed(): Promise<Installed> {
  installing ??= (async () => {
    const pkgDir = join(work, "npm");
    await buildNpm({ root: ROOT, outDir: pkgDir, tests: false });
    const pack = await exec("npm", ["pack", "--json", "--pack-destination", work], {
      cwd: pkgDir,
    });
    assert.equal(pack.code, 0, describeResult(pack));
    const [info] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
    assert.ok(info !== undefined, pack.stdout);
    const consumer = join(work, "consumer");
    await mkdir(consumer);
    await writeFile(
      join(consumer, "package.json"),
      JSON.stringify({ name: "consumer", private: true, type: "module" }),
    );
    const install = await exec(
      "npm",
      ["install", "--prefer-offline", "--no-audit", "--no-fund", join(work, info.filename)],
      { cwd: consumer, timeoutMs: 240_000 },
    );
    assert.equal(install.code, 0, describeResult(install));
    const bin = join(consumer, "node_modules", ".bin", "pycontainer");
    return { pkgDir, files: info.files.map((f) => f.path).sort(), consumer, bin };
  })();
  return installing;
}

/** The two ways a user runs the installed package: `npx pycontainer` on Node, bun on Bun. */
const runtimes: { name: string; run: (bin: string, args: string[]) => ReturnType<typeof exec> }[] =
  [
    { name: "node", run: (bin, args) => exec(bin, args, { timeoutMs: 240_000 }) },
    {
      name: "bun",
      run: (bin, args) => exec(join(BIN, "bun"), [bin, ...args], { timeoutMs: 240_000 }),
    },
  ];

test("npm pack ships ESM, .d.ts, the bin and package.json, and no tests", opts, async () => {
  const { files } = await installed();
  for (const subpath of Object.keys(deno.exports)) {
    const base = (deno.exports[subpath] ?? "").replace(/^\.\//, "esm/").replace(/\.ts$/, "");
    assert.ok(files.includes(`${base}.js`), `${base}.js in ${files.join(" ")}`);
    assert.ok(files.includes(`${base}.d.ts`), `${base}.d.ts`);
  }
  assert.ok(files.includes("package.json"));
  assert.ok(files.includes("bin/pycontainer.js"));
  assert.ok(files.includes("bin/_deflate_worker.js"), "the bundled bin's gzip worker");
  if (existsSync(join(ROOT, "README.md"))) assert.ok(files.includes("README.md"));
  assert.deepEqual(files.filter((f) => f.startsWith("esm/tests/")), []);
  assert.deepEqual(files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")), []);
});

test("npm package .d.ts files import .js, never .ts", opts, async () => {
  const { pkgDir, files } = await installed();
  for (const f of files.filter((f) => f.endsWith(".d.ts"))) {
    const text = await readFile(join(pkgDir, f), "utf8");
    assert.doesNotMatch(text, /from ["']\.{1,2}\/[^"']*\.ts["']/, f);
    assert.doesNotMatch(text, /import\(["']\.{1,2}\/[^"']*\.ts["']\)/, f);
  }
});

test("npm package types resolve for a TypeScript consumer (nodenext)", opts, async () => {
  const { consumer } = await installed();
  await writeFile(
    join(consumer, "check.ts"),
    'import * as api from "pycontainer";\nexport const names: string[] = Object.keys(api);\n',
  );
  await writeFile(
    join(consumer, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        module: "NodeNext",
        moduleResolution: "NodeNext",
        target: "ES2022",
        types: ["node"],
        typeRoots: [join(ROOT, "node_modules", "@types")],
        // Check our .d.ts files, not TypeScript's own lib files (that's most of the time).
        skipDefaultLibCheck: true,
      },
      files: ["check.ts"],
    }),
  );
  const r = await exec(
    "node",
    [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "."],
    {
      cwd: consumer,
    },
  );
  assert.equal(r.code, 0, describeResult(r));
});

for (const rt of runtimes) {
  test(`pycontainer --version prints the deno.json version (${rt.name})`, opts, async () => {
    const { bin } = await installed();
    const r = await rt.run(bin, ["--version"]);
    assert.equal(r.code, 0, describeResult(r));
    assert.match(r.stdout, new RegExp(`(^|\\s)${deno.version.replaceAll(".", "\\.")}(\\s|$)`));
  });

  test(`pycontainer --help exits 0 and lists build (${rt.name})`, opts, async () => {
    const { bin } = await installed();
    const r = await rt.run(bin, ["--help"]);
    assert.equal(r.code, 0, describeResult(r));
    assert.match(r.stdout, /\bbuild\b/);
  });

  test(`pycontainer with an unknown subcommand exits 2 (${rt.name})`, opts, async () => {
    const { bin } = await installed();
    const r = await rt.run(bin, ["frobnicate"]);
    assert.equal(r.code, 2, describeResult(r));
    assert.match(r.stderr, /frobnicate/);
  });

  test(
    `pycontainer build from the npm package makes a runnable image (${rt.name})`,
    opts,
    async () => {
      const { bin } = await installed();
      const app = join(work, `hello-${rt.name}`);
      await mkdir(app);
      await writeFile(join(app, "app.py"), 'print("Hello from container!")\n');
      await writeFile(
        join(app, "pyproject.toml"),
        '[project]\nname = "hello"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n',
      );
      const out = join(work, `image-${rt.name}`);
      const base = runSkip === undefined ? `oci-layout:${baseLayout}:bookworm` : "scratch";
      const r = await rt.run(bin, [
        "build",
        "--context",
        app,
        "--base-image",
        base,
        "--tag",
        "hello:latest",
        "--output",
        out,
      ]);
      assert.equal(r.code, 0, describeResult(r));

      assert.deepEqual((await readdir(out)).filter((n) => !n.startsWith(".")).sort(), [
        "blobs",
        "index.json",
        "oci-layout",
      ]);
      const index = JSON.parse(await readFile(join(out, "index.json"), "utf8")) as {
        manifests: { digest: string; annotations?: Record<string, string> }[];
      };
      const refs = index.manifests.map((m) => m.annotations?.["org.opencontainers.image.ref.name"]);
      const ref = refs.find((n) => n !== undefined && n.endsWith("latest"));
      assert.ok(ref !== undefined, `tag "latest" in index.json: ${JSON.stringify(index)}`);
      for (const m of index.manifests) {
        assert.ok(existsSync(join(out, "blobs", ...m.digest.split(":"))), m.digest);
      }
      if (runSkip !== undefined) {
        console.log(`not running the image: ${runSkip}`);
        return;
      }
      const run = await runImage(out, ref);
      assert.equal(run.exitCode, 0, run.stderr);
      assert.equal(run.stdout, "Hello from container!\n");
    },
  );
}
