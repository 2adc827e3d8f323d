/**
 * A backtracking dependency resolver for a *target* environment: it picks one version of every
 * package the requirements need, reading PEP 658 metadata from the index (never whole wheels),
 * evaluating PEP 508 markers for the target image's interpreter and platform rather than the
 * host's, and only choosing versions that have a wheel for the target's tags.
 *
 * The algorithm is resolvelib's (pip's) shape with conflict-directed backjumping:
 *
 * - The state is a set of *criteria* (per package: every requirement on it, who made it, the
 *   extras asked for, the versions ruled out) and the *pins* made so far.
 * - Each round picks an unpinned package (exact `==` pins first, then packages involved in recent
 *   conflicts, then in order of discovery) and tries its candidates newest first. Pinning a
 *   candidate adds its dependencies (for the extras requested of it) to the criteria; if one of
 *   them can no longer be satisfied, the next candidate is tried.
 * - When no candidate works, the *causes* are the packages whose requirements took part. The
 *   resolver pops decisions back to the most recent one among the causes, rules that version out
 *   and carries on — decisions that had nothing to do with the conflict are skipped over, which
 *   is what keeps real dependency trees from blowing up.
 *
 * A direct reference in the root requirements (`name @ URL`) makes that one file the project's
 * only candidate (the source lists it, see `ResolverIndex.directFile`); one made by a dependency
 * is refused, as pip does. Yanked files are only used when a requirement pins that exact version; pre-releases only when
 * asked for, implied by a specifier, or when nothing else matches. When resolution fails, the
 * error says which requirements disagree in plain words (`resolver_explain.ts`).
 *
 * @module
 */

import { PycontainerError } from "../errors.ts";
import type { CoreMetadata } from "./core_metadata.ts";
import { normalizeName } from "./names.ts";
import { parseSpecifierSet, specifierContains } from "./pep440.ts";
import { parseRequirement, type Requirement, requirementApplies } from "./requirement.ts";
import {
  allowedCandidates,
  type Candidate,
  type ProjectCandidates,
  projectCandidates,
} from "./resolver_candidates.ts";
import { type Conflict, type Constraint, explainFailure } from "./resolver_explain.ts";

import type { Resolution, ResolvedPackage, ResolveOptions } from "./resolver_types.ts";

export type { Candidate, Conflict, Constraint };
export type {
  Resolution,
  ResolvedPackage,
  ResolveEvent,
  ResolveOptions,
  ResolverIndex,
  ResolveTarget,
} from "./resolver_types.ts";

/** Who imposed a constraint: `undefined` for the root requirements. */
const ROOT = "<root>";

interface _Criterion {
  readonly name: string;
  readonly constraints: readonly Constraint[];
  readonly extras: ReadonlySet<string>;
  /** Versions ruled out, with the packages whose requirements caused it. */
  readonly excluded: ReadonlyMap<string, ReadonlySet<string>>;
  readonly order: number;
}

interface _Pin {
  readonly candidate: Candidate;
  readonly metadata: CoreMetadata;
  readonly deps: readonly Requirement[];
  /** Indexes into `deps` already added to the criteria. */
  readonly added: ReadonlySet<number>;
}

interface _State {
  criteria: Map<string, _Criterion>;
  pins: Map<string, _Pin>;
}

interface _Frame {
  before: _State;
  name: string;
  candidate: Candidate;
}

function _clone(s: _State): _State {
  return { criteria: new Map(s.criteria), pins: new Map(s.pins) };
}

/**
 * Resolves requirements to one wheel per package for the target.
 *
 * @param options Requirements, target, index and policy.
 * @returns The chosen packages.
 * @throws {PycontainerError} When no set of versions satisfies everything (the message says
 *   which requirements conflict), or when the index fails.
 *
 * @example
 * ```ts ignore
 * import { resolve } from "./resolver.ts";
 * import { IndexClient } from "./index_client.ts";
 * import { markerEnvironmentFor } from "./markers.ts";
 * import { compatibleTags } from "./tags.ts";
 * const target = {
 *   markerEnv: markerEnvironmentFor({ pythonFullVersion: "3.11.7", arch: "amd64" }),
 *   tags: compatibleTags({ pythonVersion: "3.11", arch: "amd64", libc: { family: "glibc", version: "2.36" } }),
 *   pythonFullVersion: "3.11.7",
 * };
 * const res = await resolve({ requirements: ["fastapi", "uvicorn[standard]"], target, index: new IndexClient() });
 * for (const p of res.packages) console.log(p.name, p.version, p.wheel.filename);
 * ```
 */
export async function resolve(options: ResolveOptions): Promise<Resolution> {
  return await new _Resolver(options).run();
}

class _Resolver {
  #o: ResolveOptions;
  #projects = new Map<string, Promise<ProjectCandidates | undefined>>();
  #loaded = new Map<string, ProjectCandidates | undefined>();
  #indexUrls = new Map<string, string>();
  #order = 0;
  #hot = new Set<string>();
  #stats = { rounds: 0, backjumps: 0, metadata: 0 };
  #rejections = new Map<string, string>();
  #directUrls = new Map<string, string>();

  constructor(options: ResolveOptions) {
    this.#o = options;
  }

  async run(): Promise<Resolution> {
    const source = this.#o.source ?? "the requirements";
    const roots = this.#o.requirements.map((r) => parseRequirement(r, source))
      .filter((r) => requirementApplies(r, this.#o.target.markerEnv));
    for (const r of roots) if (r.url !== undefined) await this.#direct(r);
    let state: _State = { criteria: new Map(), pins: new Map() };
    for (const r of roots) {
      const conflict = await this.#add(state, r, undefined);
      if (conflict) throw this.#fail([conflict]);
    }
    const stack: _Frame[] = [];
    const maxBackjumps = this.#o.maxBackjumps ?? 2000;
    for (;;) {
      this.#stats.rounds++;
      const name = this.#next(state);
      if (name === undefined) return this.#result(state);
      const criterion = state.criteria.get(name)!;
      const failures: Conflict[] = [];
      let pinned: _State | undefined;
      for (const candidate of this.#candidates(criterion)) {
        const attempt = await this.#pin(state, criterion, candidate);
        if ("conflict" in attempt) {
          failures.push(attempt.conflict);
          this.#o.onEvent?.({
            kind: "reject",
            name,
            version: candidate.version,
            reason: attempt.conflict.name,
          });
          continue;
        }
        stack.push({ before: state, name, candidate });
        pinned = attempt.state;
        this.#o.onEvent?.({ kind: "pin", name, version: candidate.version });
        break;
      }
      if (pinned !== undefined) {
        state = pinned;
        continue;
      }
      // No candidate of `name` works: backjump to the latest decision among the causes.
      let causes = this.#causesOf(criterion, failures);
      let resumed: _State | undefined;
      while (stack.length > 0) {
        const frame = stack.pop()!;
        if (!causes.has(frame.name)) continue;
        if (++this.#stats.backjumps > maxBackjumps) {
          throw new PycontainerError(
            `dependency resolution gave up after ${maxBackjumps} backtracking steps`,
            { hint: "pin some packages (e.g. the ones in conflict) to narrow the search" },
          );
        }
        for (const c of causes) this.#hot.add(c);
        this.#o.onEvent?.({
          kind: "backjump",
          name: frame.name,
          version: frame.candidate.version,
          causes: [...causes],
        });
        const next = _clone(frame.before);
        const crit = next.criteria.get(frame.name)!;
        const excluded = new Map(crit.excluded);
        const why = new Set(causes);
        why.delete(frame.name);
        excluded.set(frame.candidate.version, why);
        const updated = { ...crit, excluded };
        next.criteria.set(frame.name, updated);
        if (this.#candidates(updated).length > 0) {
          resumed = next;
          break;
        }
        causes = new Set([...causes, ...this.#causesOf(updated, [])]);
      }
      if (resumed === undefined) throw this.#fail(failures, criterion);
      state = resumed;
    }
  }

  /** Packages whose requirements took part in a failure to pin `criterion`. */
  #causesOf(criterion: _Criterion, failures: readonly Conflict[]): Set<string> {
    const causes = new Set<string>();
    for (const c of criterion.constraints) if (c.parent !== undefined) causes.add(c.parent);
    for (const why of criterion.excluded.values()) for (const n of why) causes.add(n);
    for (const f of failures) {
      for (const c of f.constraints) if (c.parent !== undefined) causes.add(c.parent);
      // A package already pinned to a version the new requirement excludes: another version of
      // it may fit, so its decision is a cause too.
      if (f.pinned !== undefined) causes.add(f.name);
    }
    causes.delete(criterion.name);
    // The package itself is a cause when one of its versions was tried (another version may do).
    if (failures.length > 0 || criterion.excluded.size > 0) causes.add(criterion.name);
    return causes;
  }

  #next(state: _State): string | undefined {
    let best: { name: string; key: [number, number, number] } | undefined;
    for (const [name, c] of state.criteria) {
      if (state.pins.has(name)) continue;
      const exact = c.constraints.some((k) =>
          k.requirement.specifier.specifiers.some((s) =>
            (s.operator === "==" && !s.wildcard) || s.operator === "==="
          )
        )
        ? 0
        : 1;
      const key: [number, number, number] = [exact, this.#hot.has(name) ? 0 : 1, c.order];
      if (
        best === undefined || key[0] < best.key[0] ||
        (key[0] === best.key[0] &&
          (key[1] < best.key[1] || (key[1] === best.key[1] && key[2] < best.key[2])))
      ) {
        best = { name, key };
      }
    }
    return best?.name;
  }

  /** The candidates a criterion allows, newest first. */
  #candidates(c: _Criterion): Candidate[] {
    const project = this.#loaded.get(c.name);
    if (project === undefined) return [];
    return allowedCandidates(
      project.candidates,
      c.constraints.map((k) => k.requirement.specifier),
      { excluded: c.excluded, prereleases: this.#o.prereleases ?? "if-necessary" },
    );
  }

  async #project(name: string): Promise<ProjectCandidates | undefined> {
    let p = this.#projects.get(name);
    if (p === undefined) {
      p = this.#o.index.projectFiles(name).then((files) => {
        if (files !== undefined) this.#indexUrls.set(name, files.index.url);
        const pc = files === undefined
          ? undefined
          : projectCandidates(name, files.files, this.#o.target);
        this.#loaded.set(name, pc);
        return pc;
      });
      this.#projects.set(name, p);
    }
    return await p;
  }

  /** Makes a root direct reference (`name @ URL`) the only candidate of its project. */
  async #direct(r: Requirement): Promise<void> {
    const name = r.normalizedName;
    const url = r.url!;
    const known = this.#directUrls.get(name);
    if (known !== undefined) {
      if (known === url) return;
      throw new PycontainerError(
        `${r.name} is required from two URLs: ${_redact(known)} and ${_redact(url)}`,
        { hint: "keep one direct reference per package", exitCode: 2 },
      );
    }
    if (this.#o.index.directFile === undefined) {
      throw new PycontainerError(
        `${r.name} @ ${_redact(url)}: direct URL references can't be resolved from an index`,
        {
          hint:
            "lock the dependencies with uv or poetry (uv.lock, pylock.toml) or depend on a released version",
          exitCode: 2,
        },
      );
    }
    this.#directUrls.set(name, url);
    const file = await this.#o.index.directFile(name, url);
    const pc = projectCandidates(name, [file], this.#o.target);
    if (pc.candidates.length === 0) {
      const why = pc.skipped[0];
      throw new PycontainerError(
        `${r.name} @ ${_redact(url)}: ${file.filename} does not fit the target${
          why ? ` (${why.reason}: ${why.detail})` : ""
        }`,
        {
          hint:
            "reference a wheel built for the image's platform and Python (see the target line above)",
          exitCode: 2,
        },
      );
    }
    this.#projects.set(name, Promise.resolve(pc));
    this.#loaded.set(name, pc);
    this.#indexUrls.set(name, "");
  }

  /** Adds a requirement to the state (mutating its maps); returns a conflict if unsatisfiable. */
  async #add(
    state: _State,
    r: Requirement,
    parent: { name: string; version: string } | undefined,
    path: readonly string[] = [],
  ): Promise<Conflict | undefined> {
    if (r.url !== undefined && parent !== undefined) {
      throw new PycontainerError(
        `${parent.name} ${parent.version} depends on ${r.name} @ ${
          _redact(r.url)
        }: a direct URL reference from a package, not from the project`,
        {
          hint: `add "${r.name} @ ${
            _redact(r.url)
          }" to the project's own dependencies, or lock the dependencies with uv`,
          exitCode: 2,
        },
      );
    }
    const name = r.normalizedName;
    await this.#project(name);
    const old = state.criteria.get(name);
    const constraint: Constraint = {
      requirement: r,
      parent: parent?.name,
      parentVersion: parent?.version,
      path: [...path, r.source],
    };
    const extras = new Set(old?.extras ?? []);
    for (const e of r.extras) extras.add(normalizeName(e));
    const criterion: _Criterion = {
      name,
      constraints: [...(old?.constraints ?? []), constraint],
      extras,
      excluded: old?.excluded ?? new Map(),
      order: old?.order ?? this.#order++,
    };
    state.criteria.set(name, criterion);
    const pin = state.pins.get(name);
    if (pin !== undefined) {
      if (!specifierContains(r.specifier, pin.candidate.parsed, { prereleases: true })) {
        return { name, constraints: criterion.constraints, pinned: pin.candidate.version };
      }
      if (extras.size > (old?.extras.size ?? 0)) {
        return await this.#addDeps(state, name, pin);
      }
      return undefined;
    }
    if (this.#candidates(criterion).length === 0) {
      return { name, constraints: criterion.constraints, pinned: undefined };
    }
    // Warm the metadata of the likely pick while other work goes on.
    const likely = this.#candidates(criterion)[0];
    if (likely) {
      this.#o.index.coreMetadata(likely.wheel, { name, version: likely.version }).catch(() => {});
    }
    return undefined;
  }

  /** Adds the dependencies of a pinned package that apply for its current extras. */
  async #addDeps(state: _State, name: string, pin: _Pin): Promise<Conflict | undefined> {
    const criterion = state.criteria.get(name)!;
    const env = this.#o.target.markerEnv;
    const extras = ["", ...criterion.extras];
    const added = new Set(pin.added);
    const newDeps: Requirement[] = [];
    pin.deps.forEach((dep, i) => {
      if (!added.has(i) && requirementApplies(dep, env, extras)) {
        added.add(i);
        newDeps.push(dep);
      }
    });
    state.pins.set(name, { ...pin, added });
    const via = criterion.constraints[0]?.path ?? [];
    for (const dep of newDeps) {
      if (dep.normalizedName === name) {
        // A self-reference (`pkg[a]` requiring `pkg[b]`) only adds extras.
        const selfExtras = new Set(state.criteria.get(name)!.extras);
        const before = selfExtras.size;
        for (const e of dep.extras) selfExtras.add(normalizeName(e));
        if (selfExtras.size > before) {
          state.criteria.set(name, { ...state.criteria.get(name)!, extras: selfExtras });
          const conflict = await this.#addDeps(state, name, state.pins.get(name)!);
          if (conflict) return conflict;
        }
        continue;
      }
      const conflict = await this.#add(
        state,
        dep,
        { name, version: pin.candidate.version },
        via,
      );
      if (conflict) return conflict;
    }
    return undefined;
  }

  async #pin(
    state: _State,
    criterion: _Criterion,
    candidate: Candidate,
  ): Promise<{ state: _State } | { conflict: Conflict }> {
    const metadata = await this.#o.index.coreMetadata(candidate.wheel, {
      name: candidate.name,
      version: candidate.version,
    });
    this.#stats.metadata++;
    const rp = metadata.requiresPython;
    if (rp !== undefined) {
      let ok = true;
      try {
        ok = specifierContains(parseSpecifierSet(rp), this.#o.target.pythonFullVersion, {
          prereleases: true,
        });
      } catch {
        ok = true;
      }
      if (!ok) {
        this.#rejections.set(
          `${candidate.name} ${candidate.version}`,
          `requires Python ${rp} (the target has ${this.#o.target.pythonFullVersion})`,
        );
        return {
          conflict: {
            name: candidate.name,
            constraints: criterion.constraints,
            pinned: undefined,
            requiresPython: { version: candidate.version, specifier: rp },
          },
        };
      }
    }
    const deps = metadata.requiresDist.map((text) =>
      parseRequirement(text, `${candidate.name} ${candidate.version} metadata`)
    );
    const next = _clone(state);
    const pin: _Pin = { candidate, metadata, deps, added: new Set() };
    next.pins.set(candidate.name, pin);
    const conflict = await this.#addDeps(next, candidate.name, pin);
    return conflict ? { conflict } : { state: next };
  }

  #fail(failures: readonly Conflict[], criterion?: _Criterion): PycontainerError {
    return explainFailure({
      failures,
      criterion: criterion === undefined
        ? undefined
        : { name: criterion.name, constraints: criterion.constraints },
      projects: this.#loaded,
      rejections: this.#rejections,
      target: this.#o.target,
    });
  }

  #result(state: _State): Resolution {
    const packages: ResolvedPackage[] = [];
    const env = this.#o.target.markerEnv;
    for (const [name, pin] of state.pins) {
      const c = state.criteria.get(name)!;
      const extras = ["", ...c.extras];
      const applying = pin.deps.filter((d) => requirementApplies(d, env, extras));
      packages.push({
        name,
        displayName: pin.metadata.name,
        version: pin.candidate.version,
        wheel: pin.candidate.wheel,
        indexUrl: this.#indexUrls.get(name) ?? "",
        requires: applying.map((d) => d.source),
        dependencies: [
          ...new Set(applying.map((d) => d.normalizedName).filter((n) => n !== name)),
        ].sort(),
        extras: [...c.extras].sort(),
        requiredBy: [...new Set(c.constraints.map((k) => k.parent ?? ROOT))].sort(),
        path: c.constraints[0]?.path ?? [],
        requiresPython: pin.metadata.requiresPython,
      });
    }
    packages.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return {
      packages,
      requirements: [...this.#o.requirements],
      pythonFullVersion: this.#o.target.pythonFullVersion,
      stats: { ...this.#stats },
    };
  }
}

function _redact(url: string): string {
  return url.replace(/\/\/[^/@]*@/, "//");
}
