/**
 * The requirements a resolution starts from when there is no lock file: `[project.dependencies]`,
 * plus the `[project.optional-dependencies]` of each requested extra, plus each requested PEP 735
 * dependency group (with `{include-group = "…"}` followed). A requirement on the project itself
 * (`myapi[extra]` inside an extra, the way projects compose extras) is replaced by those extras'
 * requirements instead of being looked up on an index.
 *
 * Unknown extras and groups are errors that list the ones the project has, so a typo in
 * `--extra`/`--group` never silently installs less than asked.
 *
 * @module
 */
import { PycontainerError } from "../errors.ts";
import type { PyprojectFacts } from "../project/pyproject.ts";
import { normalizeName } from "../python/names.ts";
import { parseRequirement } from "../python/requirement.ts";

/**
 * Collects the root requirements of the project for the requested extras and groups.
 *
 * @param pyproject The project's pyproject facts.
 * @param extras Extras to include (any spelling).
 * @param groups Dependency groups to include (any spelling).
 * @returns PEP 508 requirement strings, without duplicates, in a stable order.
 * @throws {PycontainerError} exit code 2 for an unknown extra or group, or a group cycle.
 *
 * @example
 * ```ts
 * import { projectRequirements } from "./project_requirements.ts";
 * const reqs = projectRequirements({
 *   path: "pyproject.toml", name: "app", dynamic: [], licenseFiles: [], urls: {},
 *   dependencies: ["flask"], optionalDependencies: { prod: ["gunicorn"], all: ["app[prod]"] },
 *   scripts: {}, guiScripts: {}, dependencyGroups: { dev: ["pytest"] }, tool: {},
 * }, ["all"], ["dev"]);
 * console.assert(reqs.join(",") === "flask,gunicorn,pytest");
 * ```
 */
export function projectRequirements(
  pyproject: PyprojectFacts,
  extras: readonly string[] = [],
  groups: readonly string[] = [],
): string[] {
  const self = normalizeName(pyproject.name);
  const optional = new Map(
    Object.entries(pyproject.optionalDependencies).map(([k, v]) => [normalizeName(k), v]),
  );
  const groupTable = new Map(
    Object.entries(pyproject.dependencyGroups).map(([k, v]) => [normalizeName(k), v]),
  );
  const out: string[] = [];
  const seen = new Set<string>();
  const push = (req: string) => {
    if (!seen.has(req)) {
      seen.add(req);
      out.push(req);
    }
  };
  const doneExtras = new Set<string>();
  const addRequirement = (req: string) => {
    let parsed;
    try {
      parsed = parseRequirement(req, pyproject.path);
    } catch {
      push(req); // the resolver reports the syntax error with its place
      return;
    }
    if (normalizeName(parsed.name) !== self || parsed.marker !== undefined) {
      push(req);
      return;
    }
    for (const e of parsed.extras) addExtra(e, `${pyproject.path}: ${req}`);
  };
  const addExtra = (extra: string, from: string) => {
    const key = normalizeName(extra);
    if (doneExtras.has(key)) return;
    const reqs = optional.get(key);
    if (reqs === undefined) {
      throw new PycontainerError(`${from}: the project has no extra ${JSON.stringify(extra)}`, {
        hint: optional.size === 0
          ? "it has no [project.optional-dependencies]; drop --extra or add the extra"
          : `choose from: ${[...optional.keys()].join(", ")}`,
        exitCode: 2,
      });
    }
    doneExtras.add(key);
    for (const r of reqs) addRequirement(r);
  };
  const addGroup = (group: string, stack: string[]) => {
    const key = normalizeName(group);
    if (stack.includes(key)) {
      throw new PycontainerError(
        `${pyproject.path}: dependency group ${JSON.stringify(group)} includes itself (${
          [...stack, key].join(" → ")
        })`,
        { hint: "remove the include-group cycle from [dependency-groups]", exitCode: 2 },
      );
    }
    const items = groupTable.get(key);
    if (items === undefined) {
      throw new PycontainerError(
        `${pyproject.path}: the project has no dependency group ${JSON.stringify(group)}`,
        {
          hint: groupTable.size === 0
            ? "it has no [dependency-groups]; drop --group or add the group"
            : `choose from: ${[...groupTable.keys()].join(", ")}`,
          exitCode: 2,
        },
      );
    }
    for (const item of items) {
      if (typeof item === "string") addRequirement(item);
      else addGroup(item.includeGroup, [...stack, key]);
    }
  };
  for (const d of pyproject.dependencies) addRequirement(d);
  for (const e of extras) addExtra(e, "--extra");
  for (const g of groups) addGroup(g, []);
  return out;
}
