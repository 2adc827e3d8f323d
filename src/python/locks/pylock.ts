/**
 * Reads `pylock.toml` (PEP 751, the standard lock format, `lock-version = "1.x"`). Unlike
 * `uv.lock`, a pylock is meant to be installed without a graph: every `[[packages]]` entry carries
 * a `marker` saying when it is needed, where markers may test the requested extras and dependency
 * groups (`'redis' in extras`, `'dev' in dependency_groups`). So the reader keeps each package's
 * marker and the file-level `requires-python`, `environments`, `extras`, `dependency-groups` and
 * `default-groups`; `selectForTarget` evaluates them. Sources map as PEP 751 defines them:
 * `index` (with `wheels`/`sdist`), `archive` (a URL or path to one file), `directory`, `vcs`.
 *
 * @module
 */

import { normalizeName } from "../names.ts";
import {
  arrayTableLines,
  fileNameOf,
  lockError,
  parseLockToml,
  readLockText,
  TableReader,
  type TomlTable,
} from "./lock_toml.ts";
import type { LockedFile, LockedPackage, LockedSet, LockedSource } from "./types.ts";

const _TOOL = "the tool that wrote it (e.g. `uv export --format pylock.toml`)";

function _file(r: TableReader, t: TomlTable, what: string): LockedFile {
  const f = new TableReader(t, r.place, `${r.what} ${what}`, _TOOL);
  const url = f.string("url");
  const path = f.string("path");
  const name = f.string("name") ?? url ?? path;
  if (name === undefined) throw f.error("needs a url or a path");
  const hashesTable = f.subtable("hashes");
  if (hashesTable === undefined || Object.keys(hashesTable).length === 0) {
    throw f.error("has no hashes (PEP 751 requires at least one)");
  }
  const hashes: Record<string, string> = {};
  for (const [algo, digest] of Object.entries(hashesTable)) {
    if (typeof digest !== "string" || !/^[0-9a-fA-F]+$/.test(digest)) {
      throw f.error(`hash ${algo} must be a hex string`);
    }
    hashes[algo.toLowerCase()] = digest.toLowerCase();
  }
  const size = f.integer("size");
  const uploadTime = f.dateTime("upload-time");
  return {
    filename: fileNameOf(name),
    ...(url === undefined ? {} : { url }),
    ...(path === undefined ? {} : { path }),
    hashes,
    ...(size === undefined ? {} : { size }),
    ...(uploadTime === undefined ? {} : { uploadTime }),
  };
}

function _package(r: TableReader): LockedPackage {
  const name = normalizeName(r.requiredString("name"));
  const version = r.string("version");
  const marker = r.string("marker");
  const requiresPython = r.string("requires-python");
  const files: LockedFile[] = [];
  let source: LockedSource | undefined;
  const kinds = ["vcs", "directory", "archive", "sdist", "wheels"].filter((k) => k in r.table);
  if (kinds.includes("vcs") || kinds.includes("directory") || kinds.includes("archive")) {
    if (kinds.length > 1) throw r.error(`${kinds.join(" and ")} cannot be used together`);
  }
  const vcs = r.subtable("vcs");
  const directory = r.subtable("directory");
  const archive = r.subtable("archive");
  if (vcs !== undefined) {
    const v = new TableReader(vcs, r.place, `${r.what} vcs`, _TOOL);
    const type = v.requiredString("type");
    if (type !== "git") {
      throw v.error(`VCS type ${JSON.stringify(type)} is not supported (only git)`);
    }
    const url = v.string("url") ?? v.string("path");
    if (url === undefined) throw v.error("needs a url or a path");
    const commit = v.requiredString("commit-id");
    const requested = v.string("requested-revision");
    const subdirectory = v.string("subdirectory");
    source = {
      kind: "git",
      url,
      commit,
      ...(requested === undefined ? {} : { requested }),
      ...(subdirectory === undefined ? {} : { subdirectory }),
    };
  } else if (directory !== undefined) {
    const d = new TableReader(directory, r.place, `${r.what} directory`, _TOOL);
    source = {
      kind: "path",
      path: d.requiredString("path"),
      ...(d.table["editable"] === true ? { editable: true } : {}),
    };
  } else if (archive !== undefined) {
    const file = _file(r, archive, "archive");
    files.push(file);
    source = file.url !== undefined
      ? { kind: "url", url: file.url }
      : { kind: "path", path: file.path ?? file.filename };
  } else {
    const index = r.string("index");
    source = index === undefined ? { kind: "index" } : { kind: "index", url: index };
    const sdist = r.subtable("sdist");
    if (sdist !== undefined) files.push(_file(r, sdist, "sdist"));
    r.tables("wheels").forEach((w, i) => files.push(_file(r, w, `wheel #${i + 1}`)));
    if (files.length === 0) {
      throw r.error("has no source: no wheels, sdist, archive, directory or vcs");
    }
  }
  const deps = r.tables("dependencies").map((d) => {
    const n = typeof d["name"] === "string" ? normalizeName(d["name"]) : "?";
    return typeof d["version"] === "string" ? `${n}==${d["version"]}` : n;
  });
  return {
    name,
    ...(version === undefined ? {} : { version }),
    source,
    files,
    ...(marker === undefined ? {} : { marker }),
    ...(requiresPython === undefined ? {} : { requiresPython }),
    ...(deps.length === 0 ? {} : { dependencies: deps }),
    ...(r.place.line === undefined ? {} : { line: r.place.line }),
  };
}

/**
 * Parses the text of a `pylock.toml` (or `pylock.<name>.toml`).
 *
 * @param text The document.
 * @param path The file's path (named in errors and kept in the result).
 * @returns The packages with their markers, the file's Python and environment constraints,
 *   its `default-groups` and the index URLs its packages come from.
 * @throws {PycontainerError} With `pylock.toml:<line>` for invalid TOML, an unsupported
 *   `lock-version`, or a malformed package (no name, no source, a file without hashes).
 *
 * @example
 * ```ts
 * import { parsePylock } from "./pylock.ts";
 * const lock = parsePylock(`lock-version = "1.0"
 * created-by = "example"
 * [[packages]]
 * name = "pytest"
 * version = "8.3.4"
 * marker = "'dev' in dependency_groups"
 * wheels = [{ url = "https://files/pytest-8.3.4-py3-none-any.whl", hashes = { sha256 = "ab" } }]
 * `, "pylock.toml");
 * console.assert(lock.packages[0]?.marker === "'dev' in dependency_groups");
 * ```
 */
export function parsePylock(text: string, path: string): LockedSet {
  const doc = parseLockToml(text, path, _TOOL);
  const top = new TableReader(doc, { file: path, line: 1 }, "pylock.toml", _TOOL);
  const lockVersion = top.string("lock-version");
  if (lockVersion === undefined || !/^1(\.\d+)*$/.test(lockVersion)) {
    throw lockError(
      { file: path, line: 1 },
      `unsupported lock-version ${JSON.stringify(lockVersion ?? null)} (expected 1.x)`,
      "PEP 751 installers must refuse major versions they do not know; lock again with a tool writing lock-version 1",
    );
  }
  const lines = arrayTableLines(text, "packages");
  const packages = top.tables("packages").map((t, i) => {
    const line = lines[i];
    const raw = typeof t["name"] === "string" ? t["name"] : `#${i + 1}`;
    return _package(
      new TableReader(
        t,
        { file: path, ...(line === undefined ? {} : { line }) },
        `package "${raw}"`,
        _TOOL,
      ),
    );
  });
  const indexUrls: string[] = [];
  for (const p of packages) {
    if (
      p.source.kind === "index" && p.source.url !== undefined && !indexUrls.includes(p.source.url)
    ) {
      indexUrls.push(p.source.url);
    }
  }
  const requiresPython = top.string("requires-python");
  const environments = top.strings("environments");
  const defaultGroups = top.strings("default-groups").map(normalizeName);
  return {
    kind: "pylock.toml",
    formatVersion: lockVersion,
    path,
    packages,
    indexUrls,
    ...(requiresPython === undefined ? {} : { requiresPython }),
    ...(environments.length === 0 ? {} : { environments }),
    ...(defaultGroups.length === 0 ? {} : { defaultGroups }),
    ...("extras" in doc ? { declaredExtras: top.strings("extras").map(normalizeName) } : {}),
    ...("dependency-groups" in doc
      ? { declaredGroups: top.strings("dependency-groups").map(normalizeName) }
      : {}),
  };
}

/**
 * Reads and parses a `pylock.toml` file.
 *
 * @param path The file.
 * @returns The locked set.
 * @throws {PycontainerError} As {@linkcode parsePylock}, or when the file cannot be read.
 *
 * @example
 * ```ts ignore
 * import { readPylock } from "./pylock.ts";
 * const lock = await readPylock("pylock.toml");
 * console.log(lock.packages.length);
 * ```
 */
export async function readPylock(path: string): Promise<LockedSet> {
  return parsePylock(await readLockText(path), path);
}
