/**
 * Walks a universal lock's dependency graph from the project for one target: the project's
 * dependencies, plus its optional dependencies for the requested extras and its dependency
 * groups for the requested groups; then every reached package's dependencies, plus the optional
 * dependencies of each extra an edge asked for (`uvicorn[standard]` brings uvloop). An edge is
 * followed only when its marker holds for the target. This is how `uv sync` decides what a
 * universal `uv.lock` installs on one machine; per-package markers cannot say it, because the
 * same package may be needed through several paths under different conditions.
 *
 * @module
 */

import { PycontainerError } from "../../errors.ts";
import { evaluateMarker, type MarkerEnvironment } from "../markers.ts";
import { normalizeName } from "../names.ts";
import { lockError } from "./lock_toml.ts";
import { type LockEdge, type LockedPackage, type LockedSet, packageKey } from "./types.ts";

function _missing(
  set: LockedSet,
  what: string,
  name: string,
  available: string[],
): PycontainerError {
  return lockError(
    { file: set.path },
    `the project has no ${what} ${JSON.stringify(name)} in the lock`,
    available.length === 0
      ? `the lock defines no ${what}s; add it to pyproject.toml and lock again`
      : `choose one of: ${available.join(", ")} (or add it to pyproject.toml and lock again)`,
  );
}

/**
 * Lists the packages of a graph lock that one target installs, in lock order.
 *
 * @param set A lock with a `graph` (uv.lock).
 * @param env The target's marker environment.
 * @param extras The project's extras to install.
 * @param groups The project's dependency groups to install.
 * @returns The reached packages (the project itself excluded).
 * @throws {PycontainerError} For an unknown extra or group, an edge to a package the lock lacks,
 *   or a marker that cannot be evaluated.
 *
 * @example
 * ```ts
 * import { walkLockGraph } from "./graph_walk.ts";
 * import { markerEnvironmentFor } from "../markers.ts";
 * const env = markerEnvironmentFor({ pythonFullVersion: "3.12.1", arch: "amd64" });
 * const pkgs = walkLockGraph({
 *   kind: "uv.lock", path: "uv.lock", indexUrls: [],
 *   packages: [
 *     { name: "a", version: "1", source: { kind: "index" }, files: [] },
 *     { name: "b", version: "1", source: { kind: "index" }, files: [] },
 *   ],
 *   graph: {
 *     root: [{ name: "a" }, { name: "b", marker: "sys_platform == 'win32'" }],
 *     rootExtras: {}, rootGroups: {}, edges: {}, extraEdges: {},
 *   },
 * }, env, [], []);
 * console.assert(pkgs.map((p) => p.name).join() === "a");
 * ```
 */
export function walkLockGraph(
  set: LockedSet,
  env: MarkerEnvironment,
  extras: readonly string[],
  groups: readonly string[],
): LockedPackage[] {
  const graph = set.graph;
  if (graph === undefined) throw new TypeError("walkLockGraph needs a lock with a graph");
  const byName = new Map<string, LockedPackage[]>();
  for (const p of set.packages) {
    const list = byName.get(p.name) ?? [];
    list.push(p);
    byName.set(p.name, list);
  }
  type Item = { from: LockedPackage | undefined; edge: LockEdge; extra?: string };
  const queue: Item[] = graph.root.map((edge) => ({ from: undefined, edge }));
  for (const raw of extras) {
    const extra = normalizeName(raw);
    const list = graph.rootExtras[extra];
    if (list === undefined) throw _missing(set, "extra", raw, Object.keys(graph.rootExtras));
    queue.push(...list.map((edge) => ({ from: undefined, edge, extra })));
  }
  for (const raw of [...(graph.defaultGroups ?? []), ...groups]) {
    const group = normalizeName(raw);
    const list = graph.rootGroups[group];
    if (list === undefined) {
      throw _missing(set, "dependency group", raw, Object.keys(graph.rootGroups));
    }
    queue.push(...list.map((edge) => ({ from: undefined, edge })));
  }
  const reached = new Map<string, Set<string>>();
  while (queue.length > 0) {
    const { from, edge, extra: via } = queue.shift() as Item;
    if (edge.marker !== undefined && !_holds(set, from, edge, env, via)) continue;
    if (edge.name === graph.projectName) {
      // The project depending on itself (`myapi[redis]` in a group): activate its extras.
      for (const extra of edge.extras ?? []) {
        queue.push(...(graph.rootExtras[extra] ?? []).map((e) => ({ from, edge: e, extra })));
      }
      continue;
    }
    const target = _resolve(set, byName, from, edge);
    const key = packageKey(target.name, target.version);
    let active = reached.get(key);
    if (active === undefined) {
      active = new Set();
      reached.set(key, active);
      for (const e of graph.edges[key] ?? []) queue.push({ from: target, edge: e });
    }
    for (const extra of edge.extras ?? []) {
      if (active.has(extra)) continue;
      active.add(extra);
      for (const e of graph.extraEdges[key]?.[extra] ?? []) {
        queue.push({ from: target, edge: e, extra });
      }
    }
  }
  return set.packages.filter((p) => reached.has(packageKey(p.name, p.version)));
}

function _holds(
  set: LockedSet,
  from: LockedPackage | undefined,
  edge: LockEdge,
  env: MarkerEnvironment,
  extra: string | undefined,
): boolean {
  try {
    return evaluateMarker(edge.marker as string, env, extra === undefined ? {} : { extra });
  } catch (e) {
    if (!(e instanceof PycontainerError)) throw e;
    throw lockError(
      { file: set.path, ...(from?.line === undefined ? {} : { line: from.line }) },
      `dependency ${edge.name} of ${from?.name ?? "the project"}: ${e.message}`,
      e.hint ?? "fix the marker",
    );
  }
}

function _resolve(
  set: LockedSet,
  byName: Map<string, LockedPackage[]>,
  from: LockedPackage | undefined,
  edge: LockEdge,
): LockedPackage {
  const candidates = byName.get(edge.name) ?? [];
  let found: LockedPackage | undefined;
  if (edge.version !== undefined) found = candidates.find((p) => p.version === edge.version);
  else if (candidates.length === 1) found = candidates[0];
  else if (edge.specifier !== undefined) {
    const spec = edge.specifier;
    const fits = candidates.filter((p) => p.version !== undefined && spec(p.version));
    if (fits.length === 1) found = fits[0];
  }
  if (found !== undefined) return found;
  const what = edge.version === undefined ? edge.name : `${edge.name} ${edge.version}`;
  throw lockError(
    { file: set.path, ...(from?.line === undefined ? {} : { line: from.line }) },
    `${from?.name ?? "the project"} depends on ${what}, which the lock ${
      candidates.length > 1 ? "has in several versions without saying which" : "does not contain"
    }`,
    "the lock is inconsistent; lock again with the current tool",
  );
}
