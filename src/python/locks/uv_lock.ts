/**
 * Reads `uv.lock` (format version 1), uv's universal lock. Universal means one file for every
 * platform and Python version: packages carry no "install me here" marker, only the dependency
 * edges do. So besides the packages, the reader keeps the graph (edges with markers, optional
 * dependencies by extra, dev dependencies by group) and its root — the project itself, the
 * package whose source is `editable = "."` or `virtual = "."` — and `selectForTarget` walks it
 * from the root for the target, the way `uv sync` decides what to install. The project itself is
 * not among the packages: it is installed from the build context.
 *
 * @module
 */

import { normalizeName } from "../names.ts";
import {
  arrayTableLines,
  fileNameOf,
  isTable,
  lockError,
  parseLockToml,
  readLockText,
  splitHash,
  TableReader,
  type TomlTable,
} from "./lock_toml.ts";
import {
  type LockedFile,
  type LockEdge,
  type LockedPackage,
  type LockedSet,
  type LockedSource,
  type LockGraph,
  packageKey,
} from "./types.ts";

const _TOOL = "uv lock";

/** Options for {@linkcode parseUvLock}. */
export interface UvLockOptions {
  /** The workspace member to install (default: the one at `.`, else the only member). */
  project?: string;
}

function _source(r: TableReader): LockedSource {
  const s = r.subtable("source");
  if (s === undefined) throw r.error(`"source" is missing`);
  const src = new TableReader(s, r.place, r.what, _TOOL);
  const registry = src.string("registry");
  if (registry !== undefined) return { kind: "index", url: registry };
  const git = src.string("git");
  if (git !== undefined) {
    const u = new URL(git);
    const commit = u.hash.slice(1);
    const requested = u.searchParams.get("rev") ?? u.searchParams.get("tag") ??
      u.searchParams.get("branch");
    const subdirectory = u.searchParams.get("subdirectory");
    u.hash = "";
    u.search = "";
    return {
      kind: "git",
      url: u.toString(),
      ...(commit === "" ? {} : { commit }),
      ...(requested === null ? {} : { requested }),
      ...(subdirectory === null ? {} : { subdirectory }),
    };
  }
  const url = src.string("url");
  if (url !== undefined) return { kind: "url", url };
  for (const key of ["path", "directory", "editable", "virtual"]) {
    const p = src.string(key);
    if (p !== undefined) {
      return { kind: "path", path: p, ...(key === "editable" ? { editable: true } : {}) };
    }
  }
  throw r.error(`unknown source ${JSON.stringify(s)}`);
}

function _file(r: TableReader, t: TomlTable): LockedFile {
  const f = new TableReader(t, r.place, r.what, _TOOL);
  const url = f.string("url");
  const path = f.string("path");
  const filename = f.string("filename") ?? (url ?? path) ?? "";
  if (filename === "") throw r.error("a file entry has no url, path or filename");
  const hash = f.string("hash");
  const hashes = hash === undefined ? undefined : splitHash(hash);
  if (hash !== undefined && hashes === undefined) {
    throw r.error(`invalid hash ${JSON.stringify(hash)}`);
  }
  const size = f.integer("size");
  const uploadTime = f.dateTime("upload-time");
  return {
    filename: fileNameOf(filename),
    ...(url === undefined ? {} : { url }),
    ...(path === undefined ? {} : { path }),
    hashes: hashes ?? {},
    ...(size === undefined ? {} : { size }),
    ...(uploadTime === undefined ? {} : { uploadTime }),
  };
}

function _edges(r: TableReader, list: TomlTable[]): LockEdge[] {
  return list.map((t) => {
    const d = new TableReader(t, r.place, r.what, _TOOL);
    const version = d.string("version");
    const marker = d.string("marker");
    const extras = d.strings("extra").map(normalizeName);
    return {
      name: normalizeName(d.requiredString("name")),
      ...(version === undefined ? {} : { version }),
      ...(marker === undefined ? {} : { marker }),
      ...(extras.length === 0 ? {} : { extras }),
    };
  });
}

function _groupedEdges(r: TableReader, key: string): Record<string, LockEdge[]> {
  const t = r.subtable(key) ?? {};
  const out: Record<string, LockEdge[]> = {};
  for (const [name, list] of Object.entries(t)) {
    if (!Array.isArray(list) || !list.every(isTable)) {
      throw r.error(`"${key}.${name}" must be an array of tables`);
    }
    out[normalizeName(name)] = _edges(r, list);
  }
  return out;
}

/** Writes an edge as a PEP 508 requirement string, for `LockedPackage.dependencies`. */
function _edgeText(e: LockEdge): string {
  let s = e.name;
  if (e.extras !== undefined) s += `[${e.extras.join(",")}]`;
  if (e.version !== undefined) s += `==${e.version}`;
  if (e.marker !== undefined) s += ` ; ${e.marker}`;
  return s;
}

function _isRoot(source: LockedSource): boolean {
  return source.kind === "path" && (source.path === "." || source.path === "./");
}

/**
 * Parses the text of a `uv.lock`.
 *
 * @param text The document.
 * @param path The file's path (named in errors and kept in the result).
 * @param options Which workspace member is the project.
 * @returns The packages (without the project), their graph and the index URLs.
 * @throws {PycontainerError} With `uv.lock:<line>` for invalid TOML, an unsupported version or a
 *   malformed package, and when no project (root) can be found.
 *
 * @example
 * ```ts
 * import { parseUvLock } from "./uv_lock.ts";
 * const lock = parseUvLock(`version = 1
 * [[package]]
 * name = "app"
 * version = "0.1.0"
 * source = { virtual = "." }
 * dependencies = [{ name = "six" }]
 * [[package]]
 * name = "six"
 * version = "1.17.0"
 * source = { registry = "https://pypi.org/simple" }
 * wheels = [{ url = "https://files/six-1.17.0-py2.py3-none-any.whl", hash = "sha256:ab" }]
 * `, "uv.lock");
 * console.assert(lock.packages.length === 1 && lock.packages[0]?.name === "six");
 * console.assert(lock.graph?.root[0]?.name === "six");
 * ```
 */
export function parseUvLock(text: string, path: string, options: UvLockOptions = {}): LockedSet {
  const doc = parseLockToml(text, path, _TOOL);
  const top = new TableReader(doc, { file: path, line: 1 }, "uv.lock", _TOOL);
  const version = doc["version"];
  if (version !== 1) {
    throw lockError(
      { file: path, line: 1 },
      `unsupported uv.lock version ${JSON.stringify(version)} (expected 1)`,
      "regenerate it with a uv release that writes lock version 1, or update pycontainer",
    );
  }
  const lines = arrayTableLines(text, "package");
  const tables = top.tables("package");
  const packages: LockedPackage[] = [];
  const roots: { name: string; line: number | undefined; r: TableReader; dot: boolean }[] = [];
  const edges: Record<string, LockEdge[]> = {};
  const extraEdges: Record<string, Record<string, LockEdge[]>> = {};
  const members = new Set(
    new TableReader(top.subtable("manifest") ?? {}, top.place, "[manifest]", _TOOL)
      .strings("members").map(normalizeName),
  );
  const indexUrls: string[] = [];
  tables.forEach((t, i) => {
    const line = lines[i];
    const raw = typeof t["name"] === "string" ? t["name"] : `#${i + 1}`;
    const r = new TableReader(
      t,
      { file: path, ...(line === undefined ? {} : { line }) },
      `package "${raw}"`,
      _TOOL,
    );
    const name = normalizeName(r.requiredString("name"));
    const pkgVersion = r.string("version");
    const source = _source(r);
    const deps = _edges(r, r.tables("dependencies"));
    const optional = _groupedEdges(r, "optional-dependencies");
    const key = packageKey(name, pkgVersion);
    edges[key] = deps;
    extraEdges[key] = optional;
    if (_isRoot(source) || members.has(name)) {
      roots.push({ name, line, r, dot: _isRoot(source) });
    }
    if (source.kind === "index" && source.url !== undefined && !indexUrls.includes(source.url)) {
      indexUrls.push(source.url);
    }
    const files: LockedFile[] = [];
    const sdist = r.subtable("sdist");
    if (sdist !== undefined) files.push(_file(r, sdist));
    for (const w of r.tables("wheels")) files.push(_file(r, w));
    const extras = Object.fromEntries(
      Object.entries(optional).map(([k, v]) => [k, v.map(_edgeText)]),
    );
    packages.push({
      name,
      ...(pkgVersion === undefined ? {} : { version: pkgVersion }),
      source,
      files,
      dependencies: deps.map(_edgeText),
      ...(Object.keys(extras).length === 0 ? {} : { extras }),
      ...(line === undefined ? {} : { line }),
    });
  });
  const root = _chooseRoot(roots, path, options.project);
  const rootKey = packageKey(root.name, root.r.string("version"));
  const graph: LockGraph = {
    projectName: root.name,
    root: edges[rootKey] ?? [],
    rootExtras: extraEdges[rootKey] ?? {},
    rootGroups: _groupedEdges(root.r, "dev-dependencies"),
    edges,
    extraEdges,
  };
  const requiresPython = top.string("requires-python");
  const environments = top.strings("supported-markers");
  const exclusive = _conflicts(doc["conflicts"], root.name);
  return {
    kind: "uv.lock",
    formatVersion: String(version),
    path,
    packages: packages.filter((p) => packageKey(p.name, p.version) !== rootKey),
    indexUrls,
    graph,
    ...(requiresPython === undefined ? {} : { requiresPython }),
    ...(environments.length === 0 ? {} : { environments }),
    ...(exclusive.length === 0 ? {} : { exclusive }),
  };
}

/** The project's sets of mutually exclusive extras/groups (`conflicts = [[{ package, extra }]]`). */
function _conflicts(value: unknown, project: string): string[][] {
  if (!Array.isArray(value)) return [];
  const sets: string[][] = [];
  for (const set of value) {
    if (!Array.isArray(set)) continue;
    const items: string[] = [];
    for (const item of set as Record<string, unknown>[]) {
      const pkg = typeof item?.["package"] === "string" ? normalizeName(item["package"]) : project;
      if (pkg !== project) continue;
      if (typeof item["extra"] === "string") items.push(`extra ${normalizeName(item["extra"])}`);
      if (typeof item["group"] === "string") items.push(`group ${normalizeName(item["group"])}`);
    }
    if (items.length > 1) sets.push(items);
  }
  return sets;
}

function _chooseRoot<T extends { name: string; line: number | undefined; dot: boolean }>(
  roots: T[],
  path: string,
  project: string | undefined,
): T {
  if (project !== undefined) {
    const found = roots.find((r) => r.name === normalizeName(project));
    if (found !== undefined) return found;
    throw lockError(
      { file: path },
      `project ${JSON.stringify(project)} is not a workspace member of this lock`,
      roots.length === 0
        ? "run `uv lock` in the project directory"
        : `choose one of: ${roots.map((r) => r.name).join(", ")}`,
    );
  }
  const dot = roots.filter((r) => r.dot);
  if (dot.length === 1) return dot[0] as T;
  if (roots.length === 1) return roots[0] as T;
  throw lockError(
    { file: path },
    roots.length === 0
      ? 'no project package (source = { editable = "." } or { virtual = "." }) in the lock'
      : `several workspace members could be the project: ${roots.map((r) => r.name).join(", ")}`,
    roots.length === 0
      ? "run `uv lock` in the project directory, next to its pyproject.toml"
      : "name the project to install in the pycontainer configuration",
  );
}

/**
 * Reads and parses a `uv.lock` file.
 *
 * @param path The file.
 * @param options Which workspace member is the project.
 * @returns The locked set.
 * @throws {PycontainerError} As {@linkcode parseUvLock}, or when the file cannot be read.
 *
 * @example
 * ```ts ignore
 * import { readUvLock } from "./uv_lock.ts";
 * const lock = await readUvLock("uv.lock");
 * console.log(lock.packages.map((p) => `${p.name}==${p.version}`));
 * ```
 */
export async function readUvLock(path: string, options: UvLockOptions = {}): Promise<LockedSet> {
  return parseUvLock(await readLockText(path), path, options);
}
