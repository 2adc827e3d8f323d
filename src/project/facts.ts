/**
 * The one reader of a project directory: reads `pyproject.toml`, `.python-version`, walks the
 * context for the app files (with the ignore rules) and reads the Python sources that entry-point
 * and framework detection look at. Everything after this is pure: `choosePythonVersion` and
 * `detectCommand` take the {@linkcode ProjectFacts} it returns.
 *
 * Sources read for detection: copied `.py` files outside test directories, at most 4 path
 * segments deep (`src/pkg/sub/mod.py`), up to 1 MiB each and 500 files, shallowest first.
 *
 * @module
 */

import { readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { type AppFiles, collectAppFiles, type CollectOptions } from "./app_files.ts";
import type { SourceLayout } from "./layout.ts";
import { type PyprojectFacts, readPyproject } from "./pyproject.ts";
import { choosePythonVersion, type PythonChoice } from "./python_version.ts";

/** Everything detection needs to know about a project, as plain data. */
export interface ProjectFacts {
  /** The project directory. */
  readonly context: string;
  /** `pyproject.toml`. */
  readonly pyproject: PyprojectFacts;
  /** The source layout of the copied files. */
  readonly layout: SourceLayout;
  /** Source text of candidate Python files, by relative path. */
  readonly sources: Readonly<Record<string, string>>;
  /** `.python-version`, when present. */
  readonly pythonVersionFile?: { readonly path: string; readonly text: string };
}

/** What {@linkcode readProject} returns: the facts and the app files. */
export interface ProjectRead {
  /** The facts for detection. */
  readonly facts: ProjectFacts;
  /** The app layer's entries, exclusions and warnings. */
  readonly files: AppFiles;
}

const _MAX_SOURCES = 500;
const _MAX_SOURCE_BYTES = 1024 * 1024;

/**
 * Reads a project directory.
 *
 * @param context The project directory.
 * @param options Passed to `collectAppFiles` (the output directory to exclude).
 * @returns The facts and the app files.
 * @throws {PycontainerError} from `readPyproject` and `collectAppFiles`.
 *
 * @example
 * ```ts
 * import { readProject } from "./facts.ts";
 * const { facts, files } = await readProject("tests/fixtures/projects/hello");
 * console.assert(facts.pyproject.name === "hello" && files.layout.kind === "single-module");
 * ```
 */
export async function readProject(
  context: string,
  options: CollectOptions = {},
): Promise<ProjectRead> {
  const root = resolve(context);
  const pyproject = await readPyproject(root);
  const files = await collectAppFiles(root, options);
  const sources: Record<string, string> = {};
  const candidates = files.layout.pythonFiles
    .filter((f) => f.split("/").length <= 4 && !/(^|\/)tests?\//.test(f))
    .sort((a, b) => a.split("/").length - b.split("/").length)
    .slice(0, _MAX_SOURCES);
  await Promise.all(candidates.map(async (f) => {
    const abs = join(root, f);
    if ((await stat(abs)).size <= _MAX_SOURCE_BYTES) sources[f] = await readFile(abs, "utf8");
  }));
  const facts: ProjectFacts = { context: root, pyproject, layout: files.layout, sources };
  const versionPath = join(root, ".python-version");
  try {
    const text = await readFile(versionPath, "utf8");
    return { facts: { ...facts, pythonVersionFile: { path: versionPath, text } }, files };
  } catch {
    return { facts, files };
  }
}

/**
 * Chooses the Python version of a project from its facts (see `python_version.ts`).
 *
 * @param facts The project facts.
 * @returns The choice with its reason.
 *
 * @example
 * ```ts
 * import { projectPythonVersion, readProject } from "./facts.ts";
 * const { facts } = await readProject("tests/fixtures/projects/hello");
 * console.assert(projectPythonVersion(facts).version === "3.11");
 * ```
 */
export function projectPythonVersion(facts: ProjectFacts): PythonChoice {
  return choosePythonVersion({
    pythonVersionFile: facts.pythonVersionFile,
    requiresPython: facts.pyproject.requiresPython,
    pyprojectPath: facts.pyproject.path,
  });
}
