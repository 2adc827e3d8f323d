/**
 * Builds the npm package from the Deno sources, without dnt (JSR isn't reachable here): the
 * TypeScript compiler in node_modules emits ESM JavaScript and `.d.ts` files into `npm/esm/`,
 * and `npm/package.json` is generated from deno.json (name, version, exports, the `npm:` import
 * map as dependencies) with a `pycontainer` bin.
 *
 * The bin is different from the library: `bin/pycontainer.js` is cli.ts and everything it
 * imports (the npm dependencies included) bundled into one ESM file by `bun build --target=node
 * --format=esm`, because Node's ESM loader pays for every file (resolving, reading, linking ~100
 * modules cost more than compiling one file). The gzip worker is bundled the same way into
 * `bin/_deflate_worker.js`, next to the bin, where `src/runtime/_deflate_pool.ts` looks for it
 * (`./_deflate_worker.js` relative to the running module). The library (`esm/`, `.d.ts`) stays
 * one file per module, as tsc emits it.
 *
 * The unit tests are compiled too (`npm/esm/tests/`, left out of the packed tarball) so that
 * `node --test` runs them on Node 20 against the compiled code. After emitting, the build checks
 * that every deno.json export is an npm export with the same exported names.
 *
 * The package and the tests are two tsc programs (the tests emit JS only). `isolatedDeclarations`
 * (every export explicitly typed, JSR's "no slow types") is opt-in with `--isolated-declarations`
 * until all of src/ satisfies it; the package's declarations are complete either way.
 *
 * Usage: `deno run -A npm-build.ts [--out DIR] [--no-tests] [--isolated-declarations]`
 * (default DIR: `npm/`).
 *
 * Package name: the JSR-style name `@x/pycontainer` from deno.json would need the npm scope `x`,
 * which isn't ours, so the npm package is published unscoped as `pycontainer`.
 *
 * @module
 */
import { spawn, spawnSync } from "node:child_process";
import {
  chmod,
  cp,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";

/** The npm package name (unscoped: the npm scope `x` of `@x/pycontainer` isn't ours). */
export const NPM_NAME = "pycontainer";

/** The parts of deno.json that the npm package is generated from. */
export interface DenoJson {
  /** JSR name, e.g. `@x/pycontainer`. */
  name: string;
  /** Semver version of the package. */
  version: string;
  /** Export map: subpath → `./file.ts`. */
  exports: Record<string, string>;
  /** Import map: bare name → `npm:name@range`. */
  imports?: Record<string, string>;
}

/** One conditional export entry of the generated package.json. */
export interface NpmExport {
  /** The `.d.ts` file. */
  types: string;
  /** The ESM `.js` file. */
  default: string;
}

/**
 * Maps deno.json `imports` to package.json `dependencies`: `npm:x@1.2.3` → `"x": "1.2.3"`,
 * `npm:@s/x@^1` → `"@s/x": "^1"`.
 *
 * @param imports The deno.json import map.
 * @returns The dependencies object, sorted by name.
 * @throws Error for an import that isn't an `npm:` specifier with a version.
 *
 * @example
 * ```ts
 * import { npmDependencies } from "./npm-build.ts";
 * const deps = npmDependencies({ pako: "npm:pako@2.1.0" });
 * console.assert(deps.pako === "2.1.0");
 * ```
 */
export function npmDependencies(imports: Record<string, string>): Record<string, string> {
  const deps: Record<string, string> = {};
  for (const [key, target] of Object.entries(imports).sort(([a], [b]) => a.localeCompare(b))) {
    const m = /^npm:\/?((?:@[^/@]+\/)?[^/@]+)@([^/]+)(\/.*)?$/.exec(target);
    if (m === null) {
      throw new Error(
        `deno.json imports["${key}"] = "${target}" is not an npm:name@version specifier; ` +
          "the npm package can only depend on npm packages",
      );
    }
    const [, name = "", range = ""] = m;
    const existing = deps[name];
    if (existing !== undefined && existing !== range) {
      throw new Error(`deno.json imports name ${name} twice with different versions`);
    }
    deps[name] = range;
  }
  return deps;
}

/**
 * Maps deno.json `exports` (`./file.ts`) to package.json `exports` under `./esm/`.
 *
 * @param exports The deno.json export map.
 * @returns Subpath → `{ types, default }` pointing into `./esm/`.
 *
 * @example
 * ```ts
 * import { npmExports } from "./npm-build.ts";
 * const map = npmExports({ ".": "./mod.ts" });
 * console.assert(map["."]?.default === "./esm/mod.js");
 * ```
 */
export function npmExports(exports: Record<string, string>): Record<string, NpmExport> {
  const out: Record<string, NpmExport> = {};
  for (const [subpath, file] of Object.entries(exports)) {
    if (!/^\.\/.+\.ts$/.test(file)) {
      throw new Error(`deno.json exports["${subpath}"] = "${file}" must be a ./path/to/file.ts`);
    }
    const base = `./esm/${file.slice(2, -3)}`;
    out[subpath] = { types: `${base}.d.ts`, default: `${base}.js` };
  }
  return out;
}

/**
 * Generates the npm package.json from deno.json.
 *
 * @param deno The parsed deno.json.
 * @returns The package.json object (name, version, type, exports, bin, dependencies, engines).
 *
 * @example
 * ```ts
 * import { packageJson } from "./npm-build.ts";
 * const pkg = packageJson({ name: "@x/pycontainer", version: "1.0.0", exports: { ".": "./mod.ts" } });
 * console.assert(pkg.version === "1.0.0" && pkg.type === "module");
 * ```
 */
export function packageJson(deno: DenoJson): Record<string, unknown> {
  const exports = npmExports(deno.exports);
  const main = exports["."];
  return {
    name: NPM_NAME,
    version: deno.version,
    description:
      "Build OCI container images for Python projects without Docker: no Dockerfile, no pip on the host.",
    keywords: ["oci", "container", "image", "python", "docker", "build"],
    license: "MIT",
    type: "module",
    ...(main === undefined ? {} : { main: main.default, types: main.types }),
    exports,
    bin: { pycontainer: "./bin/pycontainer.js" },
    dependencies: npmDependencies(deno.imports ?? {}),
    engines: { node: ">=20" },
  };
}

/**
 * Rewrites relative `.ts` specifiers in an emitted `.d.ts` file to `.js` (tsc's
 * `rewriteRelativeImportExtensions` only rewrites the JavaScript).
 *
 * @param text The `.d.ts` source.
 * @returns The source with `"./x.ts"` / `"../x.ts"` string literals ending in `.js` instead.
 *
 * @example
 * ```ts
 * import { rewriteDtsSpecifiers } from "./npm-build.ts";
 * const out = rewriteDtsSpecifiers('export * from "./src/errors.ts";');
 * console.assert(out === 'export * from "./src/errors.js";');
 * ```
 */
export function rewriteDtsSpecifiers(text: string): string {
  return text.replace(/(["'])(\.{1,2}\/[^"'\n]*?)\.(m|c)?ts\1/g, (_all, q, path, mc) => {
    return `${q}${path}.${mc ?? ""}js${q}`;
  });
}

/** The `#!` line of the bin (bun keeps it as the bundle's first line). */
export const BIN_BANNER = "#!/usr/bin/env node";

/**
 * The `bun build` runs that make the bin: cli.ts bundled into `bin/pycontainer.js` (cli.ts
 * runs `main()` itself when it is the program), and the gzip worker into
 * `bin/_deflate_worker.js` beside it, where the bundled pool starts it from.
 *
 * @param root Repository root (has cli.ts and node_modules/.bin/bun).
 * @param outDir The package directory (has `bin/`).
 * @returns One argument list per `bun` run.
 *
 * @example
 * ```ts
 * import { bundleArgs } from "./npm-build.ts";
 * const [cli] = bundleArgs("/repo", "/repo/npm");
 * console.assert(cli?.includes("--format=esm") && cli.includes("/repo/cli.ts"));
 * ```
 */
export function bundleArgs(root: string, outDir: string): string[][] {
  const common = ["build", "--target=node", "--format=esm"];
  return [
    [
      ...common,
      `--banner=${BIN_BANNER}`,
      join(root, "cli.ts"),
      "--outfile",
      join(outDir, "bin", "pycontainer.js"),
    ],
    [
      ...common,
      join(root, "src", "runtime", "_deflate_worker.ts"),
      "--outfile",
      join(outDir, "bin", "_deflate_worker.js"),
    ],
  ];
}

/** Runs the `bun build`s of {@linkcode bundleArgs} and makes the bin executable. */
async function _bundleBin(root: string, outDir: string): Promise<void> {
  const bun = join(root, "node_modules", ".bin", "bun");
  if (!existsSync(bun)) {
    throw new Error(`${bun} is missing: run "npm ci" (bun is a devDependency; it bundles the bin)`);
  }
  for (const args of bundleArgs(root, outDir)) _run(bun, args, root);
  await chmod(join(outDir, "bin", "pycontainer.js"), 0o755);
}

/** `import.meta.main` as Deno and Bun have it; undefined (falsy) on Node 20. */
const IMPORT_META_DTS = `interface ImportMeta {
  readonly main?: boolean;
}
`;

const NPMIGNORE =
  `# Compiled tests (and modules only they use) are for \`node --test\` in the repository.
/esm/tests/
*.tsbuildinfo
`;

async function _listTs(
  dir: string,
  skip: (rel: string) => boolean,
  root: string,
): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    const rel = relative(root, full).split(sep).join("/");
    if (skip(rel)) continue;
    if (entry.isDirectory()) out.push(...await _listTs(full, skip, root));
    else if (entry.isFile() && entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) {
      out.push(full);
    }
  }
  return out;
}

async function _walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...await _walk(full));
    else out.push(full);
  }
  return out;
}

/** Runs tsc on one generated tsconfig; resolves with its diagnostics ("" on success). */
async function _tsc(root: string, work: string, name: string, tsconfig: unknown): Promise<string> {
  const path = join(work, `tsconfig.${name}.json`);
  await writeFile(path, JSON.stringify(tsconfig, null, 2));
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  return await new Promise((resolveRun) => {
    const child = spawn("node", [tsc, "-p", path], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (c: Uint8Array) => out += new TextDecoder().decode(c));
    child.stderr.on("data", (c: Uint8Array) => out += new TextDecoder().decode(c));
    child.on("error", (e) => resolveRun(`tsc (${name}): ${e.message}`));
    child.on("close", (code) => {
      resolveRun(code === 0 ? "" : `tsc (${name} build) failed (exit ${code}):\n${out.trimEnd()}`);
    });
  });
}

function _run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (r.error !== undefined) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  }
  return r.stdout;
}

/** Options of {@linkcode buildNpm}. */
export interface BuildNpmOptions {
  /** Repository root (has deno.json). */
  root: string;
  /** Output directory, replaced entirely. */
  outDir: string;
  /** Also compile tests/ (minus tests/npm/) into `esm/tests/` for `node --test`. */
  tests: boolean;
  /** Compile the package with tsc's `isolatedDeclarations` (default false). */
  isolatedDeclarations?: boolean;
}

/**
 * Emits the npm package: compiles with tsc, bundles the bin, writes package.json and README, and
 * checks that the npm exports match deno.json's.
 *
 * @param opts Repository root, output directory, whether to compile tests.
 * @returns The generated package.json.
 *
 * @example
 * ```ts ignore
 * import { buildNpm } from "./npm-build.ts";
 * await buildNpm({ root: ".", outDir: "npm", tests: true });
 * ```
 */
export async function buildNpm(opts: BuildNpmOptions): Promise<Record<string, unknown>> {
  const root = resolve(opts.root);
  const outDir = resolve(opts.outDir);
  const deno = JSON.parse(await readFile(join(root, "deno.json"), "utf8")) as DenoJson;
  const denoCompiler = (JSON.parse(await readFile(join(root, "deno.json"), "utf8")) as {
    compilerOptions?: Record<string, unknown>;
  }).compilerOptions ?? {};

  const entries = Object.values(deno.exports).map((f) => join(root, f));
  for (const f of entries) {
    if (!existsSync(f)) {
      throw new Error(`deno.json exports ${relative(root, f)}, which doesn't exist`);
    }
  }
  // tsc follows imports: the package is what the exports reach; the tests, what they reach.
  const testFiles = opts.tests && existsSync(join(root, "tests"))
    ? await _listTs(
      join(root, "tests"),
      (rel) => rel === "tests/npm" || rel === "tests/fixtures",
      root,
    )
    : [];

  await rm(outDir, { recursive: true, force: true });
  await mkdir(join(outDir, "esm"), { recursive: true });

  const work = await mkdtemp(join(tmpdir(), "pycontainer-npm-build-"));
  const testsOut = join(work, "tests-out");
  try {
    await writeFile(join(work, "import_meta.d.ts"), IMPORT_META_DTS);
    const base = {
      ...denoCompiler,
      types: ["node"],
      typeRoots: [join(root, "node_modules", "@types")],
      target: "ES2022",
      // Deno type-checks against web APIs (BodyInit, Response.json(): any); so do we.
      lib: ["ES2023", "DOM", "DOM.Iterable", "DOM.AsyncIterable"],
      module: "NodeNext",
      moduleResolution: "NodeNext",
      rewriteRelativeImportExtensions: true,
      allowImportingTsExtensions: true,
      verbatimModuleSyntax: true,
      skipLibCheck: true,
      rootDir: root,
      newLine: "lf",
    };
    // Two programs, compiled in parallel: the package (JS + declarations, optionally with
    // isolatedDeclarations) and the tests (JS only, into a side directory merged below).
    const programs = [
      _tsc(root, work, "package", {
        compilerOptions: {
          ...base,
          declaration: true,
          isolatedDeclarations: opts.isolatedDeclarations === true,
          outDir: join(outDir, "esm"),
        },
        files: [...entries, join(work, "import_meta.d.ts")],
      }),
    ];
    if (testFiles.length > 0) {
      programs.push(_tsc(root, work, "tests", {
        compilerOptions: { ...base, declaration: false, outDir: testsOut },
        files: [...testFiles, join(work, "import_meta.d.ts")],
      }));
    }
    const failures = (await Promise.all(programs)).filter((f) => f !== "");
    if (failures.length > 0) throw new Error(failures.join("\n"));

    for (const file of await _walk(join(outDir, "esm"))) {
      if (!file.endsWith(".d.ts")) continue;
      const text = await readFile(file, "utf8");
      const rewritten = rewriteDtsSpecifiers(text);
      if (rewritten !== text) await writeFile(file, rewritten);
    }
    // Merge the test build: tests plus the src modules only tests reach (kept out of the tarball).
    const testOnly: string[] = [];
    if (testFiles.length > 0) {
      for (const file of await _walk(testsOut)) {
        const rel = relative(testsOut, file);
        const dest = join(outDir, "esm", rel);
        if (existsSync(dest)) continue;
        await mkdir(dirname(dest), { recursive: true });
        await cp(file, dest);
        if (!rel.startsWith("tests" + sep)) testOnly.push(`/esm/${rel.split(sep).join("/")}`);
      }
    }
    await writeFile(join(outDir, ".npmignore"), NPMIGNORE + testOnly.sort().join("\n") + "\n");
  } finally {
    await rm(work, { recursive: true, force: true });
  }

  // Test fixtures and other non-TypeScript files the tests read next to themselves.
  if (opts.tests && existsSync(join(root, "tests"))) {
    for (const file of await _walk(join(root, "tests"))) {
      const rel = relative(root, file);
      if (file.endsWith(".ts") || rel.startsWith(join("tests", "npm") + sep)) continue;
      await mkdir(dirname(join(outDir, "esm", rel)), { recursive: true });
      await cp(file, join(outDir, "esm", rel));
    }
  }

  const pkg = packageJson(deno);
  await writeFile(join(outDir, "package.json"), JSON.stringify(pkg, null, 2) + "\n");
  await mkdir(join(outDir, "bin"), { recursive: true });
  await _bundleBin(root, outDir);
  for (const doc of ["README.md", "LICENSE"]) {
    if (existsSync(join(root, doc))) await cp(join(root, doc), join(outDir, doc));
  }
  await _checkExports(root, outDir, deno, pkg);
  return pkg;
}

/** npm exports == deno.json exports: same subpaths, files present, same exported names. */
async function _checkExports(
  root: string,
  outDir: string,
  deno: DenoJson,
  pkg: Record<string, unknown>,
): Promise<void> {
  // Dependencies resolve from the repository's node_modules, also when outDir is elsewhere.
  const link = join(outDir, "node_modules");
  await symlink(join(root, "node_modules"), link, "dir");
  try {
    await _compareExports(root, outDir, deno, pkg);
  } finally {
    await rm(link, { force: true });
  }
}

async function _compareExports(
  root: string,
  outDir: string,
  deno: DenoJson,
  pkg: Record<string, unknown>,
): Promise<void> {
  const npm = pkg.exports as Record<string, NpmExport>;
  const denoKeys = Object.keys(deno.exports).sort();
  const npmKeys = Object.keys(npm).sort();
  if (JSON.stringify(denoKeys) !== JSON.stringify(npmKeys)) {
    throw new Error(
      `npm exports ${npmKeys.join(",")} differ from deno.json exports ${denoKeys.join(",")}`,
    );
  }
  for (const [subpath, target] of Object.entries(npm)) {
    for (const file of [target.types, target.default]) {
      const st = await stat(join(outDir, file)).catch(() => undefined);
      if (st === undefined || !st.isFile()) {
        throw new Error(`npm export "${subpath}" points at ${file}, which was not emitted`);
      }
    }
    const srcNames = Object.keys(await import(join(root, deno.exports[subpath] ?? ""))).sort();
    const jsPath = join(outDir, target.default);
    const script = `const m = await import(${JSON.stringify(jsPath)}); ` +
      `console.log(JSON.stringify(Object.keys(m).sort()));`;
    const out = _run("node", ["--input-type=module", "-e", script], outDir);
    const npmNames = JSON.parse(out.trim().split("\n").pop() ?? "[]") as string[];
    if (JSON.stringify(srcNames) !== JSON.stringify(npmNames)) {
      throw new Error(
        `npm export "${subpath}" exports [${npmNames.join(", ")}] but ` +
          `${deno.exports[subpath]} exports [${srcNames.join(", ")}]`,
      );
    }
  }
}

function _parseArgs(argv: string[]): { outDir: string; tests: boolean; isolated: boolean } {
  let outDir = "npm";
  let tests = true;
  let isolated = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--out") outDir = argv[++i] ?? outDir;
    else if (a?.startsWith("--out=")) outDir = a.slice(6);
    else if (a === "--no-tests") tests = false;
    else if (a === "--isolated-declarations") isolated = true;
    else {
      throw new Error(
        `unknown argument ${a}; usage: npm-build.ts [--out DIR] [--no-tests] [--isolated-declarations]`,
      );
    }
  }
  return { outDir, tests, isolated };
}

if ((import.meta as ImportMeta & { main?: boolean }).main === true) {
  const root = dirname(fileURLToPath(import.meta.url));
  try {
    const { outDir, tests, isolated } = _parseArgs(process.argv.slice(2));
    const started = Date.now();
    const pkg = await buildNpm({
      root,
      outDir: resolve(root, outDir),
      tests,
      isolatedDeclarations: isolated,
    });
    console.log(
      `npm-build: ${pkg.name}@${pkg.version} → ${
        relative(process.cwd(), resolve(root, outDir)) || "."
      }` +
        ` (${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
  } catch (err) {
    console.error(`npm-build: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
