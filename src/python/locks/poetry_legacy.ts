/**
 * The dependency graph of an older `poetry.lock` (lock-version 1.x/2.0, written by Poetry 1),
 * which records neither which groups need a package nor under which marker: Poetry 1 decides that
 * at install time by walking from the project's declared dependencies. So do we: the root edges
 * come from pyproject.toml (`[tool.poetry.dependencies]` without `python`, optional ones through
 * `[tool.poetry.extras]`, `[tool.poetry.group.<g>.dependencies]`, the old
 * `[tool.poetry.dev-dependencies]` as group `dev`, or PEP 621 `[project]` tables), and each
 * locked package's `[package.dependencies]` become edges whose markers combine `markers`,
 * `python` and `platform`. Optional dependencies hang off the extras that list them in
 * `[package.extras]` and are evaluated with `extra` set to that extra. `walkLockGraph` then does
 * the rest, as for `uv.lock`.
 *
 * @module
 */

import { normalizeName } from "../names.ts";
import { parseSpecifierSet, specifierContains } from "../pep440.ts";
import { parseRequirement } from "../requirement.ts";
import { isTable, type TomlTable } from "./lock_toml.ts";
import { poetryConstraintToPep440, poetryPythonMarker } from "./poetry_constraint.ts";
import { type LockEdge, type LockGraph, packageKey } from "./types.ts";

function _versionMatcher(constraint: string): ((v: string) => boolean) | undefined {
  const sets = constraint.split("||").map((alt) => poetryConstraintToPep440(alt));
  if (sets.some((s) => s === undefined)) return undefined;
  const parsed = sets.map((s) => parseSpecifierSet(s as string));
  return (v) => parsed.some((set) => specifierContains(set, v, { prereleases: true }));
}

function _and(parts: (string | undefined)[]): string | undefined {
  const present = parts.filter((p): p is string => p !== undefined && p.trim() !== "");
  if (present.length === 0) return undefined;
  if (present.length === 1) return present[0];
  return present.map((p) => `(${p})`).join(" and ");
}

/** The edges (one per constraint) and optional flag of one `name = spec` dependency entry. */
function _entries(name: string, spec: unknown): { edge: LockEdge; optional: boolean }[] {
  const list = Array.isArray(spec) ? spec : [spec];
  return list.map((one) => {
    const t: TomlTable = isTable(one) ? one : { version: one };
    const version = typeof t["version"] === "string" ? t["version"] : undefined;
    const matcher = version === undefined ? undefined : _versionMatcher(version);
    const marker = _and([
      typeof t["markers"] === "string" ? t["markers"] : undefined,
      typeof t["python"] === "string" ? poetryPythonMarker(t["python"]) : undefined,
      typeof t["platform"] === "string" ? `sys_platform == "${t["platform"]}"` : undefined,
    ]);
    const extras = Array.isArray(t["extras"])
      ? t["extras"].map((e) => normalizeName(String(e)))
      : [];
    return {
      edge: {
        name: normalizeName(name),
        ...(marker === undefined ? {} : { marker }),
        ...(extras.length === 0 ? {} : { extras }),
        ...(matcher === undefined ? {} : { specifier: matcher }),
      },
      optional: t["optional"] === true,
    };
  });
}

function _extraNames(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.map((s) =>
    normalizeName(/^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(String(s))?.[1] ?? "")
  );
}

function _sub(t: unknown, ...keys: string[]): TomlTable {
  let cur: unknown = t;
  for (const k of keys) cur = isTable(cur) ? cur[k] : undefined;
  return isTable(cur) ? cur : {};
}

function _fromRequirements(list: unknown, where: string): LockEdge[] {
  if (!Array.isArray(list)) return [];
  return list.map((s) => {
    const r = parseRequirement(String(s), where);
    return {
      name: r.normalizedName,
      ...(r.marker === undefined ? {} : { marker: r.marker.source }),
      ...(r.extras.length === 0 ? {} : { extras: r.extras.map(normalizeName) }),
    };
  });
}

/**
 * Builds the graph of a Poetry 1 lock from its package tables and the project's pyproject.toml.
 *
 * @param packages The lock's `[[package]]` tables.
 * @param pyproject The parsed pyproject.toml.
 * @param pyprojectPath Its path, for requirement syntax errors.
 * @returns The graph for `walkLockGraph`.
 *
 * @example
 * ```ts
 * import { poetryLegacyGraph } from "./poetry_legacy.ts";
 * const g = poetryLegacyGraph(
 *   [{ name: "a", version: "1", dependencies: { b: { version: ">=1", markers: 'extra == "x"', optional: true } }, extras: { x: ["b (>=1)"] } }],
 *   { tool: { poetry: { name: "app", dependencies: { python: "^3.11", a: "1" } } } },
 *   "pyproject.toml",
 * );
 * console.assert(g.root[0]?.name === "a" && g.extraEdges["a==1"]?.x?.[0]?.name === "b");
 * ```
 */
export function poetryLegacyGraph(
  packages: readonly TomlTable[],
  pyproject: TomlTable,
  pyprojectPath: string,
): LockGraph {
  const poetry = _sub(pyproject, "tool", "poetry");
  const project = _sub(pyproject, "project");
  const root: LockEdge[] = _fromRequirements(project["dependencies"], pyprojectPath);
  const rootExtras: Record<string, LockEdge[]> = {};
  for (const [extra, list] of Object.entries(_sub(project, "optional-dependencies"))) {
    rootExtras[normalizeName(extra)] = _fromRequirements(list, pyprojectPath);
  }
  const optional = new Map<string, LockEdge[]>();
  for (const [name, spec] of Object.entries(_sub(poetry, "dependencies"))) {
    if (name.toLowerCase() === "python") continue;
    for (const { edge, optional: opt } of _entries(name, spec)) {
      if (opt) optional.set(edge.name, [...(optional.get(edge.name) ?? []), edge]);
      else root.push(edge);
    }
  }
  for (const [extra, names] of Object.entries(_sub(poetry, "extras"))) {
    const key = normalizeName(extra);
    rootExtras[key] = [
      ...(rootExtras[key] ?? []),
      ..._extraNames(names).flatMap((n) => optional.get(n) ?? []),
    ];
  }
  const rootGroups: Record<string, LockEdge[]> = { main: [] };
  const addGroup = (group: string, deps: TomlTable) => {
    const key = normalizeName(group);
    const edges = Object.entries(deps).flatMap(([n, s]) => _entries(n, s).map((e) => e.edge));
    rootGroups[key] = [...(rootGroups[key] ?? []), ...edges];
  };
  for (const [group, table] of Object.entries(_sub(poetry, "group"))) {
    addGroup(group, _sub(table, "dependencies"));
  }
  if (isTable(poetry["dev-dependencies"])) addGroup("dev", poetry["dev-dependencies"]);
  const edges: Record<string, LockEdge[]> = {};
  const extraEdges: Record<string, Record<string, LockEdge[]>> = {};
  for (const p of packages) {
    const key = packageKey(normalizeName(String(p["name"])), String(p["version"]));
    const byExtra: Record<string, LockEdge[]> = {};
    const extrasOf = new Map<string, string[]>();
    for (const [extra, list] of Object.entries(_sub(p, "extras"))) {
      byExtra[normalizeName(extra)] = [];
      for (const n of _extraNames(list)) {
        extrasOf.set(n, [...(extrasOf.get(n) ?? []), normalizeName(extra)]);
      }
    }
    const plain: LockEdge[] = [];
    for (const [name, spec] of Object.entries(_sub(p, "dependencies"))) {
      for (const { edge, optional: opt } of _entries(name, spec)) {
        if (!opt) plain.push(edge);
        else for (const extra of extrasOf.get(edge.name) ?? []) byExtra[extra]?.push(edge);
      }
    }
    edges[key] = plain;
    extraEdges[key] = byExtra;
  }
  const name = project["name"] ?? poetry["name"];
  return {
    ...(typeof name === "string" ? { projectName: normalizeName(name) } : {}),
    root,
    rootExtras,
    rootGroups,
    edges,
    extraEdges,
  };
}
