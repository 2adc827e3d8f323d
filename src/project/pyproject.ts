/**
 * Reads `pyproject.toml`: the `[project]` table (PEP 621, with PEP 639 license expressions) and
 * `[dependency-groups]` (PEP 735), as plain facts for the rest of the build: image annotations
 * (name, version, description, license, source URL), the Python version choice
 * (`requires-python`), entry points (`scripts`) and framework detection (`dependencies`).
 *
 * Parsing is pure ({@linkcode parsePyproject}); {@linkcode readPyproject} is the file-reading edge.
 * Errors name the file, and for TOML syntax errors the line and column (exit code 2).
 *
 * @module
 */

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse, TomlError } from "smol-toml";
import { PycontainerError } from "../errors.ts";

/** `[project].license`: a PEP 639 SPDX expression, or the legacy `{text}` / `{file}` tables. */
export type LicenseInfo =
  | { readonly kind: "expression"; readonly value: string }
  | { readonly kind: "text"; readonly value: string }
  | { readonly kind: "file"; readonly path: string };

/** An entry of a `[dependency-groups]` list: a requirement or `{include-group = "…"}`. */
export type GroupItem = string | { readonly includeGroup: string };

/** What the build needs from `pyproject.toml`. */
export interface PyprojectFacts {
  /** Absolute path of the file, for messages. */
  readonly path: string;
  /** `[project].name` as written. */
  readonly name: string;
  /** `[project].version`, absent when dynamic or unset. */
  readonly version?: string;
  /** `[project].dynamic`. */
  readonly dynamic: readonly string[];
  /** `[project].description`. */
  readonly description?: string;
  /** `[project].readme`: the file path (string form or `{file}`); absent for `{text}`. */
  readonly readme?: string;
  /** `[project].license`. */
  readonly license?: LicenseInfo;
  /** `[project].license-files` (PEP 639 globs). */
  readonly licenseFiles: readonly string[];
  /** `[project.urls]` as written. */
  readonly urls: Readonly<Record<string, string>>;
  /** The source repository URL: the `source`/`repository`/`code` URL, else the `homepage`. */
  readonly sourceUrl?: string;
  /** `[project].requires-python`. */
  readonly requiresPython?: string;
  /** `[project].dependencies` (PEP 508 strings). */
  readonly dependencies: readonly string[];
  /** `[project.optional-dependencies]`. */
  readonly optionalDependencies: Readonly<Record<string, readonly string[]>>;
  /** `[project.scripts]`, in file order. */
  readonly scripts: Readonly<Record<string, string>>;
  /** `[project.gui-scripts]`, in file order. */
  readonly guiScripts: Readonly<Record<string, string>>;
  /** `[dependency-groups]` (PEP 735). */
  readonly dependencyGroups: Readonly<Record<string, readonly GroupItem[]>>;
  /** The raw `[tool]` table as parsed (null-prototype objects), for `[tool.*]` readers. */
  readonly tool: Readonly<Record<string, unknown>>;
}

const _MINIMAL = '[project]\nname = "myapp"\nversion = "0.1.0"\nrequires-python = ">=3.11"';

/**
 * Reads and parses `<context>/pyproject.toml`.
 *
 * @param context The project directory.
 * @returns The facts.
 * @throws {PycontainerError} (exit code 2) when the file is missing, is not valid TOML, or has
 *   no `[project].name` or a wrongly typed field.
 *
 * @example
 * ```ts
 * import { readPyproject } from "./pyproject.ts";
 * const facts = await readPyproject("tests/fixtures/projects/hello");
 * console.assert(facts.name === "hello" && facts.requiresPython === ">=3.11");
 * ```
 */
export async function readPyproject(context: string): Promise<PyprojectFacts> {
  const path = join(context, "pyproject.toml");
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    const missing = (cause as { code?: string }).code === "ENOENT";
    throw new PycontainerError(
      missing ? `No pyproject.toml in ${context} (looked for ${path})` : `Cannot read ${path}`,
      {
        hint: missing
          ? `create ${path} with at least:\n${_MINIMAL}`
          : "check the file's permissions",
        cause,
        exitCode: 2,
      },
    );
  }
  return parsePyproject(text, path);
}

/**
 * Parses the text of a `pyproject.toml`.
 *
 * @param text The TOML text.
 * @param path The file's path, used in error messages and kept in the facts.
 * @returns The facts.
 * @throws {PycontainerError} (exit code 2) on a TOML syntax error (with line and column), a
 *   missing `[project].name`, or a field of the wrong type.
 *
 * @example
 * ```ts
 * import { parsePyproject } from "./pyproject.ts";
 * const facts = parsePyproject('[project]\nname = "api"\nlicense = "MIT"\n', "pyproject.toml");
 * console.assert(facts.license?.kind === "expression" && facts.license.value === "MIT");
 * ```
 */
export function parsePyproject(text: string, path: string): PyprojectFacts {
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (cause) {
    if (cause instanceof TomlError) {
      const reason = cause.message.replace(/^Invalid TOML document: /, "").split("\n")[0];
      throw new PycontainerError(
        `Cannot parse ${path}: ${reason} at line ${cause.line}, column ${cause.column}`,
        { hint: "fix the TOML syntax at that position", cause, exitCode: 2 },
      );
    }
    throw cause;
  }
  const v = new _Fields(text, path);
  const project = doc["project"];
  if (project === undefined || !_isTable(project)) {
    throw new PycontainerError(`${path} has no [project] table`, {
      hint: `add one, at least:\n${_MINIMAL}`,
      exitCode: 2,
    });
  }
  const name = v.str(project, "name", "project.name");
  if (name === undefined || name.trim() === "") {
    throw new PycontainerError(`${path} has no [project].name`, {
      hint: 'add name = "<your-app>" under [project]',
      exitCode: 2,
    });
  }
  const urls = v.strTable(project, "urls", "project.urls");
  const facts: Record<string, unknown> = {
    path,
    name,
    dynamic: v.strList(project, "dynamic", "project.dynamic"),
    licenseFiles: v.strList(project, "license-files", "project.license-files"),
    urls,
    dependencies: v.strList(project, "dependencies", "project.dependencies"),
    optionalDependencies: v.listTable(project, "optional-dependencies"),
    scripts: v.strTable(project, "scripts", "project.scripts"),
    guiScripts: v.strTable(project, "gui-scripts", "project.gui-scripts"),
    dependencyGroups: _groups(v, doc["dependency-groups"]),
    tool: _isTable(doc["tool"]) ? doc["tool"] : {},
  };
  const optional: [string, unknown][] = [
    ["version", v.str(project, "version", "project.version")],
    ["description", v.str(project, "description", "project.description")],
    ["readme", _readme(v, project["readme"])],
    ["license", _license(v, project["license"])],
    ["sourceUrl", _sourceUrl(urls)],
    ["requiresPython", v.str(project, "requires-python", "project.requires-python")],
  ];
  for (const [key, value] of optional) if (value !== undefined) facts[key] = value;
  return facts as unknown as PyprojectFacts;
}

/**
 * Normalises a distribution name per PEP 503 (lowercase, runs of `-_.` become `-`).
 *
 * @param name A project or requirement name.
 * @returns The normalised name.
 *
 * @example
 * ```ts
 * import { normalizeName } from "./pyproject.ts";
 * console.assert(normalizeName("Flask_SQLAlchemy") === "flask-sqlalchemy");
 * ```
 */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

/**
 * Extracts the normalised distribution name of a PEP 508 requirement string.
 *
 * @param requirement E.g. `uvicorn[standard]>=0.30; python_version >= "3.11"`.
 * @returns The PEP 503 normalised name, or undefined if the string has no valid name.
 *
 * @example
 * ```ts
 * import { requirementName } from "./pyproject.ts";
 * console.assert(requirementName("Django>=5.0") === "django");
 * console.assert(requirementName("uvicorn[standard] ; python_version>'3.8'") === "uvicorn");
 * ```
 */
export function requirementName(requirement: string): string | undefined {
  const m = /^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)/.exec(requirement);
  return m === null ? undefined : normalizeName(m[1]!);
}

type _Table = Record<string, unknown>;

function _isTable(x: unknown): x is _Table {
  return typeof x === "object" && x !== null && !Array.isArray(x) && !(x instanceof Date);
}

/** Typed field access that reports the file, key and (when found) line of a wrong type. */
class _Fields {
  constructor(readonly text: string, readonly path: string) {}

  fail(key: string, expected: string): never {
    const last = key.split(".").at(-1)!.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const index = this.text.split("\n").findIndex((l) =>
      new RegExp(`^\\s*"?${last}"?\\s*=`).test(l)
    );
    const where = index === -1 ? this.path : `${this.path}:${index + 1}`;
    throw new PycontainerError(`${where}: ${key} must be ${expected}`, {
      hint: `fix ${key} in ${this.path}`,
      exitCode: 2,
    });
  }

  str(t: _Table, k: string, key: string): string | undefined {
    const x = t[k];
    if (x === undefined) return undefined;
    return typeof x === "string" ? x : this.fail(key, "a string");
  }

  strList(t: _Table, k: string, key: string): string[] {
    const x = t[k];
    if (x === undefined) return [];
    if (!Array.isArray(x) || !x.every((s) => typeof s === "string")) {
      return this.fail(key, "an array of strings");
    }
    return x;
  }

  strTable(t: _Table, k: string, key: string): Record<string, string> {
    const x = t[k];
    if (x === undefined) return {};
    if (!_isTable(x)) return this.fail(key, "a table");
    for (const [name, value] of Object.entries(x)) {
      if (typeof value !== "string") this.fail(`${key}.${name}`, "a string");
    }
    return { ...x } as Record<string, string>;
  }

  listTable(t: _Table, k: string): Record<string, string[]> {
    const x = t[k];
    if (x === undefined) return {};
    if (!_isTable(x)) return this.fail(`project.${k}`, "a table");
    const out: Record<string, string[]> = {};
    for (const name of Object.keys(x)) out[name] = this.strList(x, name, `project.${k}.${name}`);
    return out;
  }
}

function _readme(v: _Fields, x: unknown): string | undefined {
  if (x === undefined || typeof x === "string") return x;
  if (_isTable(x)) {
    if (typeof x["file"] === "string") return x["file"];
    if (typeof x["text"] === "string") return undefined;
  }
  return v.fail("project.readme", "a file name or a {file} / {text} table");
}

function _license(v: _Fields, x: unknown): LicenseInfo | undefined {
  if (x === undefined) return undefined;
  if (typeof x === "string") return { kind: "expression", value: x };
  if (_isTable(x)) {
    if (typeof x["text"] === "string") return { kind: "text", value: x["text"] };
    if (typeof x["file"] === "string") return { kind: "file", path: x["file"] };
  }
  return v.fail("project.license", "an SPDX expression string, or a {text} / {file} table");
}

function _sourceUrl(urls: Record<string, string>): string | undefined {
  const byKey = new Map(
    Object.entries(urls).map(([k, u]) => [k.toLowerCase().replace(/[-_ .]/g, ""), u]),
  );
  for (const k of ["source", "sourcecode", "repository", "repo", "code", "github", "homepage"]) {
    const u = byKey.get(k);
    if (u !== undefined) return u;
  }
  return undefined;
}

function _groups(v: _Fields, x: unknown): Record<string, GroupItem[]> {
  if (x === undefined) return {};
  if (!_isTable(x)) return v.fail("dependency-groups", "a table");
  const out: Record<string, GroupItem[]> = {};
  for (const [name, list] of Object.entries(x)) {
    if (!Array.isArray(list)) return v.fail(`dependency-groups.${name}`, "an array");
    out[name] = list.map((item): GroupItem => {
      if (typeof item === "string") return item;
      if (_isTable(item) && typeof item["include-group"] === "string") {
        return { includeGroup: item["include-group"] };
      }
      return v.fail(`dependency-groups.${name}`, 'strings or {include-group = "..."} tables');
    });
  }
  return out;
}
