/**
 * Source layout detection: from the list of files that will be copied, tell how the project's
 * Python code is organised, so entry-point detection knows what is importable and from where.
 *
 * - **src layout**: packages under `src/` (`src/mypkg/__init__.py`); importable with
 *   `PYTHONPATH=<workdir>/src` (or once installed).
 * - **flat**: packages at the top of the project (`mypkg/__init__.py`); importable from the
 *   working directory.
 * - **app dir**: an `app/` directory of modules without `__init__.py` (a namespace package, the
 *   common `app/main.py` FastAPI layout).
 * - **single module**: only top-level modules (`app.py`, `main.py`, `manage.py`).
 *
 * A package is a directory holding `__init__.py` or `__main__.py`. Test and documentation
 * directories (`tests`, `test`, `docs`, …) never count as the app's packages.
 *
 * @module
 */

/** One top-level importable package. */
export interface PythonPackage {
  /** Import name, e.g. `mypkg`. */
  readonly name: string;
  /** Directory relative to the context, e.g. `src/mypkg`. */
  readonly dir: string;
  /** True when the package has `__main__.py` (runnable with `python -m`). */
  readonly hasMain: boolean;
}

/** What kind of layout the project has. */
export type LayoutKind = "src" | "flat" | "app-dir" | "single-module" | "none";

/** The detected source layout. */
export interface SourceLayout {
  /** The layout kind (the first that applies, in the order src, flat, app-dir, single-module). */
  readonly kind: LayoutKind;
  /** The directory that must be on `sys.path` to import the packages: `"src"` or `""`. */
  readonly importRoot: "" | "src";
  /** Top-level packages under the import root, sorted by name. */
  readonly packages: readonly PythonPackage[];
  /** Top-level module files (relative paths) in the project root and under `src/`, sorted. */
  readonly modules: readonly string[];
  /** Every copied `.py` file (relative paths), sorted. */
  readonly pythonFiles: readonly string[];
}

const _NOT_APP = new Set([
  "tests",
  "test",
  "testing",
  "docs",
  "doc",
  "examples",
  "scripts",
  "benchmarks",
]);

/**
 * Detects the layout from the relative paths of the copied files.
 *
 * @param files Relative, slash-separated paths of the regular files to be copied.
 * @returns The layout facts.
 *
 * @example A src-layout package
 * ```ts
 * import { detectLayout } from "./layout.ts";
 * const layout = detectLayout(["pyproject.toml", "src/hello/__init__.py", "src/hello/__main__.py"]);
 * console.assert(layout.kind === "src" && layout.importRoot === "src");
 * console.assert(layout.packages[0]!.name === "hello" && layout.packages[0]!.hasMain);
 * ```
 */
export function detectLayout(files: readonly string[]): SourceLayout {
  const pythonFiles = files.filter((f) => f.endsWith(".py")).sort();
  const srcPackages = _packagesUnder(pythonFiles, "src/");
  const flatPackages = _packagesUnder(pythonFiles, "");
  const modules = pythonFiles.filter((f) => !f.includes("/") || /^src\/[^/]+\.py$/.test(f));
  const hasAppDir = pythonFiles.some((f) => f.startsWith("app/"));
  let kind: LayoutKind = "none";
  if (srcPackages.length > 0) kind = "src";
  else if (flatPackages.length > 0) kind = "flat";
  else if (hasAppDir) kind = "app-dir";
  else if (modules.length > 0) kind = "single-module";
  const src = kind === "src";
  return {
    kind,
    importRoot: src ? "src" : "",
    packages: src ? srcPackages : flatPackages,
    modules,
    pythonFiles,
  };
}

/**
 * Turns a Python file path into its dotted module name, relative to an import root.
 *
 * @param file Relative path, e.g. `src/mypkg/api/main.py`.
 * @param importRoot `"src"` or `""`.
 * @returns The module name (`mypkg.api.main`), or undefined if the file is outside the import
 *   root or a path segment is not a Python identifier.
 *
 * @example
 * ```ts
 * import { moduleName } from "./layout.ts";
 * console.assert(moduleName("src/mypkg/__init__.py", "src") === "mypkg");
 * console.assert(moduleName("app/main.py", "") === "app.main");
 * console.assert(moduleName("my-scripts/run.py", "") === undefined);
 * ```
 */
export function moduleName(file: string, importRoot: string): string | undefined {
  const prefix = importRoot === "" ? "" : importRoot + "/";
  if (!file.startsWith(prefix) || !file.endsWith(".py")) return undefined;
  const segs = file.slice(prefix.length, -3).split("/");
  if (segs.length > 1 && segs[segs.length - 1] === "__init__") segs.pop();
  if (!segs.every((s) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(s))) return undefined;
  return segs.join(".");
}

function _packagesUnder(pythonFiles: readonly string[], prefix: string): PythonPackage[] {
  const byName = new Map<string, { init: boolean; main: boolean }>();
  for (const f of pythonFiles) {
    if (!f.startsWith(prefix)) continue;
    const rest = f.slice(prefix.length).split("/");
    if (rest.length !== 2) continue;
    const [name, base] = rest as [string, string];
    if (base !== "__init__.py" && base !== "__main__.py") continue;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || _NOT_APP.has(name)) continue;
    if (prefix === "" && name === "src") continue;
    const seen = byName.get(name) ?? { init: false, main: false };
    if (base === "__init__.py") seen.init = true;
    else seen.main = true;
    byName.set(name, seen);
  }
  return [...byName.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, s]) => ({ name, dir: prefix + name, hasMain: s.main }));
}
