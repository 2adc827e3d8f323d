/**
 * Chooses the Python minor version (`X.Y`) an image targets, which picks the base image
 * (`python:X.Y-slim`) and the wheels. In order:
 *
 * 1. `.python-version` (pyenv/uv): its first line that is not blank or a `#` comment; `3.12`,
 *    `3.12.4`, `cpython-3.12`, `cpython-3.12.4-linux-x86_64-gnu`, `python3.12` all mean `3.12`.
 * 2. `[project].requires-python`, with PEP 440 semantics (`src/python/pep440.ts`): the **lowest**
 *    maintained minor version the specifier allows, as the original tool picks the lower bound
 *    (`>=3.11` → 3.11, `~=3.12` → 3.12, `==3.12.*` → 3.12, `>=3.8,<4` → 3.11, `<3.13` never 3.13).
 *    A minor X.Y is allowed when some final release X.Y.z (z = 0…99) satisfies the specifier,
 *    so `>=3.11.4` still picks 3.11 (the base image carries the latest 3.11.z).
 * 3. Otherwise {@linkcode DEFAULT_PYTHON}, 3.12.
 *
 * Maintained CPython minors ({@linkcode MAINTAINED_PYTHONS}), a fixed table so builds don't
 * depend on the date (python.org "Status of Python versions"):
 *
 * | version | end of life |
 * |---|---|
 * | 3.10 | 2026-10 (ended: not picked) |
 * | 3.11 | 2027-10 |
 * | 3.12 | 2028-10 |
 * | 3.13 | 2029-10 |
 * | 3.14 | 2030-10 |
 * | 3.15 | 2031-10 |
 *
 * Explicit configuration (`--python-version`, `python-version` in a config file) wins over all
 * of this; the build applies it.
 *
 * @module
 */

import { PycontainerError } from "../errors.ts";
import { parseSpecifierSet, specifierContains, type SpecifierSet } from "../python/pep440.ts";

/** CPython minor versions pycontainer picks from, oldest first (see the module doc's table). */
export const MAINTAINED_PYTHONS: readonly string[] = ["3.11", "3.12", "3.13", "3.14", "3.15"];

/** The version used when neither `.python-version` nor `requires-python` says anything. */
export const DEFAULT_PYTHON = "3.12";

/** Inputs of {@linkcode choosePythonVersion}. */
export interface PythonVersionInputs {
  /** `.python-version`, if the project has one. */
  pythonVersionFile?: { path: string; text: string } | undefined;
  /** `[project].requires-python`, if set. */
  requiresPython?: string | undefined;
  /** The pyproject path, for messages. */
  pyprojectPath?: string | undefined;
}

/** The chosen version and why. */
export interface PythonChoice {
  /** `X.Y`. */
  version: string;
  /** Where it came from. */
  source: "python-version-file" | "requires-python" | "default";
  /** One sentence for `--verbose` / `--dry-run`. */
  reason: string;
  /** E.g. `.python-version` disagreeing with `requires-python`. */
  warnings: string[];
}

/**
 * Chooses the Python minor version.
 *
 * @param inputs `.python-version` text, `requires-python`, and the pyproject path for messages.
 * @returns The version, its source, a reason and warnings.
 * @throws {PycontainerError} (exit 2) for an unreadable `.python-version`, an invalid
 *   `requires-python`, or one that allows no maintained version.
 *
 * @example
 * ```ts
 * import { choosePythonVersion } from "./python_version.ts";
 * console.assert(choosePythonVersion({ requiresPython: ">=3.11" }).version === "3.11");
 * console.assert(choosePythonVersion({ requiresPython: ">=3.8,<3.13,!=3.10.*" }).version === "3.11");
 * console.assert(choosePythonVersion({}).version === "3.12");
 * ```
 */
export function choosePythonVersion(inputs: PythonVersionInputs): PythonChoice {
  const pyproject = inputs.pyprojectPath ?? "pyproject.toml";
  const set = inputs.requiresPython === undefined
    ? undefined
    : _parseRequires(inputs.requiresPython, pyproject);
  if (inputs.pythonVersionFile !== undefined) {
    const { path, text } = inputs.pythonVersionFile;
    const version = parsePythonVersionFile(text, path);
    const warnings = set !== undefined && !_allowsMinor(set, version)
      ? [
        `${path} asks for Python ${version}, which requires-python "${inputs.requiresPython}" in ${pyproject} does not allow`,
      ]
      : [];
    return { version, source: "python-version-file", reason: `${path} says ${version}`, warnings };
  }
  if (set !== undefined) {
    const version = MAINTAINED_PYTHONS.find((v) => _allowsMinor(set, v));
    if (version === undefined) {
      throw new PycontainerError(
        `requires-python "${inputs.requiresPython}" in ${pyproject} allows none of the maintained Python versions ${
          MAINTAINED_PYTHONS.join(", ")
        }`,
        {
          hint: "widen requires-python, or pin a version with .python-version or --python-version",
          exitCode: 2,
        },
      );
    }
    return {
      version,
      source: "requires-python",
      reason: `lowest maintained version allowed by requires-python "${inputs.requiresPython}"`,
      warnings: [],
    };
  }
  return {
    version: DEFAULT_PYTHON,
    source: "default",
    reason: `no .python-version or requires-python: default ${DEFAULT_PYTHON}`,
    warnings: [],
  };
}

/**
 * Reads the `X.Y` version from a `.python-version` file's text.
 *
 * @param text The file content.
 * @param path The file path, for messages.
 * @returns `X.Y`.
 * @throws {PycontainerError} (exit 2) when the first meaningful line is not a CPython 3 version.
 *
 * @example
 * ```ts
 * import { parsePythonVersionFile } from "./python_version.ts";
 * console.assert(parsePythonVersionFile("# pinned\ncpython-3.12.4-linux-x86_64-gnu\n", ".python-version") === "3.12");
 * ```
 */
export function parsePythonVersionFile(text: string, path: string): string {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const index = lines.findIndex((l) => l.trim() !== "" && !l.trim().startsWith("#"));
  if (index === -1) {
    throw new PycontainerError(`${path} is empty`, {
      hint: "write a Python version such as 3.12 in it, or delete it",
      exitCode: 2,
    });
  }
  const line = lines[index]!.trim();
  const m = /^(?:cpython[-@]?|python)?(3)\.(\d+)(?:\.\d+)?(?:(?:a|b|rc)\d+)?t?(?:[-+@].*)?$/i.exec(
    line,
  );
  if (m === null) {
    throw new PycontainerError(
      `${path}:${index + 1}: cannot read a CPython version from "${line}"`,
      {
        hint: "write a version such as 3.12 (pycontainer builds CPython 3 images)",
        exitCode: 2,
      },
    );
  }
  return `${m[1]}.${Number(m[2])}`;
}

function _parseRequires(spec: string, pyproject: string): SpecifierSet {
  try {
    return parseSpecifierSet(spec);
  } catch (cause) {
    throw new PycontainerError(
      `Invalid requires-python "${spec}" in ${pyproject}: ${(cause as Error).message}`,
      { hint: 'use a PEP 440 specifier such as ">=3.11"', cause, exitCode: 2 },
    );
  }
}

/** True when some final release X.Y.z (z in 0..99) is in the set. */
function _allowsMinor(set: SpecifierSet, minor: string): boolean {
  for (let z = 0; z < 100; z++) {
    if (specifierContains(set, `${minor}.${z}`, { prereleases: false })) return true;
  }
  return false;
}
