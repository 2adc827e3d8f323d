/**
 * Compatible wheel tags for a target CPython on Linux, best first, in exactly the order
 * `packaging.tags.sys_tags()` (26.3) yields them when run inside the target:
 *
 * 1. `cp3Y-cp3Y-<platform>` for each platform, then `cp3Y-abi3-*`, then `cp3Y-none-*`;
 * 2. `cp3X-abi3-*` for every older minor version down to `cp32`;
 * 3. `py3Y-none-*`, `py3-none-*`, `py3(Y-1)-none-*` … `py30-none-*` on every platform;
 * 4. `cp3Y-none-any`, then `py3Y-none-any`, `py3-none-any`, `py3(Y-1)-none-any` … `py30-none-any`.
 *
 * Platforms: `linux_<arch>` first, then on glibc `manylinux_2_N_<arch>` from the glibc minor
 * down to 2_17 (2_5 on x86_64/i686), each legacy alias (`manylinux2014` = 2_17, `manylinux2010`
 * = 2_12, `manylinux1` = 2_5) right after its `manylinux_2_N` twin; on musl
 * `musllinux_1_N_<arch>` down to 1_0. Free-threaded builds (`cp313t`) use `abi3t`, not `abi3`.
 *
 * @module
 */

import { PycontainerError } from "../errors.ts";
import { platformMachineFor } from "./marker_environment.ts";

/** The C library of the target. */
export interface Libc {
  /** `glibc` (Debian, Ubuntu, RHEL...) or `musl` (Alpine). */
  family: "glibc" | "musl";
  /** `major.minor`, e.g. `2.36` or `1.2`. */
  version: string;
}

/** The target interpreter and platform. */
export interface TagTarget {
  /** `3.Y` (a longer `3.Y.Z` is accepted; only major.minor matter). */
  pythonVersion: string;
  /** Only CPython is supported. */
  implementation?: "cpython";
  /** OCI architecture (`amd64`, `arm64`, `arm`, `386`, ...) or a Python machine name. */
  arch: string;
  /** OCI variant (for `arm`). */
  variant?: string;
  /** The C library. */
  libc: Libc;
  /** A free-threaded (`--disable-gil`) interpreter, ABI `cp3Yt`. */
  freeThreaded?: boolean;
}

/** Arches for which packaging emits manylinux tags (`_manylinux._have_compatible_abi`). */
const _MANYLINUX_ARCHES = new Set([
  "x86_64",
  "aarch64",
  "ppc64",
  "ppc64le",
  "s390x",
  "loongarch64",
  "riscv64",
  "armv7l",
  "i686",
]);
const _LEGACY: Record<number, string> = {
  17: "manylinux2014",
  12: "manylinux2010",
  5: "manylinux1",
};

function _majorMinor(text: string, what: string): [number, number] {
  const m = /^(\d+)\.(\d+)(?:\.\d+)?/.exec(text.trim());
  if (m === null) {
    throw new PycontainerError(`invalid ${what} version ${JSON.stringify(text)}`, {
      hint: "give it as major.minor, e.g. 3.12 or 2.36",
      exitCode: 2,
    });
  }
  return [Number(m[1]), Number(m[2])];
}

/**
 * The platform tags of a Linux target, best first (`linux_<arch>`, then manylinux or musllinux).
 *
 * @param arch OCI architecture or Python machine name.
 * @param libc The C library family and version.
 * @param variant OCI variant (for `arm`).
 * @returns E.g. `["linux_x86_64", "manylinux_2_36_x86_64", ..., "manylinux1_x86_64"]`.
 * @throws {PycontainerError} For an unknown architecture or a malformed libc version.
 *
 * @example
 * ```ts
 * import { platformTags } from "./tags.ts";
 * const p = platformTags("arm64", { family: "musl", version: "1.2" });
 * console.assert(p.join() === "linux_aarch64,musllinux_1_2_aarch64,musllinux_1_1_aarch64,musllinux_1_0_aarch64");
 * ```
 */
export function platformTags(arch: string, libc: Libc, variant?: string): string[] {
  const machine = platformMachineFor(arch, variant);
  const [major, minor] = _majorMinor(libc.version, libc.family);
  const out = [`linux_${machine}`];
  if (libc.family === "musl") {
    for (let m = minor; m >= 0; m--) out.push(`musllinux_${major}_${m}_${machine}`);
    return out;
  }
  if (!_MANYLINUX_ARCHES.has(machine) || major !== 2) return out;
  const lowest = machine === "x86_64" || machine === "i686" ? 5 : 17;
  for (let m = minor; m >= lowest; m--) {
    out.push(`manylinux_2_${m}_${machine}`);
    const legacy = _LEGACY[m];
    if (legacy !== undefined) out.push(`${legacy}_${machine}`);
  }
  return out;
}

/**
 * The ordered list of wheel tags a target CPython accepts, best first.
 *
 * @param target Python version, architecture and libc.
 * @returns Tags as `python-abi-platform` strings.
 * @throws {PycontainerError} For an unsupported implementation, architecture or version.
 *
 * @example
 * ```ts
 * import { compatibleTags } from "./tags.ts";
 * const tags = compatibleTags({ pythonVersion: "3.12", arch: "amd64", libc: { family: "glibc", version: "2.36" } });
 * console.assert(tags[0] === "cp312-cp312-linux_x86_64");
 * console.assert(tags[1] === "cp312-cp312-manylinux_2_36_x86_64");
 * console.assert(tags.at(-1) === "py30-none-any");
 * ```
 */
export function compatibleTags(target: TagTarget): string[] {
  if (target.implementation !== undefined && target.implementation !== "cpython") {
    throw new PycontainerError(`unsupported Python implementation ${target.implementation}`, {
      hint: "only CPython targets are supported",
      exitCode: 2,
    });
  }
  const [major, minor] = _majorMinor(target.pythonVersion, "Python");
  const platforms = platformTags(target.arch, target.libc, target.variant);
  const interp = `cp${major}${minor}`;
  const threaded = target.freeThreaded === true;
  const stable = threaded ? "abi3t" : "abi3";
  const out: string[] = [];
  const each = (py: string, abi: string) => {
    for (const p of platforms) out.push(`${py}-${abi}-${p}`);
  };
  each(interp, threaded ? `${interp}t` : interp);
  const useStable = major > 3 || (major === 3 && minor >= 2);
  if (useStable) each(interp, stable);
  each(interp, "none");
  if (useStable) { for (let m = minor - 1; m > 1; m--) each(`cp${major}${m}`, stable); }
  const pys = [`py${major}${minor}`, `py${major}`];
  for (let m = minor - 1; m >= 0; m--) pys.push(`py${major}${m}`);
  for (const py of pys) each(py, "none");
  out.push(`${interp}-none-any`);
  for (const py of pys) out.push(`${py}-none-any`);
  return out;
}

const _indexes = new WeakMap<readonly string[], Map<string, number>>();

/**
 * The rank of a tag list as a lookup table (first occurrence wins), cached per array.
 *
 * @param tags An ordered tag list from {@linkcode compatibleTags}.
 * @returns Tag → rank (0 = best).
 *
 * @example
 * ```ts
 * import { tagIndex } from "./tags.ts";
 * console.assert(tagIndex(["a-b-c", "d-e-f"]).get("d-e-f") === 1);
 * ```
 */
export function tagIndex(tags: readonly string[]): Map<string, number> {
  let index = _indexes.get(tags);
  if (index === undefined) {
    index = new Map();
    tags.forEach((t, i) => {
      if (!index?.has(t)) index?.set(t, i);
    });
    _indexes.set(tags, index);
  }
  return index;
}

/**
 * The best (lowest) rank of any of a wheel's tags in the target's tag list.
 *
 * @param tags The target's ordered tags (or a {@linkcode tagIndex}).
 * @param wheelTags The wheel's expanded tags (`WheelFilename.tags`).
 * @returns The rank (0 = most preferred), or `undefined` when the wheel does not fit the target.
 *
 * @example
 * ```ts
 * import { compatibleTags, wheelTagPriority } from "./tags.ts";
 * const tags = compatibleTags({ pythonVersion: "3.12", arch: "arm64", libc: { family: "glibc", version: "2.36" } });
 * console.assert(wheelTagPriority(tags, ["py3-none-any"]) !== undefined);
 * console.assert(wheelTagPriority(tags, ["cp312-cp312-manylinux_2_17_x86_64"]) === undefined);
 * ```
 */
export function wheelTagPriority(
  tags: readonly string[] | ReadonlyMap<string, number>,
  wheelTags: Iterable<string>,
): number | undefined {
  const index = Array.isArray(tags) ? tagIndex(tags) : tags as ReadonlyMap<string, number>;
  let best: number | undefined;
  for (const t of wheelTags) {
    const rank = index.get(t.toLowerCase());
    if (rank !== undefined && (best === undefined || rank < best)) best = rank;
  }
  return best;
}
