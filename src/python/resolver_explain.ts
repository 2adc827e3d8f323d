/**
 * Turning a failed resolution into one sentence a person can act on: which requirements
 * disagree ("fastapi 0.110.0 needs starlette>=0.36.3,<0.37.0, but you asked for
 * starlette==1.10.0"), or why no version fits ("starlette has only an sdist for version 0.45.0",
 * "uvloop 0.23.0 requires Python >=3.12, the target has 3.11.7"), plus a hint saying what to
 * change. Kept apart from the algorithm so the wording can evolve without touching it.
 *
 * @module
 */

import { PycontainerError } from "../errors.ts";
import { specifierContains } from "./pep440.ts";
import type { Requirement } from "./requirement.ts";
import type { ProjectCandidates } from "./resolver_candidates.ts";

/** One requirement on a package and who made it. */
export interface Constraint {
  /** The requirement. */
  readonly requirement: Requirement;
  /** Normalised name of the package that requires it; `undefined` for the user's requirements. */
  readonly parent: string | undefined;
  /** The version of `parent` that requires it. */
  readonly parentVersion: string | undefined;
  /** The requirement texts from the root down to this one. */
  readonly path: readonly string[];
}

/** Why a package could not be given a version. */
export interface Conflict {
  /** Normalised name of the package. */
  readonly name: string;
  /** Every requirement on it at that point. */
  readonly constraints: readonly Constraint[];
  /** The version already chosen, when a new requirement excluded it. */
  readonly pinned: string | undefined;
  /** Set when a candidate's metadata requires another Python. */
  readonly requiresPython?: { version: string; specifier: string };
}

/** What {@linkcode explainFailure} works from. */
export interface FailureContext {
  /** The conflicts met while trying the last package's candidates (newest first). */
  readonly failures: readonly Conflict[];
  /** The package that could not be pinned, with its requirements. */
  readonly criterion: { name: string; constraints: readonly Constraint[] } | undefined;
  /** Candidates per package (undefined: no index has it). */
  readonly projects: ReadonlyMap<string, ProjectCandidates | undefined>;
  /** `name version` → why it was rejected, e.g. a Requires-Python mismatch. */
  readonly rejections: ReadonlyMap<string, string>;
  /** The target python, for messages. */
  readonly target: { pythonFullVersion: string };
}

/**
 * Describes one requirement and its origin in words.
 *
 * @param c The constraint.
 * @returns E.g. `fastapi 0.110.0 needs starlette<0.37.0,>=0.36.3` or `you asked for flask==9`.
 *
 * @example
 * ```ts
 * import { describeConstraint } from "./resolver_explain.ts";
 * import { parseRequirement } from "./requirement.ts";
 * const c = { requirement: parseRequirement("starlette<0.37"), parent: "fastapi",
 *   parentVersion: "0.110.0", path: [] };
 * console.assert(describeConstraint(c) === "fastapi 0.110.0 needs starlette<0.37");
 * ```
 */
export function describeConstraint(c: Constraint): string {
  const r = c.requirement;
  const spec = r.specifier.specifiers
    .map((s) => `${s.operator}${s.version}${s.wildcard ? ".*" : ""}`).join(",");
  const text = `${r.name}${r.extras.length ? `[${r.extras.join(",")}]` : ""}${spec}`;
  return c.parent === undefined
    ? `you asked for ${text}`
    : `${c.parent} ${c.parentVersion ?? ""} needs ${text}`.replace("  ", " ");
}

function _unique(items: string[]): string[] {
  return [...new Set(items)];
}

function _list(items: string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

/** Notes on versions that exist but were not usable and that the requirements would allow. */
function _availability(
  name: string,
  constraints: readonly Constraint[],
  ctx: FailureContext,
): string[] {
  const project = ctx.projects.get(name);
  if (project === undefined) return [];
  const allows = (v: string) =>
    constraints.every((c) => specifierContains(c.requirement.specifier, v, { prereleases: true }));
  const notes: string[] = [];
  const skipped = project.skipped.filter((s) => allows(s.version));
  const sdist = skipped.filter((s) => s.reason === "sdist-only").map((s) => s.version);
  if (sdist.length > 0) {
    notes.push(
      `${name} has only an sdist for version${sdist.length > 1 ? "s" : ""} ${
        _list(sdist.slice(0, 3))
      }`,
    );
  }
  for (const s of skipped.filter((s) => s.reason === "no-wheel-for-target").slice(0, 1)) {
    notes.push(`${name} ${s.version} has no wheel for the target (only ${s.detail})`);
  }
  for (const s of skipped.filter((s) => s.reason === "requires-python").slice(0, 1)) {
    notes.push(
      `${name} ${s.version} requires Python ${s.detail}, the target has ${ctx.target.pythonFullVersion}`,
    );
  }
  for (const c of project.candidates.filter((c) => allows(c.version))) {
    const why = ctx.rejections.get(`${name} ${c.version}`);
    if (why) {
      notes.push(`${name} ${c.version} ${why}`);
      break;
    }
    if (c.yanked !== false) {
      notes.push(`${name} ${c.version} is yanked${c.yanked ? ` (${c.yanked})` : ""}`);
      break;
    }
  }
  return notes;
}

/**
 * Builds the error for a failed resolution.
 *
 * @param ctx What failed.
 * @returns A {@linkcode PycontainerError} whose message names the conflicting requirements.
 *
 * @example
 * ```ts
 * import { explainFailure } from "./resolver_explain.ts";
 * import { parseRequirement } from "./requirement.ts";
 * const c = (req: string, parent?: string) => ({ requirement: parseRequirement(req),
 *   parent, parentVersion: parent ? "1.0" : undefined, path: [] });
 * const err = explainFailure({
 *   failures: [{ name: "b", constraints: [c("b==2"), c("b<2", "a")], pinned: undefined }],
 *   criterion: undefined, projects: new Map(), rejections: new Map(),
 *   target: { pythonFullVersion: "3.12.0" },
 * });
 * console.assert(err.message.includes("a 1.0 needs b<2, but you asked for b==2"));
 * ```
 */
export function explainFailure(ctx: FailureContext): PycontainerError {
  const conflict: Conflict | undefined = ctx.failures[0] ??
    (ctx.criterion
      ? { name: ctx.criterion.name, constraints: ctx.criterion.constraints, pinned: undefined }
      : undefined);
  if (conflict === undefined) {
    return new PycontainerError("cannot resolve dependencies", {
      hint: "loosen your version constraints",
    });
  }
  const name = conflict.name;
  if (conflict.requiresPython && ctx.failures.every((f) => f.requiresPython)) {
    const versions = _unique(ctx.failures.map((f) => f.requiresPython!.version));
    return new PycontainerError(
      `cannot resolve dependencies: ${name} ${
        _list(versions.slice(0, 3))
      } requires Python ${conflict.requiresPython.specifier}, but the target has Python ${ctx.target.pythonFullVersion}`,
      {
        hint:
          `use a base image with a newer Python, or pin an older ${name} that supports ${ctx.target.pythonFullVersion}`,
      },
    );
  }
  if (ctx.projects.has(name) && ctx.projects.get(name) === undefined) {
    const asked = _unique(conflict.constraints.map(describeConstraint));
    return new PycontainerError(
      `cannot resolve dependencies: no package index has a project named ${name} (${_list(asked)})`,
      { hint: "check the spelling, or add the index that hosts it (--extra-index-url)" },
    );
  }
  const roots = _unique(
    conflict.constraints.filter((c) => c.parent === undefined).map(describeConstraint),
  );
  const others = _unique(
    conflict.constraints.filter((c) => c.parent !== undefined).map(describeConstraint),
  );
  const notes = _availability(name, conflict.constraints, ctx);
  let sentence: string;
  if (roots.length + others.length >= 2) {
    sentence = roots.length > 0
      ? `${_list(others)}, but ${_list(roots)}`
      : `${others[0]}, but ${_list(others.slice(1))}`;
    if (roots.length > 1 && others.length === 0) sentence = _list(roots);
  } else {
    const all = [...roots, ...others];
    const project = ctx.projects.get(name);
    const usable = project?.candidates.map((c) => c.version).slice(0, 5) ?? [];
    sentence = `no version of ${name} fits (${all.join("")})` +
      (usable.length > 0
        ? `; versions with a wheel for the target: ${usable.join(", ")}`
        : "; it has no version with a wheel for the target");
  }
  const extra = notes.length > 0 ? ` (${notes.join("; ")})` : "";
  const sdistOnly = notes.some((n) => n.includes("only an sdist"));
  return new PycontainerError(`cannot resolve dependencies: ${sentence}${extra}`, {
    hint: sdistOnly
      ? `pin a version of ${name} that has wheels for the target, or build the wheel yourself and pass it with --find-links`
      : roots.length > 0 && others.length > 0
      ? `change your requirement on ${name} to fit what the other packages need, or pin older versions of them`
      : `loosen the requirements on ${name}, or pin versions of the packages that need it`,
  });
}
