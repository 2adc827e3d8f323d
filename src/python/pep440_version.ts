/**
 * PEP 440 versions: parsing, normalised formatting and the total ordering that pip, uv and
 * `packaging.version.Version` use (epoch, release, pre, post, dev, local). Resolution, lock
 * checking and wheel selection all compare versions, so this file must agree with `packaging`
 * exactly; the conformance fixtures in `tests/fixtures/packaging/` check that it does.
 *
 * Specifiers (`>=1,<2`) live in `pep440.ts`, which also re-exports everything here.
 *
 * Numbers are JavaScript numbers: components above 2^53 (16+ digits, unseen on PyPI in
 * practice) lose precision, where Python's integers would not.
 *
 * @module
 */

import { PycontainerError } from "../errors.ts";

/** A pre-release label after normalisation (`alpha` → `a`, `beta` → `b`, `c`/`pre`/`preview` → `rc`). */
export type PreLabel = "a" | "b" | "rc";

/** A parsed PEP 440 version. All numbers are non-negative integers. */
export interface Version {
  /** Epoch, `0` unless written as `N!`. */
  readonly epoch: number;
  /** Release segment, e.g. `[1, 2, 0]` for `1.2.0` (trailing zeros kept as written). */
  readonly release: readonly number[];
  /** Pre-release `[label, number]`, e.g. `["rc", 1]`. */
  readonly pre: readonly [PreLabel, number] | undefined;
  /** Post-release number. */
  readonly post: number | undefined;
  /** Development release number. */
  readonly dev: number | undefined;
  /** Local segment parts, numbers where all-digit, lowercase strings otherwise. */
  readonly local: readonly (string | number)[] | undefined;
}

const _VERSION_RE = new RegExp(
  "^\\s*v?(?:(?:(?<epoch>[0-9]+)!)?(?<release>[0-9]+(?:\\.[0-9]+)*)" +
    "(?<pre>[-_.]?(?<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?<pre_n>[0-9]+)?)?" +
    "(?<post>(?:-(?<post_n1>[0-9]+))|(?:[-_.]?(?<post_l>post|rev|r)[-_.]?(?<post_n2>[0-9]+)?))?" +
    "(?<dev>[-_.]?(?<dev_l>dev)[-_.]?(?<dev_n>[0-9]+)?)?)" +
    "(?:\\+(?<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?\\s*$",
  "i",
);

function _preLabel(label: string): PreLabel {
  const l = label.toLowerCase();
  if (l === "alpha" || l === "a") return "a";
  if (l === "beta" || l === "b") return "b";
  return "rc";
}

/**
 * Parses a PEP 440 version, or returns `undefined` when `s` is not one.
 *
 * @param s The version text, e.g. `"1.0.post1"` or `"v2!1.0-RC1"`.
 * @returns The parsed version, or `undefined`.
 *
 * @example
 * ```ts
 * import { tryParseVersion } from "./pep440_version.ts";
 * console.assert(tryParseVersion("1.0-rc1")?.pre?.[0] === "rc");
 * console.assert(tryParseVersion("not a version") === undefined);
 * ```
 */
export function tryParseVersion(s: string): Version | undefined {
  const m = _VERSION_RE.exec(s);
  if (m === null || m.groups === undefined) return undefined;
  const g = m.groups;
  const num = (x: string | undefined): number => (x === undefined ? 0 : Number(x));
  let post: number | undefined;
  if (g.post !== undefined) post = g.post_n1 !== undefined ? num(g.post_n1) : num(g.post_n2);
  return {
    epoch: num(g.epoch),
    release: (g.release ?? "0").split(".").map(Number),
    pre: g.pre_l === undefined ? undefined : [_preLabel(g.pre_l), num(g.pre_n)],
    post,
    dev: g.dev === undefined ? undefined : num(g.dev_n),
    local: g.local === undefined
      ? undefined
      : g.local.toLowerCase().split(/[-_.]/).map((p) => /^[0-9]+$/.test(p) ? Number(p) : p),
  };
}

/**
 * Parses a PEP 440 version.
 *
 * @param s The version text.
 * @returns The parsed version.
 * @throws {PycontainerError} When `s` is not a valid PEP 440 version.
 *
 * @example
 * ```ts
 * import { parseVersion } from "./pep440_version.ts";
 * console.assert(parseVersion("1.2.3").release[2] === 3);
 * ```
 */
export function parseVersion(s: string): Version {
  const v = tryParseVersion(s);
  if (v === undefined) {
    throw new PycontainerError(`invalid version ${JSON.stringify(s)} (not PEP 440)`, {
      hint: "versions look like 1.2.3, 2.0rc1, 1.0.post1, 1!2.0 or 1.0+local",
      exitCode: 2,
    });
  }
  return v;
}

/**
 * Formats a version in its normalised form, as `str(packaging.version.Version(...))` does.
 *
 * @param v The version (a string is parsed first).
 * @returns The normalised text, e.g. `"1.0rc1.post2.dev3+abc.5"`.
 *
 * @example
 * ```ts
 * import { formatVersion } from "./pep440_version.ts";
 * console.assert(formatVersion("1.0-ALPHA.1") === "1.0a1");
 * ```
 */
export function formatVersion(v: Version | string): string {
  const x = typeof v === "string" ? parseVersion(v) : v;
  let s = x.epoch !== 0 ? `${x.epoch}!` : "";
  s += x.release.join(".");
  if (x.pre !== undefined) s += `${x.pre[0]}${x.pre[1]}`;
  if (x.post !== undefined) s += `.post${x.post}`;
  if (x.dev !== undefined) s += `.dev${x.dev}`;
  if (x.local !== undefined) s += `+${x.local.join(".")}`;
  return s;
}

/**
 * The version without its local segment (`packaging`'s `Version.public`).
 *
 * @param v The version.
 * @returns A copy without `local`.
 *
 * @example
 * ```ts
 * import { parseVersion, publicVersion, formatVersion } from "./pep440_version.ts";
 * console.assert(formatVersion(publicVersion(parseVersion("1.0+cpu"))) === "1.0");
 * ```
 */
export function publicVersion(v: Version): Version {
  return v.local === undefined ? v : { ...v, local: undefined };
}

/**
 * The epoch and release only (`packaging`'s `Version.base_version`).
 *
 * @param v The version.
 * @returns A copy without pre, post, dev and local.
 *
 * @example
 * ```ts
 * import { baseVersion, parseVersion, formatVersion } from "./pep440_version.ts";
 * console.assert(formatVersion(baseVersion(parseVersion("1!2.0rc1.post1"))) === "1!2.0");
 * ```
 */
export function baseVersion(v: Version): Version {
  return {
    epoch: v.epoch,
    release: v.release,
    pre: undefined,
    post: undefined,
    dev: undefined,
    local: undefined,
  };
}

/**
 * Whether the version is a pre-release (has a pre or dev segment).
 *
 * @param v The version.
 * @returns `true` for `1.0a1`, `1.0.dev1`, `1.0.post1.dev1`.
 *
 * @example
 * ```ts
 * import { isPrerelease, parseVersion } from "./pep440_version.ts";
 * console.assert(isPrerelease(parseVersion("2.0.dev3")));
 * ```
 */
export function isPrerelease(v: Version): boolean {
  return v.pre !== undefined || v.dev !== undefined;
}

/**
 * Whether the version is a post-release.
 *
 * @param v The version.
 * @returns `true` when it has a post segment.
 *
 * @example
 * ```ts
 * import { isPostrelease, parseVersion } from "./pep440_version.ts";
 * console.assert(isPostrelease(parseVersion("1.0-1")));
 * ```
 */
export function isPostrelease(v: Version): boolean {
  return v.post !== undefined;
}

function _cmp(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function _cmpRelease(a: readonly number[], b: readonly number[]): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = _cmp(a[i] ?? 0, b[i] ?? 0);
    if (c !== 0) return c;
  }
  return 0;
}

const _PRE_RANK: Record<PreLabel, number> = { a: 0, b: 1, rc: 2 };

/** Pre segment key: dev-only releases sort before any pre-release; finals after all. */
function _preKey(v: Version): [number, number] {
  if (v.pre === undefined && v.post === undefined && v.dev !== undefined) return [-Infinity, 0];
  if (v.pre === undefined) return [Infinity, 0];
  return [_PRE_RANK[v.pre[0]], v.pre[1]];
}

function _cmpLocal(a: Version["local"], b: Version["local"]): number {
  if (a === undefined || b === undefined) {
    return a === b ? 0 : a === undefined ? -1 : 1;
  }
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] as string | number;
    const y = b[i] as string | number;
    if (typeof x === "number" && typeof y === "number") {
      if (x !== y) return _cmp(x, y);
    } else if (typeof x === "number") {
      return 1; // numeric parts sort after alphanumeric ones
    } else if (typeof y === "number") {
      return -1;
    } else if (x !== y) {
      return x < y ? -1 : 1;
    }
  }
  return _cmp(a.length, b.length);
}

/**
 * Compares two versions by PEP 440 ordering.
 *
 * @param a A version or version text.
 * @param b A version or version text.
 * @returns A negative number if `a < b`, zero if equal (`1.0 == 1.0.0`), positive if `a > b`.
 * @throws {PycontainerError} When a string argument is not a valid version.
 *
 * @example
 * ```ts
 * import { compareVersions } from "./pep440_version.ts";
 * const sorted = ["1.0", "1.0.dev1", "1.0a1", "1.0.post1", "1!0.1"].sort(compareVersions);
 * console.assert(sorted.join(" ") === "1.0.dev1 1.0a1 1.0 1.0.post1 1!0.1");
 * ```
 */
export function compareVersions(a: Version | string, b: Version | string): number {
  const x = typeof a === "string" ? parseVersion(a) : a;
  const y = typeof b === "string" ? parseVersion(b) : b;
  let c = _cmp(x.epoch, y.epoch);
  if (c !== 0) return c;
  c = _cmpRelease(x.release, y.release);
  if (c !== 0) return c;
  const px = _preKey(x);
  const py = _preKey(y);
  c = _cmp(px[0], py[0]) || _cmp(px[1], py[1]);
  if (c !== 0) return c;
  c = _cmp(x.post ?? -Infinity, y.post ?? -Infinity);
  if (c !== 0) return c;
  c = _cmp(x.dev ?? Infinity, y.dev ?? Infinity);
  if (c !== 0) return c;
  return _cmpLocal(x.local, y.local);
}
