/**
 * PEP 440 version specifiers (`>=1.2,<2`, `~=1.4.5`, `==1.*`, `!=1.3.2`, `===foo`) and the
 * version functions from `pep440_version.ts`, re-exported so callers need one import.
 *
 * Matching follows `packaging` 26 (the reference the conformance fixtures are generated from),
 * including PEP 440's exclusive-comparison rules: `<V` excludes pre-releases of V unless V is one,
 * `>V` excludes V's post-releases unless V is one, and V's local versions. Pre-release policy:
 * with `prereleases` unset, {@linkcode specifierContains} accepts a pre-release only when a
 * specifier in the set names one (`>=2.0b1`) — what a resolver checking one candidate wants —
 * while {@linkcode filterVersions} applies PEP 440's "pre-releases only if nothing else matches".
 *
 * @module
 */

import { PycontainerError } from "../errors.ts";
import {
  compareVersions,
  formatVersion,
  isPrerelease,
  publicVersion,
  tryParseVersion,
  type Version,
} from "./pep440_version.ts";

export * from "./pep440_version.ts";

/** A specifier operator. */
export type SpecifierOperator = "~=" | "==" | "!=" | "<=" | ">=" | "<" | ">" | "===";

/** One clause of a specifier set, e.g. `>=1.0` or `==1.2.*`. */
export interface Specifier {
  /** The operator. */
  readonly operator: SpecifierOperator;
  /** The version text as written after the operator (without `.*`), whitespace trimmed. */
  readonly version: string;
  /** `true` for `==V.*` and `!=V.*`. */
  readonly wildcard: boolean;
  /** The parsed version; `undefined` only for `===` with a non-PEP 440 string. */
  readonly parsed: Version | undefined;
}

/** A comma-separated list of specifiers; a version matches when it matches all of them. */
export interface SpecifierSet {
  /** The clauses, in the order written. Empty means "any version". */
  readonly specifiers: readonly Specifier[];
}

/** Options for {@linkcode specifierContains} and {@linkcode filterVersions}. */
export interface PrereleaseOptions {
  /** `true` accepts pre-releases, `false` rejects them; unset: see the module doc. */
  prereleases?: boolean;
}

const _OP_RE = /^(===|~=|==|!=|<=|>=|<|>)\s*(.*)$/s;
const _WILDCARD_RE = /^v?(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*\.\*$/i;

function _invalid(text: string, why: string): PycontainerError {
  return new PycontainerError(`invalid version specifier ${JSON.stringify(text)}: ${why}`, {
    hint: "specifiers look like >=1.2, <2, ~=1.4.5, ==1.*, !=1.3.2 (PEP 440)",
    exitCode: 2,
  });
}

/**
 * Parses one specifier clause such as `>= 1.0` or `==1.2.*`.
 *
 * @param text The clause.
 * @returns The parsed specifier.
 * @throws {PycontainerError} When the clause is not valid PEP 440.
 *
 * @example
 * ```ts
 * import { parseSpecifier } from "./pep440.ts";
 * console.assert(parseSpecifier("== 1.2.*").wildcard);
 * ```
 */
export function parseSpecifier(text: string): Specifier {
  const m = _OP_RE.exec(text.trim());
  if (m === null) throw _invalid(text, "expected an operator (~=, ==, !=, <=, >=, <, >, ===)");
  const operator = m[1] as SpecifierOperator;
  const version = (m[2] ?? "").trim();
  if (operator === "===") {
    if (/[\s;)]/.test(version)) throw _invalid(text, "arbitrary version contains a space, ; or )");
    return { operator, version, wildcard: false, parsed: tryParseVersion(version) };
  }
  if (/\s/.test(version)) throw _invalid(text, "whitespace inside the version");
  if (version.endsWith(".*")) {
    if ((operator !== "==" && operator !== "!=") || !_WILDCARD_RE.test(version)) {
      throw _invalid(text, "a .* suffix is only allowed after == or != and a plain release");
    }
    const parsed = tryParseVersion(version.slice(0, -2));
    return { operator, version: version.slice(0, -2), wildcard: true, parsed };
  }
  const parsed = tryParseVersion(version);
  if (parsed === undefined) throw _invalid(text, `${JSON.stringify(version)} is not a version`);
  if (parsed.local !== undefined && operator !== "==" && operator !== "!=") {
    throw _invalid(text, `a local version (+...) is only allowed after == or !=`);
  }
  if (operator === "~=" && parsed.release.length < 2) {
    throw _invalid(text, "~= needs at least two release numbers, e.g. ~=1.4");
  }
  return { operator, version, wildcard: false, parsed };
}

/**
 * Parses a comma-separated specifier set; an empty or blank string means "any version".
 *
 * @param s The set, e.g. `">=1.0, !=1.3.*, <2"`.
 * @returns The parsed set.
 * @throws {PycontainerError} When a clause is invalid (the message names the clause).
 *
 * @example
 * ```ts
 * import { parseSpecifierSet } from "./pep440.ts";
 * console.assert(parseSpecifierSet(">=1.0,<2").specifiers.length === 2);
 * ```
 */
export function parseSpecifierSet(s: string): SpecifierSet {
  const parts = s.split(",").map((p) => p.trim()).filter((p) => p !== "");
  return { specifiers: parts.map(parseSpecifier) };
}

/**
 * Formats a specifier set back to text (clauses in the order written, joined by `,`).
 *
 * @param set The set.
 * @returns The text, e.g. `">=1.0,<2"`.
 *
 * @example
 * ```ts
 * import { formatSpecifierSet, parseSpecifierSet } from "./pep440.ts";
 * console.assert(formatSpecifierSet(parseSpecifierSet(" >= 1.0 , < 2")) === ">=1.0,<2");
 * ```
 */
export function formatSpecifierSet(set: SpecifierSet): string {
  return set.specifiers.map((s) => `${s.operator}${s.version}${s.wildcard ? ".*" : ""}`).join(",");
}

/**
 * Whether a set by itself opts in to pre-releases: some clause other than `!=` and `==V.*`
 * names a pre-release version (`packaging`'s `SpecifierSet.prereleases`).
 *
 * @param set The set.
 * @returns `true` when pre-releases are allowed by default.
 *
 * @example
 * ```ts
 * import { impliesPrereleases, parseSpecifierSet } from "./pep440.ts";
 * console.assert(impliesPrereleases(parseSpecifierSet(">=2.0b1")));
 * console.assert(!impliesPrereleases(parseSpecifierSet(">=2.0")));
 * ```
 */
export function impliesPrereleases(set: SpecifierSet): boolean {
  return set.specifiers.some((s) =>
    s.operator !== "!=" && !s.wildcard && s.parsed !== undefined && isPrerelease(s.parsed)
  );
}

function _v(release: readonly number[], epoch: number, dev: number | undefined): Version {
  return { epoch, release, pre: undefined, post: undefined, dev, local: undefined };
}

/** Smallest version of the next prefix: `1.2` → `1.3.dev0`. */
function _nextPrefixDev0(epoch: number, release: readonly number[]): Version {
  const r = [...release];
  r[r.length - 1] = (r[r.length - 1] ?? 0) + 1;
  return _v(r, epoch, 0);
}

function _trim(release: readonly number[]): number[] {
  const r = [...release];
  while (r.length > 0 && r[r.length - 1] === 0) r.pop();
  return r;
}

/** Whether `x` has V's epoch, release and pre-release (so it is V, V+local or V.postN). */
function _samePreFamily(x: Version, v: Version): boolean {
  if (x.epoch !== v.epoch || _trim(x.release).join(".") !== _trim(v.release).join(".")) {
    return false;
  }
  return x.pre?.[0] === v.pre?.[0] && x.pre?.[1] === v.pre?.[1];
}

function _matchOne(s: Specifier, x: Version, raw: string): boolean {
  if (s.operator === "===") return raw.toLowerCase() === s.version.toLowerCase();
  const v = s.parsed as Version;
  if (s.wildcard) {
    const inside = compareVersions(x, _v(v.release, v.epoch, 0)) >= 0 &&
      compareVersions(x, _nextPrefixDev0(v.epoch, v.release)) < 0;
    return s.operator === "==" ? inside : !inside;
  }
  switch (s.operator) {
    case "==":
    case "!=": {
      const eq = compareVersions(v.local === undefined ? publicVersion(x) : x, v) === 0;
      return s.operator === "==" ? eq : !eq;
    }
    case ">=":
      return compareVersions(x, v) >= 0;
    case "<=":
      return compareVersions(publicVersion(x), v) <= 0;
    case "~=":
      return compareVersions(x, v) >= 0 &&
        compareVersions(x, _nextPrefixDev0(v.epoch, v.release.slice(0, -1))) < 0;
    case "<": {
      const bound = isPrerelease(v) ? v : { ...v, dev: 0 };
      return compareVersions(x, bound) < 0;
    }
    case ">": {
      if (v.dev !== undefined) return compareVersions(x, { ...v, dev: v.dev + 1 }) >= 0;
      if (v.post !== undefined) {
        return compareVersions(x, { ...v, post: v.post + 1, dev: 0 }) >= 0;
      }
      return compareVersions(x, v) > 0 && !_samePreFamily(x, v);
    }
  }
}

/**
 * Whether a version satisfies every clause of a specifier set.
 *
 * @param set The specifier set.
 * @param version The candidate (text or parsed). Text that is not PEP 440 can only match `===`.
 * @param opts `prereleases`: `true`/`false` to force; unset accepts a pre-release only when the
 *   set names one.
 * @returns `true` when the version is in the set.
 *
 * @example
 * ```ts
 * import { parseSpecifierSet, specifierContains } from "./pep440.ts";
 * const set = parseSpecifierSet(">=1.0,<2");
 * console.assert(specifierContains(set, "1.5"));
 * console.assert(!specifierContains(set, "2.0"));
 * console.assert(!specifierContains(set, "1.6b1"));
 * console.assert(specifierContains(set, "1.6b1", { prereleases: true }));
 * ```
 */
export function specifierContains(
  set: SpecifierSet,
  version: string | Version,
  opts: PrereleaseOptions = {},
): boolean {
  const parsed = typeof version === "string" ? tryParseVersion(version) : version;
  const raw = typeof version === "string" ? version.trim() : formatVersion(version);
  if (parsed === undefined) {
    return set.specifiers.length > 0 &&
      set.specifiers.every((s) => s.operator === "===" && _matchOne(s, _v([0], 0, 0), raw));
  }
  const pre = opts.prereleases ?? impliesPrereleases(set);
  if (!pre && isPrerelease(parsed)) return false;
  return set.specifiers.every((s) => _matchOne(s, parsed, raw));
}

/**
 * Keeps the versions a set allows, in input order, with PEP 440's default pre-release rule:
 * unless forced by `opts.prereleases` or implied by the set, pre-releases are kept only when no
 * final release matches (`packaging`'s `SpecifierSet.filter`).
 *
 * @param set The specifier set.
 * @param versions Candidate versions (text or parsed); invalid text is dropped unless `===` matches it.
 * @param opts Pre-release policy.
 * @returns The matching candidates.
 *
 * @example
 * ```ts
 * import { filterVersions, parseSpecifierSet } from "./pep440.ts";
 * const set = parseSpecifierSet(">=1.0");
 * console.assert(filterVersions(set, ["0.9", "1.2", "2.0b1"]).join() === "1.2");
 * console.assert(filterVersions(set, ["0.9", "2.0b1"]).join() === "2.0b1");
 * ```
 */
export function filterVersions<T extends string | Version>(
  set: SpecifierSet,
  versions: readonly T[],
  opts: PrereleaseOptions = {},
): T[] {
  const forced = opts.prereleases ?? (impliesPrereleases(set) ? true : undefined);
  const matching = versions.filter((v) => specifierContains(set, v, { prereleases: true }));
  if (forced === true) return matching;
  const parse = (v: string | Version): Version | undefined =>
    typeof v === "string" ? tryParseVersion(v) : v;
  const finals = matching.filter((v) => {
    const p = parse(v);
    return p === undefined || !isPrerelease(p);
  });
  if (forced === false) return finals;
  return finals.some((v) => parse(v) !== undefined) ? finals : matching;
}
