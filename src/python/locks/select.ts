/**
 * Decides what one target installs from a {@linkcode LockedSet}, and which file of each package.
 *
 * Which packages: a universal lock with a graph (`uv.lock`) is walked from the project (see
 * `graph_walk.ts`); every other format marks each package with a marker, evaluated for the
 * target's environment with the requested extras and dependency groups (PEP 751 `"x" in extras`,
 * `"dev" in dependency_groups`). Which file: among the package's wheels, the one whose best tag
 * ranks first in the target's tag list ({@linkcode wheelTagPriority}); a package whose locked files
 * hold no wheel for the target is an error naming it, the target and the wheel tags it has —
 * unless sdists are allowed (the caller builds them) or the lock lists no files at all
 * (`requirements.txt` hashes, to be looked up on the index with {@linkcode chooseWheel}).
 *
 * @module
 */

import { PycontainerError } from "../../errors.ts";
import { evaluateMarker, type MarkerEnvironment } from "../markers.ts";
import { normalizeName } from "../names.ts";
import { parseSpecifierSet, specifierContains } from "../pep440.ts";
import { tagIndex, wheelTagPriority } from "../tags.ts";
import { parseWheelFilename } from "../wheel_name.ts";
import { walkLockGraph } from "./graph_walk.ts";
import { lockError, type LockPlace } from "./lock_toml.ts";
import type { LockedFile, LockedPackage, LockedSet } from "./types.ts";

/** The target a selection is made for. */
export interface LockTarget {
  /** The target interpreter's marker environment (`markerEnvironmentFor`). */
  markerEnv: MarkerEnvironment;
  /** The target's compatible wheel tags, best first (`compatibleTags`). */
  tags: readonly string[];
  /** Extras of the project to install (default none). */
  extras?: readonly string[];
  /** Dependency groups to install (default none; pylock.toml then uses its `default-groups`). */
  groups?: readonly string[];
  /** Return an sdist (to build) instead of failing when no wheel fits. Default `false`. */
  allowSdist?: boolean;
  /** How to name the target in errors; default from the environment and tags. */
  description?: string;
}

/** One package to install and the file chosen for the target. */
export interface SelectedPackage {
  /** The locked package. */
  package: LockedPackage;
  /** The wheel to install, best tag first. */
  wheel?: LockedFile;
  /** The sdist to build, only with `allowSdist` and when no wheel fits. */
  sdist?: LockedFile;
}

/**
 * Names a target for messages: `CPython 3.11.7, linux/aarch64, glibc 2.36`.
 *
 * @param target The target.
 * @returns A short description (`target.description` when given).
 *
 * @example
 * ```ts
 * import { describeTarget } from "./select.ts";
 * import { markerEnvironmentFor } from "../markers.ts";
 * const env = markerEnvironmentFor({ pythonFullVersion: "3.12.1", arch: "arm64" });
 * const d = describeTarget({ markerEnv: env, tags: ["cp312-cp312-manylinux_2_36_aarch64"] });
 * console.assert(d === "CPython 3.12.1, linux/aarch64, glibc 2.36");
 * ```
 */
export function describeTarget(target: LockTarget): string {
  if (target.description !== undefined) return target.description;
  const env = target.markerEnv;
  let libc = "";
  for (const tag of target.tags) {
    const m = /-(manylinux|musllinux)_(\d+)_(\d+)_/.exec(tag);
    if (m !== null) {
      libc = `, ${m[1] === "manylinux" ? "glibc" : "musl"} ${m[2]}.${m[3]}`;
      break;
    }
  }
  return `CPython ${env.python_full_version}, ${env.sys_platform}/${env.platform_machine}${libc}`;
}

/**
 * Picks the wheel that fits the target best (lowest tag rank; the first such file on a tie).
 *
 * @param files Candidate files (sdists and unparseable names are skipped).
 * @param tags The target's tags, best first.
 * @returns The wheel, or `undefined` when none fits.
 *
 * @example
 * ```ts
 * import { chooseWheel } from "./select.ts";
 * const w = chooseWheel(
 *   [{ filename: "a-1-py3-none-any.whl", hashes: {} }, { filename: "a-1-cp312-cp312-linux_x86_64.whl", hashes: {} }],
 *   ["cp312-cp312-linux_x86_64", "py3-none-any"],
 * );
 * console.assert(w?.filename === "a-1-cp312-cp312-linux_x86_64.whl");
 * ```
 */
export function chooseWheel(
  files: readonly LockedFile[],
  tags: readonly string[],
): LockedFile | undefined {
  const index = tagIndex(tags);
  let best: LockedFile | undefined;
  let bestRank = Infinity;
  for (const f of files) {
    if (!f.filename.endsWith(".whl")) continue;
    let wheelTags: readonly string[];
    try {
      wheelTags = parseWheelFilename(f.filename).tags;
    } catch {
      continue;
    }
    const rank = wheelTagPriority(index, wheelTags);
    if (rank !== undefined && rank < bestRank) {
      best = f;
      bestRank = rank;
    }
  }
  return best;
}

function _wheelTagSummary(files: readonly LockedFile[]): string {
  const tags: string[] = [];
  for (const f of files) {
    if (!f.filename.endsWith(".whl")) continue;
    try {
      const w = parseWheelFilename(f.filename);
      tags.push(`${w.pythonTags.join(".")}-${w.abiTags.join(".")}-${w.platformTags.join(".")}`);
    } catch {
      tags.push(f.filename);
    }
  }
  if (tags.length === 0) return "it has no wheels, only an sdist";
  const shown = tags.slice(0, 12).join(", ");
  return `its wheels are ${shown}${tags.length > 12 ? ` and ${tags.length - 12} more` : ""}`;
}

function _checkLockCoversTarget(set: LockedSet, target: LockTarget): void {
  const env = target.markerEnv;
  if (set.requiresPython !== undefined) {
    let ok = true;
    try {
      ok = specifierContains(parseSpecifierSet(set.requiresPython), env.python_full_version, {
        prereleases: true,
      });
    } catch {
      ok = true;
    }
    if (!ok) {
      throw lockError(
        { file: set.path },
        `the lock requires Python ${set.requiresPython} but the target has ${env.python_full_version}`,
        "use a base image with a matching Python (or --python-version), or lock again for it",
      );
    }
  }
  if (set.environments !== undefined && set.environments.length > 0) {
    if (!set.environments.some((m) => evaluateMarker(m, env))) {
      throw lockError(
        { file: set.path },
        `the lock covers only ${set.environments.join(" | ")}, not ${describeTarget(target)}`,
        "add the target's environment to the locking tool's environments and lock again",
      );
    }
  }
}

function _placeOf(set: LockedSet, p: LockedPackage): LockPlace {
  return { file: p.file ?? set.path, ...(p.line === undefined ? {} : { line: p.line }) };
}

function _checkDeclared(set: LockedSet, what: string, requested: string[], declared?: string[]) {
  if (declared === undefined) return;
  for (const r of requested) {
    if (!declared.includes(normalizeName(r))) {
      throw lockError(
        { file: set.path },
        `the lock has no ${what} ${JSON.stringify(r)}`,
        declared.length === 0
          ? `it declares no ${what}s; add it to the project and lock again`
          : `choose from: ${declared.join(", ")} (or add it to the project and lock again)`,
      );
    }
  }
}

function _byMarker(set: LockedSet, target: LockTarget): LockedPackage[] {
  const extras = [...(target.extras ?? [])];
  const groups = target.groups === undefined || target.groups.length === 0
    ? [...(set.defaultGroups ?? [])]
    : [...target.groups];
  _checkDeclared(set, "extra", extras, set.declaredExtras);
  _checkDeclared(set, "dependency group", groups, set.declaredGroups);
  return set.packages.filter((p) => {
    if (p.marker === undefined) return true;
    try {
      return evaluateMarker(p.marker, target.markerEnv, { extras, dependencyGroups: groups });
    } catch (e) {
      if (!(e instanceof PycontainerError)) throw e;
      throw lockError(
        _placeOf(set, p),
        `package ${p.name}: ${e.message}`,
        e.hint ?? "fix the marker",
      );
    }
  });
}

/**
 * Selects the packages one target installs from a lock, with the file to install for each.
 *
 * @param set The lock, from any reader.
 * @param target The target's environment, tags, and the extras and groups to install.
 * @returns The packages in lock order, each with its chosen wheel (or sdist with `allowSdist`;
 *   neither when the lock lists no files, e.g. requirements.txt: use {@linkcode chooseWheel} on the
 *   index's files, keeping those whose hash the package allows).
 * @throws {PycontainerError} When the lock excludes the target (requires-python, environments),
 *   an extra or group does not exist, two versions of one package are selected, or a package has
 *   no wheel for the target (naming the package, version, target and the wheels it has).
 *
 * @example
 * ```ts
 * import { selectForTarget } from "./select.ts";
 * import { markerEnvironmentFor } from "../markers.ts";
 * import { compatibleTags } from "../tags.ts";
 * const env = markerEnvironmentFor({ pythonFullVersion: "3.12.1", arch: "amd64" });
 * const tags = compatibleTags({ pythonVersion: "3.12", arch: "amd64", libc: { family: "glibc", version: "2.36" } });
 * const chosen = selectForTarget({
 *   kind: "pylock.toml", path: "pylock.toml", indexUrls: [],
 *   packages: [
 *     { name: "six", version: "1.17.0", source: { kind: "index" }, files: [{ filename: "six-1.17.0-py2.py3-none-any.whl", hashes: {} }] },
 *     { name: "pywin32", version: "308", source: { kind: "index" }, files: [], marker: "sys_platform == 'win32'" },
 *   ],
 * }, { markerEnv: env, tags });
 * console.assert(chosen.length === 1 && chosen[0]?.wheel?.filename.startsWith("six-") === true);
 * ```
 */
export function selectForTarget(set: LockedSet, target: LockTarget): SelectedPackage[] {
  if (set.kind === "poetry.lock" && set.graph === undefined && set.declaredGroups === undefined) {
    throw lockError(
      { file: set.path },
      `poetry.lock lock-version ${set.formatVersion} (Poetry 1) records no groups or markers, ` +
        "and there is no pyproject.toml next to it to walk its dependencies from",
      "keep the project's pyproject.toml next to poetry.lock, or lock again with Poetry 2",
    );
  }
  _checkLockCoversTarget(set, target);
  _checkExclusive(set, target);
  const packages = set.graph !== undefined
    ? walkLockGraph(set, target.markerEnv, target.extras ?? [], target.groups ?? [])
    : _byMarker(set, target);
  const seen = new Map<string, LockedPackage>();
  const out: SelectedPackage[] = [];
  for (const p of packages) {
    const other = seen.get(p.name);
    if (other !== undefined) {
      throw lockError(
        _placeOf(set, p),
        `${p.name} is selected twice for ${
          describeTarget(target)
        } (${other.version} and ${p.version})`,
        "the lock's markers overlap for this target; lock again with the current tool",
      );
    }
    seen.set(p.name, p);
    out.push(_chooseFile(set, p, target));
  }
  return out;
}

function _chooseFile(set: LockedSet, p: LockedPackage, target: LockTarget): SelectedPackage {
  if (p.files.length === 0) return { package: p };
  const wheel = chooseWheel(p.files, target.tags);
  if (wheel !== undefined) return { package: p, wheel };
  const sdist = p.files.find((f) => !f.filename.endsWith(".whl"));
  if (target.allowSdist === true && sdist !== undefined) return { package: p, sdist };
  const version = p.version === undefined ? "" : ` ${p.version}`;
  throw new PycontainerError(
    `${_placeOf(set, p).file}${
      p.line === undefined ? "" : `:${p.line}`
    }: no wheel of ${p.name}${version} ` +
      `fits the target ${describeTarget(target)}; ${_wheelTagSummary(p.files)}`,
    {
      hint:
        `pin a version of ${p.name} that publishes a wheel for this target, build for another ` +
        "--platform, or build the image on the target platform",
      exitCode: 1,
    },
  );
}

/** Refuses a request for two extras/groups the lock declares mutually exclusive. */
function _checkExclusive(set: LockedSet, target: LockTarget): void {
  const requested = new Set([
    ...(target.extras ?? []).map((e) => `extra ${normalizeName(e)}`),
    ...(target.groups ?? []).map((g) => `group ${normalizeName(g)}`),
  ]);
  for (const items of set.exclusive ?? []) {
    const asked = items.filter((i) => requested.has(i));
    if (asked.length < 2) continue;
    const flags = asked.map((i) => i.replace(/^(extra|group) /, "--$1 ")).join(" or ");
    throw lockError(
      { file: set.path },
      `${
        asked.join(" and ")
      } are declared conflicting ([tool.uv] conflicts), so they can't be installed together`,
      `build with only one of ${flags}`,
    );
  }
}
