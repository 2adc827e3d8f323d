/**
 * Reads `poetry.lock`. Poetry 2 (lock-version 2.1) writes, for every package, the dependency
 * groups that need it (`groups = ["main", "dev"]`) and the combined marker under which it is
 * needed (`markers`, a string or one per group, with `extra == "x"` for optional packages). The
 * reader turns both into one PEP 751-style marker (`'dev' in dependency_groups and (...)`,
 * `'x' in extras`), so a poetry lock is selected exactly like a `pylock.toml`; `main` is always
 * installed. Files carry no URLs, only `file` and `hash`: the index client finds them by name and
 * hash on the package's source (`[package.source]` for non-PyPI indexes).
 *
 * Older locks (lock-version 1.x/2.0, Poetry 1) record neither groups nor markers; selecting from
 * them walks the dependency graph from the project's pyproject.toml (read from next to the lock),
 * see `poetry_legacy.ts`.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { normalizeName } from "../names.ts";
import { poetryConstraintToPep440 } from "./poetry_constraint.ts";
import { poetryLegacyGraph } from "./poetry_legacy.ts";
import {
  arrayTableLines,
  isTable,
  lockError,
  parseLockToml,
  readLockText,
  splitHash,
  TableReader,
  type TomlTable,
} from "./lock_toml.ts";
import type { LockedFile, LockedPackage, LockedSet, LockedSource } from "./types.ts";

const _TOOL = "poetry lock";

/**
 * Rewrites poetry's `extra == "x"` / `extra != "x"` tests as PEP 751 `'x' in extras` /
 * `'x' not in extras`, so they are evaluated against the set of requested extras.
 *
 * @param marker A marker from poetry.lock.
 * @returns The same marker in PEP 751 terms.
 *
 * @example
 * ```ts
 * import { poetryMarkerToPep751 } from "./poetry_lock.ts";
 * console.assert(poetryMarkerToPep751('extra == "redis" and python_version < "3.12"') ===
 *   `'redis' in extras and python_version < "3.12"`);
 * ```
 */
export function poetryMarkerToPep751(marker: string): string {
  return marker.replace(
    /\bextra\s*(==|!=)\s*(["'])([^"']*)\2/g,
    (_m, op: string, _q: string, name: string) =>
      `'${normalizeName(name)}' ${op === "==" ? "in" : "not in"} extras`,
  );
}

function _groupMarker(r: TableReader, groups: string[]): string | undefined {
  const raw = r.table["markers"];
  if (raw !== undefined && typeof raw !== "string" && !isTable(raw)) {
    throw r.error(`"markers" must be a string or a table`);
  }
  const clauses: string[] = [];
  for (const group of groups) {
    const m = typeof raw === "string" ? raw : isTable(raw) ? raw[group] : undefined;
    if (m !== undefined && typeof m !== "string") {
      throw r.error(`"markers.${group}" must be a string`);
    }
    const marker = m === undefined ? undefined : poetryMarkerToPep751(m);
    if (group === "main") {
      if (marker === undefined) return undefined;
      clauses.push(`(${marker})`);
    } else {
      const g = `'${normalizeName(group)}' in dependency_groups`;
      clauses.push(marker === undefined ? g : `(${g} and (${marker}))`);
    }
  }
  if (clauses.length === 1) return clauses[0]?.replace(/^\((.*)\)$/s, "$1");
  return clauses.join(" or ");
}

function _source(r: TableReader): LockedSource {
  const s = r.subtable("source");
  if (s === undefined) return { kind: "index" };
  const src = new TableReader(s, r.place, `${r.what} source`, _TOOL);
  const type = src.requiredString("type");
  const url = src.requiredString("url");
  switch (type) {
    case "legacy":
      return { kind: "index", url };
    case "url":
      return { kind: "url", url };
    case "git": {
      const requested = src.string("reference");
      const commit = src.string("resolved_reference");
      const subdirectory = src.string("subdirectory");
      return {
        kind: "git",
        url,
        ...(commit === undefined ? {} : { commit }),
        ...(requested === undefined ? {} : { requested }),
        ...(subdirectory === undefined ? {} : { subdirectory }),
      };
    }
    case "file":
    case "directory":
      return { kind: "path", path: url, ...(s["develop"] === true ? { editable: true } : {}) };
    default:
      throw src.error(`unknown source type ${JSON.stringify(type)}`);
  }
}

function _files(r: TableReader, list: unknown): LockedFile[] {
  if (list === undefined) return [];
  if (!Array.isArray(list) || !list.every(isTable)) {
    throw r.error(`"files" must be an array of tables`);
  }
  return list.map((t) => {
    const f = new TableReader(t, r.place, r.what, _TOOL);
    const filename = f.requiredString("file");
    const hash = f.requiredString("hash");
    const hashes = splitHash(hash);
    if (hashes === undefined) throw r.error(`invalid hash ${JSON.stringify(hash)} for ${filename}`);
    return { filename, hashes };
  });
}

function _dependencies(r: TableReader): string[] {
  const out: string[] = [];
  for (const [name, spec] of Object.entries(r.subtable("dependencies") ?? {})) {
    for (const one of Array.isArray(spec) ? spec : [spec]) {
      const t: TomlTable = isTable(one) ? one : { version: one };
      const version = typeof t["version"] === "string" && t["version"] !== "*"
        ? ` (${t["version"]})`
        : "";
      const markers = typeof t["markers"] === "string" ? ` ; ${t["markers"]}` : "";
      out.push(`${normalizeName(name)}${version}${markers}`);
    }
  }
  return out;
}

/**
 * Parses the text of a `poetry.lock`.
 *
 * @param text The document.
 * @param path The file's path (named in errors and kept in the result).
 * @param pyproject The project's pyproject.toml (text and path), needed to select from Poetry 1
 *   locks (lock-version below 2.1): their graph is walked from its dependencies.
 * @returns The packages with PEP 751-style markers (lock-version 2.1) or without (older), their
 *   files (names and hashes, no URLs), sources and the index URLs.
 * @throws {PycontainerError} With `poetry.lock:<line>` for invalid TOML or a malformed package.
 *
 * @example
 * ```ts
 * import { parsePoetryLock } from "./poetry_lock.ts";
 * const lock = parsePoetryLock(`[[package]]
 * name = "pytest"
 * version = "8.3.4"
 * optional = false
 * groups = ["dev"]
 * files = [{file = "pytest-8.3.4-py3-none-any.whl", hash = "sha256:ab"}]
 * [metadata]
 * lock-version = "2.1"
 * python-versions = ">=3.11"
 * content-hash = "00"
 * `, "poetry.lock");
 * console.assert(lock.packages[0]?.marker === "'dev' in dependency_groups");
 * ```
 */
export function parsePoetryLock(
  text: string,
  path: string,
  pyproject?: { text: string; path: string },
): LockedSet {
  const doc = parseLockToml(text, path, _TOOL);
  const top = new TableReader(doc, { file: path, line: 1 }, "poetry.lock", _TOOL);
  const meta = new TableReader(top.subtable("metadata") ?? {}, { file: path }, "[metadata]", _TOOL);
  const lockVersion = meta.string("lock-version");
  if (lockVersion === undefined) {
    throw lockError(
      { file: path },
      "no [metadata] lock-version",
      "regenerate it with `poetry lock`",
    );
  }
  const [major = 0, minor = 0] = lockVersion.split(".").map(Number);
  if (major > 2) {
    throw lockError(
      { file: path },
      `unsupported poetry.lock lock-version ${lockVersion}`,
      "update pycontainer, or lock with Poetry 2",
    );
  }
  const withMarkers = major === 2 && minor >= 1;
  const legacyFiles = meta.subtable("files") ?? {};
  const lines = arrayTableLines(text, "package");
  const groups = new Set<string>(["main"]);
  const indexUrls: string[] = [];
  const packages = top.tables("package").map((t, i): LockedPackage => {
    const line = lines[i];
    const raw = typeof t["name"] === "string" ? t["name"] : `#${i + 1}`;
    const place = { file: path, ...(line === undefined ? {} : { line }) };
    const r = new TableReader(t, place, `package "${raw}"`, _TOOL);
    const name = normalizeName(r.requiredString("name"));
    const version = r.requiredString("version");
    const pkgGroups = withMarkers ? r.strings("groups") : [];
    pkgGroups.forEach((g) => groups.add(normalizeName(g)));
    if (withMarkers && pkgGroups.length === 0) throw r.error(`"groups" is missing`);
    const marker = withMarkers ? _groupMarker(r, pkgGroups) : undefined;
    const source = _source(r);
    if (source.kind === "index" && source.url !== undefined && !indexUrls.includes(source.url)) {
      indexUrls.push(source.url);
    }
    const files = _files(r, t["files"] ?? legacyFiles[raw] ?? legacyFiles[name]);
    const requiresPython = r.string("python-versions");
    const extras: Record<string, string[]> = {};
    for (const [extra, list] of Object.entries(r.subtable("extras") ?? {})) {
      if (Array.isArray(list)) extras[normalizeName(extra)] = list.map(String);
    }
    return {
      name,
      version,
      source,
      files,
      ...(marker === undefined ? {} : { marker }),
      ...(requiresPython === undefined || requiresPython === "*" ? {} : { requiresPython }),
      dependencies: _dependencies(r),
      ...(Object.keys(extras).length === 0 ? {} : { extras }),
      ...(line === undefined ? {} : { line }),
    };
  });
  const requiresPython = poetryConstraintToPep440(meta.string("python-versions") ?? "*");
  const graph = withMarkers || pyproject === undefined ? undefined : poetryLegacyGraph(
    top.tables("package"),
    parseLockToml(pyproject.text, pyproject.path, "poetry check"),
    pyproject.path,
  );
  return {
    kind: "poetry.lock",
    path,
    packages,
    indexUrls,
    ...(requiresPython === undefined || requiresPython === "" ? {} : { requiresPython }),
    declaredExtras: Object.keys(top.subtable("extras") ?? {}).map(normalizeName),
    ...(withMarkers ? { declaredGroups: [...groups] } : {}),
    formatVersion: lockVersion,
    ...(graph === undefined ? {} : { graph }),
  };
}

/**
 * Reads and parses a `poetry.lock` file.
 *
 * @param path The file.
 * @returns The locked set.
 * @throws {PycontainerError} As {@linkcode parsePoetryLock}, or when the file cannot be read.
 *
 * @example
 * ```ts ignore
 * import { readPoetryLock } from "./poetry_lock.ts";
 * const lock = await readPoetryLock("poetry.lock");
 * ```
 */
export async function readPoetryLock(path: string): Promise<LockedSet> {
  const text = await readLockText(path);
  if (/^lock-version\s*=\s*"2\.([1-9]|\d\d)/m.test(text)) return parsePoetryLock(text, path);
  const pyprojectPath = join(dirname(path), "pyproject.toml");
  let pyproject: { text: string; path: string } | undefined;
  try {
    pyproject = { text: await readLockText(pyprojectPath), path: pyprojectPath };
  } catch {
    pyproject = undefined;
  }
  return parsePoetryLock(text, path, pyproject);
}
