/**
 * From a project's file list to the versions the resolver may choose for one target: a version
 * is a candidate only when it has a wheel whose tags fit the target (the best-ranked wheel is
 * kept) and whose `requires-python` admits the target interpreter. Versions that fall out are
 * remembered with the reason — "only an sdist", "no wheel for this platform", "needs Python
 * >=3.13" — so that a failed resolution can say why a version that exists was not used.
 *
 * @module
 */

import type { IndexFile } from "./index_page.ts";
import {
  compareVersions,
  impliesPrereleases,
  isPrerelease,
  parseSpecifierSet,
  specifierContains,
  type SpecifierSet,
  type Version,
} from "./pep440.ts";
import { tagIndex, wheelTagPriority } from "./tags.ts";
import { parseSdistFilename, parseWheelFilename } from "./wheel_name.ts";

/** One version the resolver may pick, with the file it would install. */
export interface Candidate {
  /** Normalised project name. */
  readonly name: string;
  /** Normalised version text. */
  readonly version: string;
  /** Parsed version. */
  readonly parsed: Version;
  /** The best wheel of this version for the target. */
  readonly wheel: IndexFile;
  /** The wheel's rank in the target's tag list (0 = best). */
  readonly tagRank: number;
  /** `false`, or the yank reason when every fitting wheel of the version is yanked. */
  readonly yanked: false | string;
}

/** Why a version that exists is not a candidate. */
export interface SkippedVersion {
  /** The version. */
  readonly version: string;
  /** `sdist-only`, `no-wheel-for-target` or `requires-python`. */
  readonly reason: "sdist-only" | "no-wheel-for-target" | "requires-python";
  /** Detail for messages, e.g. the requires-python specifier or a wheel's platform tags. */
  readonly detail: string;
}

/** A project's candidates for one target. */
export interface ProjectCandidates {
  /** Normalised project name. */
  readonly name: string;
  /** Candidates, newest first. */
  readonly candidates: readonly Candidate[];
  /** Versions that exist but can't be used, newest first. */
  readonly skipped: readonly SkippedVersion[];
}

/** The parts of the target that decide which files fit. */
export interface CandidateTarget {
  /** Compatible wheel tags, best first (`compatibleTags`). */
  readonly tags: readonly string[];
  /** The interpreter's full version, e.g. `3.11.7`. */
  readonly pythonFullVersion: string;
}

function _requiresPythonOk(spec: string | undefined, python: string): boolean {
  if (spec === undefined) return true;
  try {
    return specifierContains(parseSpecifierSet(spec), python, { prereleases: true });
  } catch {
    return true; // pip ignores invalid requires-python metadata on index files
  }
}

/**
 * Works out the candidates of a project for a target.
 *
 * @param name The normalised project name.
 * @param files The files the index lists.
 * @param target Tags and interpreter version.
 * @returns Candidates (newest first) and skipped versions.
 *
 * @example
 * ```ts
 * import { projectCandidates } from "./resolver_candidates.ts";
 * const file = (filename: string) => ({ filename, url: `https://x/${filename}`, hashes: {},
 *   requiresPython: undefined, yanked: false as const, size: undefined, uploadTime: undefined,
 *   coreMetadata: false as const });
 * const pc = projectCandidates("demo", [file("demo-2.0.tar.gz"), file("demo-1.0-py3-none-any.whl")],
 *   { tags: ["py3-none-any"], pythonFullVersion: "3.12.1" });
 * console.assert(pc.candidates[0]!.version === "1.0" && pc.skipped[0]!.reason === "sdist-only");
 * ```
 */
export function projectCandidates(
  name: string,
  files: readonly IndexFile[],
  target: CandidateTarget,
): ProjectCandidates {
  const index = tagIndex(target.tags);
  interface _Version {
    parsed: Version;
    best?: { file: IndexFile; rank: number; build: number; yanked: boolean };
    sdist: boolean;
    otherWheels: string[];
    pythonBlocked: string | undefined;
  }
  const versions = new Map<string, _Version>();
  const slot = (version: string, parsed: Version): _Version => {
    let v = versions.get(version);
    if (v === undefined) {
      versions.set(
        version,
        v = { parsed, sdist: false, otherWheels: [], pythonBlocked: undefined },
      );
    }
    return v;
  };
  for (const file of files) {
    if (file.filename.endsWith(".whl")) {
      let wheel;
      try {
        wheel = parseWheelFilename(file.filename);
      } catch {
        continue;
      }
      if (wheel.name !== name) continue;
      const v = slot(wheel.version, wheel.parsedVersion);
      const rank = wheelTagPriority(index, wheel.tags);
      if (rank === undefined) {
        v.otherWheels.push(wheel.platformTags.join("."));
        continue;
      }
      if (!_requiresPythonOk(file.requiresPython, target.pythonFullVersion)) {
        v.pythonBlocked ??= file.requiresPython;
        continue;
      }
      const yanked = file.yanked !== false;
      const build = wheel.build?.number ?? -1;
      const b = v.best;
      if (
        b === undefined || (b.yanked && !yanked) ||
        (b.yanked === yanked && (rank < b.rank || (rank === b.rank && build > b.build)))
      ) {
        v.best = { file, rank, build, yanked };
      }
    } else {
      try {
        const sdist = parseSdistFilename(file.filename);
        if (sdist.name === name) slot(sdist.version, sdist.parsedVersion).sdist = true;
      } catch {
        // not a distribution we understand (e.g. .exe, .egg): ignore
      }
    }
  }
  const ordered = [...versions.entries()].sort((a, b) => compareVersions(b[1].parsed, a[1].parsed));
  const candidates: Candidate[] = [];
  const skipped: SkippedVersion[] = [];
  for (const [version, v] of ordered) {
    if (v.best) {
      candidates.push({
        name,
        version,
        parsed: v.parsed,
        wheel: v.best.file,
        tagRank: v.best.rank,
        yanked: v.best.yanked ? (v.best.file.yanked || "") : false,
      });
    } else if (v.pythonBlocked !== undefined) {
      skipped.push({ version, reason: "requires-python", detail: v.pythonBlocked });
    } else if (v.otherWheels.length > 0) {
      skipped.push({
        version,
        reason: "no-wheel-for-target",
        detail: [...new Set(v.otherWheels)].slice(0, 4).join(", "),
      });
    } else if (v.sdist) {
      skipped.push({ version, reason: "sdist-only", detail: "" });
    }
  }
  return { name, candidates, skipped };
}

/**
 * The candidates a set of requirements allows, newest first: every specifier must match, a
 * yanked version only when some specifier pins exactly it (PEP 592), and pre-releases per
 * `prereleases` — `if-necessary` takes them only when a specifier names one or no final release
 * matches.
 *
 * @param candidates A project's candidates, newest first.
 * @param specifiers Every requirement's specifier set.
 * @param options Versions ruled out by backtracking, and the pre-release policy.
 * @returns The allowed candidates, newest first.
 *
 * @example
 * ```ts
 * import { allowedCandidates, projectCandidates } from "./resolver_candidates.ts";
 * import { parseSpecifierSet } from "./pep440.ts";
 * const file = (filename: string) => ({ filename, url: `https://x/${filename}`, hashes: {},
 *   requiresPython: undefined, yanked: false as const, size: undefined, uploadTime: undefined,
 *   coreMetadata: false as const });
 * const pc = projectCandidates("demo",
 *   ["demo-2.0b1-py3-none-any.whl", "demo-1.1-py3-none-any.whl", "demo-1.0-py3-none-any.whl"].map(file),
 *   { tags: ["py3-none-any"], pythonFullVersion: "3.12.1" });
 * const ok = allowedCandidates(pc.candidates, [parseSpecifierSet(">=1.0")], { excluded: new Set(["1.1"]) });
 * console.assert(ok.map((c) => c.version).join() === "1.0");
 * ```
 */
export function allowedCandidates(
  candidates: readonly Candidate[],
  specifiers: readonly SpecifierSet[],
  options: {
    excluded?: { has(version: string): boolean };
    prereleases?: "allow" | "if-necessary" | "disallow";
  } = {},
): Candidate[] {
  const policy = options.prereleases ?? "if-necessary";
  const exactPins = specifiers.flatMap((s) =>
    s.specifiers.filter((x) => (x.operator === "==" && !x.wildcard) || x.operator === "===")
  );
  const matching = candidates.filter((cand) =>
    !options.excluded?.has(cand.version) &&
    specifiers.every((s) => specifierContains(s, cand.parsed, { prereleases: true })) &&
    (cand.yanked === false ||
      exactPins.some((x) =>
        specifierContains({ specifiers: [x] }, cand.parsed, { prereleases: true })
      ))
  );
  if (policy === "allow" || specifiers.some(impliesPrereleases)) return matching;
  const finals = matching.filter((cand) => !isPrerelease(cand.parsed));
  return finals.length > 0 || policy === "disallow" ? finals : matching;
}
