/**
 * What a wheel says about itself in its `.dist-info` directory: which directory that is (exactly
 * one at the top level), the `WHEEL` file (`Wheel-Version`, `Root-Is-Purelib`) and the name and
 * version from `METADATA`. Both files use the email header format (RFC 822 style `Key: value`
 * lines, indented continuation lines, a blank line before any body).
 *
 * The installer takes the distribution's name and version from here rather than from the wheel's
 * file name, so it works for wheels saved under any name.
 *
 * @module
 */
import { PycontainerError } from "../errors.ts";

/** The dist-info directory of a wheel and the matching `.data` directory. */
export interface DistInfoDirs {
  /** `{name}-{version}` as the directory spells it, e.g. `six-1.16.0`. */
  readonly prefix: string;
  /** `{prefix}.dist-info`. */
  readonly distInfo: string;
  /** `{prefix}.data`. */
  readonly data: string;
}

/** The parsed `WHEEL` file. */
export interface WheelFileInfo {
  /** E.g. `1.0`. */
  readonly wheelVersion: string;
  /** Whether the archive root goes to purelib (true) or platlib (false). */
  readonly rootIsPurelib: boolean;
  /** The `Tag` lines, e.g. `py3-none-any`. */
  readonly tags: readonly string[];
}

/**
 * Finds the single top-level `.dist-info` directory among archive member names.
 *
 * @param names Archive member names.
 * @param label The wheel, for messages.
 * @returns The directory names.
 * @throws {PycontainerError} When there is none or more than one.
 *
 * @example
 * ```ts
 * import { findDistInfo } from "./dist_info.ts";
 * const d = findDistInfo(["six.py", "six-1.16.0.dist-info/RECORD"], "six.whl");
 * console.assert(d.prefix === "six-1.16.0" && d.data === "six-1.16.0.data");
 * ```
 */
export function findDistInfo(names: Iterable<string>, label: string): DistInfoDirs {
  const found = new Set<string>();
  for (const name of names) {
    const slash = name.indexOf("/");
    const top = slash < 0 ? undefined : name.slice(0, slash);
    if (top?.endsWith(".dist-info")) found.add(top);
  }
  if (found.size !== 1) {
    throw new PycontainerError(
      found.size === 0
        ? `${label} has no .dist-info directory`
        : `${label} has ${found.size} .dist-info directories (${[...found].sort().join(", ")})`,
      { hint: "this is not a valid wheel; use another build of this package" },
    );
  }
  const distInfo = [...found][0]!;
  const prefix = distInfo.slice(0, -".dist-info".length);
  return { prefix, distInfo, data: `${prefix}.data` };
}

/**
 * Parses email-style headers (`WHEEL`, `METADATA`) up to the first blank line.
 *
 * @param text The file content.
 * @returns Values per lowercased header name, in order.
 *
 * @example
 * ```ts
 * import { parseEmailHeaders } from "./dist_info.ts";
 * const h = parseEmailHeaders("Name: six\nTag: py2-none-any\nTag: py3-none-any\n\nbody");
 * console.assert(h.get("tag")?.length === 2 && h.get("name")?.[0] === "six");
 * ```
 */
export function parseEmailHeaders(text: string): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  let last: { key: string; index: number } | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "") break;
    if (/^[ \t]/.test(line)) {
      if (last) {
        const values = headers.get(last.key)!;
        values[last.index] = `${values[last.index]}\n${line.trim()}`;
      }
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const values = headers.get(key) ?? [];
    values.push(line.slice(colon + 1).trim());
    headers.set(key, values);
    last = { key, index: values.length - 1 };
  }
  return headers;
}

/**
 * Parses and checks a `WHEEL` file: major `Wheel-Version` must be 1 (the spec says abort if it
 * is greater; a greater minor version is accepted).
 *
 * @param text The file content.
 * @param label The wheel, for messages.
 * @returns The wheel format facts.
 * @throws {PycontainerError} When `Wheel-Version` is missing or unsupported.
 *
 * @example
 * ```ts
 * import { parseWheelFile } from "./dist_info.ts";
 * const w = parseWheelFile("Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n", "x.whl");
 * console.assert(w.rootIsPurelib && w.tags[0] === "py3-none-any");
 * ```
 */
export function parseWheelFile(text: string, label: string): WheelFileInfo {
  const h = parseEmailHeaders(text);
  const wheelVersion = h.get("wheel-version")?.[0] ?? "";
  const major = /^(\d+)\.\d+$/.exec(wheelVersion)?.[1];
  if (major === undefined) {
    throw new PycontainerError(`${label}: WHEEL has no valid Wheel-Version ("${wheelVersion}")`, {
      hint: "this is not a valid wheel; use another build of this package",
    });
  }
  if (major !== "1") {
    throw new PycontainerError(
      `${label} uses wheel format ${wheelVersion}, which is not supported`,
      {
        hint: "pycontainer installs wheel format 1.x; use an older build of this package",
      },
    );
  }
  return {
    wheelVersion,
    rootIsPurelib: (h.get("root-is-purelib")?.[0] ?? "").toLowerCase() === "true",
    tags: h.get("tag") ?? [],
  };
}

/**
 * Reads the distribution name and version from `METADATA`.
 *
 * @param text The file content.
 * @param label The wheel, for messages.
 * @returns `{ name, version }` as written (not normalised).
 * @throws {PycontainerError} When either is missing.
 *
 * @example
 * ```ts
 * import { parseMetadataNameVersion } from "./dist_info.ts";
 * const d = parseMetadataNameVersion("Metadata-Version: 2.1\nName: MarkupSafe\nVersion: 2.1.5\n", "m.whl");
 * console.assert(d.name === "MarkupSafe" && d.version === "2.1.5");
 * ```
 */
export function parseMetadataNameVersion(
  text: string,
  label: string,
): { name: string; version: string } {
  const h = parseEmailHeaders(text);
  const name = h.get("name")?.[0];
  const version = h.get("version")?.[0];
  if (!name || !version) {
    throw new PycontainerError(`${label}: METADATA has no ${name ? "Version" : "Name"}`, {
      hint: "this is not a valid wheel; use another build of this package",
    });
  }
  return { name, version };
}

/**
 * Normalises a project name as PEP 503 does (lowercase, runs of `-_.` become `-`).
 *
 * @param name A project name.
 * @returns The normalised name.
 *
 * @example
 * ```ts
 * import { canonicalizeName } from "./dist_info.ts";
 * console.assert(canonicalizeName("Markup_Safe") === "markup-safe");
 * ```
 */
export function canonicalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}
