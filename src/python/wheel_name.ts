/**
 * Wheel and sdist file names: `{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl` with
 * compressed tag sets (`py2.py3-none-any`, `cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64`)
 * and `{name}-{version}.tar.gz|.zip`. Parsed like `packaging.utils.parse_wheel_filename` and
 * `parse_sdist_filename`, because the index only gives us file names and the installer must pick
 * the right file for the target from them.
 *
 * @module
 */

import { PycontainerError } from "../errors.ts";
import { normalizeName } from "./names.ts";
import { formatVersion, tryParseVersion, type Version } from "./pep440.ts";

/** A parsed wheel file name. */
export interface WheelFilename {
  /** The file name as given. */
  readonly filename: string;
  /** PEP 503-normalised project name. */
  readonly name: string;
  /** Normalised version text. */
  readonly version: string;
  /** Parsed version. */
  readonly parsedVersion: Version;
  /** Build tag `(number, suffix)`, e.g. `1` / `""` for `-1-`, if present. */
  readonly build: { readonly number: number; readonly suffix: string } | undefined;
  /** Python tags, lowercased, as written (e.g. `["py2", "py3"]`). */
  readonly pythonTags: readonly string[];
  /** ABI tags, lowercased. */
  readonly abiTags: readonly string[];
  /** Platform tags, lowercased. */
  readonly platformTags: readonly string[];
  /** Every `python-abi-platform` combination, lowercased (the expanded tag set). */
  readonly tags: readonly string[];
}

/** A parsed sdist file name. */
export interface SdistFilename {
  /** The file name as given. */
  readonly filename: string;
  /** PEP 503-normalised project name. */
  readonly name: string;
  /** Normalised version text. */
  readonly version: string;
  /** Parsed version. */
  readonly parsedVersion: Version;
}

function _bad(kind: string, filename: string, why: string): PycontainerError {
  return new PycontainerError(`invalid ${kind} file name ${JSON.stringify(filename)}: ${why}`, {
    hint: kind === "wheel"
      ? "wheel names look like name-1.0-py3-none-any.whl (see the binary distribution format spec)"
      : "sdist names look like name-1.0.tar.gz",
    exitCode: 1,
  });
}

/**
 * Expands a compressed tag set (`py2.py3-none-any`) into its tags.
 *
 * @param tag The `python-abi-platform` text.
 * @returns The lowercased tags, or `undefined` when malformed (not three parts, an empty part,
 *   or a python tag that is not an identifier).
 *
 * @example
 * ```ts
 * import { expandTagSet } from "./wheel_name.ts";
 * console.assert(expandTagSet("py2.py3-none-any")?.join() === "py2-none-any,py3-none-any");
 * ```
 */
export function expandTagSet(tag: string): string[] | undefined {
  const parts = tag.toLowerCase().split("-").map((c) => c.split("."));
  if (parts.length !== 3 || parts.some((p) => p.includes(""))) return undefined;
  const [pys, abis, plats] = parts as [string[], string[], string[]];
  if (!pys.every((p) => /^[\p{L}_][\p{L}\p{N}_]*$/u.test(p))) return undefined;
  const out: string[] = [];
  for (const py of pys) {
    for (const abi of abis) for (const plat of plats) out.push(`${py}-${abi}-${plat}`);
  }
  return out;
}

/**
 * Parses a wheel file name.
 *
 * @param filename E.g. `numpy-2.1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl`.
 * @returns Name, version, build tag and tags.
 * @throws {PycontainerError} When the name does not follow the wheel naming rules.
 *
 * @example
 * ```ts
 * import { parseWheelFilename } from "./wheel_name.ts";
 * const w = parseWheelFilename("Pydantic_Core-2.23.4-cp313-cp313-musllinux_1_1_aarch64.whl");
 * console.assert(w.name === "pydantic-core" && w.tags[0] === "cp313-cp313-musllinux_1_1_aarch64");
 * ```
 */
export function parseWheelFilename(filename: string): WheelFilename {
  if (!filename.endsWith(".whl")) throw _bad("wheel", filename, "the extension must be .whl");
  const stem = filename.slice(0, -4);
  const parts = stem.split("-");
  if (parts.length !== 5 && parts.length !== 6) {
    throw _bad("wheel", filename, "expected 5 or 6 dash-separated parts");
  }
  const [rawName = "", rawVersion = ""] = parts;
  if (rawName.includes("__") || !/^[\p{L}\p{N}_.]+$/u.test(rawName)) {
    throw _bad("wheel", filename, `invalid project name ${JSON.stringify(rawName)}`);
  }
  const parsedVersion = tryParseVersion(rawVersion);
  if (parsedVersion === undefined) {
    throw _bad("wheel", filename, `invalid version ${JSON.stringify(rawVersion)}`);
  }
  let build: WheelFilename["build"];
  if (parts.length === 6) {
    const m = /^(\d+)(.*)$/s.exec(parts[2] ?? "");
    if (m === null) throw _bad("wheel", filename, `invalid build tag ${JSON.stringify(parts[2])}`);
    build = { number: Number(m[1]), suffix: m[2] ?? "" };
  }
  const tagText = parts.slice(-3).join("-");
  const tags = expandTagSet(tagText);
  if (tags === undefined) throw _bad("wheel", filename, `invalid tag ${JSON.stringify(tagText)}`);
  const [py = "", abi = "", plat = ""] = tagText.toLowerCase().split("-");
  return {
    filename,
    name: normalizeName(rawName),
    version: formatVersion(parsedVersion),
    parsedVersion,
    build,
    pythonTags: py.split("."),
    abiTags: abi.split("."),
    platformTags: plat.split("."),
    tags: [...new Set(tags)],
  };
}

/**
 * Parses an sdist file name (`.tar.gz` or `.zip`; the version is after the last `-`).
 *
 * @param filename E.g. `foo_bar-2.0rc1.tar.gz`.
 * @returns Name and version.
 * @throws {PycontainerError} When the name is not `name-version.tar.gz|.zip`.
 *
 * @example
 * ```ts
 * import { parseSdistFilename } from "./wheel_name.ts";
 * console.assert(parseSdistFilename("Foo_Bar-2.0rc1.zip").name === "foo-bar");
 * ```
 */
export function parseSdistFilename(filename: string): SdistFilename {
  let stem: string;
  if (filename.endsWith(".tar.gz")) stem = filename.slice(0, -7);
  else if (filename.endsWith(".zip")) stem = filename.slice(0, -4);
  else throw _bad("sdist", filename, "the extension must be .tar.gz or .zip");
  const dash = stem.lastIndexOf("-");
  if (dash < 0) throw _bad("sdist", filename, "no '-' between name and version");
  if (dash === 0) throw _bad("sdist", filename, "empty project name");
  const parsedVersion = tryParseVersion(stem.slice(dash + 1));
  if (parsedVersion === undefined) {
    throw _bad("sdist", filename, `invalid version ${JSON.stringify(stem.slice(dash + 1))}`);
  }
  return {
    filename,
    name: normalizeName(stem.slice(0, dash)),
    version: formatVersion(parsedVersion),
    parsedVersion,
  };
}
