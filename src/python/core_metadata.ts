/**
 * Core metadata (`METADATA` in a wheel, `PKG-INFO` in an sdist, and the PEP 658 `.metadata` file
 * an index serves next to a wheel): the email-header format of the core metadata spec, reduced to
 * the fields resolution needs — `Name`, `Version`, `Requires-Dist`, `Requires-Python` and
 * `Provides-Extra`. Parsing is lenient like `email.parser` (unknown fields are kept, folded lines
 * are joined), but the fields we rely on are checked, because a resolver that silently misreads
 * a dependency installs the wrong thing.
 *
 * @module
 */

import { PycontainerError } from "../errors.ts";
import { normalizeName } from "./names.ts";
import { compareVersions, tryParseVersion } from "./pep440.ts";

/** The fields of a core metadata file that resolution uses. */
export interface CoreMetadata {
  /** `Metadata-Version`, e.g. `2.1` (`""` when absent). */
  readonly metadataVersion: string;
  /** `Name` as written. */
  readonly name: string;
  /** `Version` as written. */
  readonly version: string;
  /** Every `Requires-Dist` line, as written (PEP 508 text). */
  readonly requiresDist: readonly string[];
  /** `Requires-Python` (a specifier set), if declared. */
  readonly requiresPython: string | undefined;
  /** `Provides-Extra` names, normalised (PEP 685). */
  readonly providesExtra: readonly string[];
  /** Every header, lowercased name → values in order (for anything else a caller needs). */
  readonly headers: ReadonlyMap<string, readonly string[]>;
}

/**
 * Splits a core metadata document into its headers. The body (the long description after the
 * first blank line) is ignored. Continuation lines (starting with a space or tab) are appended
 * to the previous header with a newline, as `email.parser` does.
 *
 * @param text The file content.
 * @returns Lowercased header name → values in order.
 *
 * @example
 * ```ts
 * import { parseMetadataHeaders } from "./core_metadata.ts";
 * const h = parseMetadataHeaders("Name: a\nRequires-Dist: b\nRequires-Dist: c\n\nbody");
 * console.assert(h.get("requires-dist")?.length === 2);
 * ```
 */
export function parseMetadataHeaders(text: string): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  let last: { values: string[]; index: number } | undefined;
  for (const line of text.replace(/^\uFEFF/, "").split(/\r?\n/)) {
    if (line === "") break;
    if (/^[ \t]/.test(line)) {
      if (last !== undefined) {
        last.values[last.index] = `${last.values[last.index]}\n${line.trim()}`;
      }
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) {
      last = undefined;
      continue;
    }
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    let values = headers.get(key);
    if (values === undefined) headers.set(key, values = []);
    values.push(value);
    last = { values, index: values.length - 1 };
  }
  return headers;
}

/**
 * Parses a `METADATA`/`PKG-INFO` file.
 *
 * @param text The file content (UTF-8 decoded).
 * @param where What it is, for error messages (e.g. `fastapi-0.115.0-py3-none-any.whl.metadata`).
 * @returns The fields resolution needs.
 * @throws {PycontainerError} When `Name` or `Version` is missing.
 *
 * @example
 * ```ts
 * import { parseCoreMetadata } from "./core_metadata.ts";
 * const md = parseCoreMetadata(
 *   "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Python: >=3.9\n" +
 *     "Requires-Dist: idna>=3\nProvides-Extra: Socks\n",
 * );
 * console.assert(md.requiresDist[0] === "idna>=3" && md.providesExtra[0] === "socks");
 * ```
 */
export function parseCoreMetadata(text: string, where = "METADATA"): CoreMetadata {
  const headers = parseMetadataHeaders(text);
  const one = (key: string): string | undefined => headers.get(key)?.[0];
  const name = one("name");
  const version = one("version");
  if (!name || !version) {
    throw new PycontainerError(
      `${where} is not valid core metadata: no ${!name ? "Name" : "Version"} field`,
      { hint: "the index served a broken metadata file; report it to the package's maintainers" },
    );
  }
  const requiresPython = one("requires-python");
  return {
    metadataVersion: one("metadata-version") ?? "",
    name,
    version,
    requiresDist: (headers.get("requires-dist") ?? []).map((r) => r.replace(/\s*\n\s*/g, " ")),
    requiresPython: requiresPython === undefined || requiresPython === ""
      ? undefined
      : requiresPython,
    providesExtra: [...new Set((headers.get("provides-extra") ?? []).map(normalizeName))],
    headers,
  };
}

/**
 * Parses metadata bytes, checking that the project is the one expected.
 *
 * @param bytes The file content.
 * @param expected The PEP 503-normalised project name and the version the file was listed as.
 * @param where What it is, for messages.
 * @returns The parsed metadata.
 * @throws {PycontainerError} When the metadata describes another project or version.
 *
 * @example
 * ```ts
 * import { parseCoreMetadataFor } from "./core_metadata.ts";
 * const bytes = new TextEncoder().encode("Name: Demo_Pkg\nVersion: 1.0.0\n");
 * console.assert(parseCoreMetadataFor(bytes, { name: "demo-pkg", version: "1.0" }).name === "Demo_Pkg");
 * ```
 */
export function parseCoreMetadataFor(
  bytes: Uint8Array,
  expected: { name: string; version: string },
  where = "METADATA",
): CoreMetadata {
  const md = parseCoreMetadata(new TextDecoder().decode(bytes), where);
  if (normalizeName(md.name) !== normalizeName(expected.name)) {
    throw new PycontainerError(
      `${where} describes ${md.name}, not ${expected.name}`,
      { hint: "the index serves metadata that does not match the file; report it to the index" },
    );
  }
  if (!_sameVersion(md.version, expected.version)) {
    throw new PycontainerError(
      `${where} says version ${md.version}, but the file is listed as ${expected.version}`,
      { hint: "the index serves metadata that does not match the file; report it to the index" },
    );
  }
  return md;
}

function _sameVersion(a: string, b: string): boolean {
  const pa = tryParseVersion(a);
  const pb = tryParseVersion(b);
  if (pa === undefined || pb === undefined) {
    return a.trim().toLowerCase() === b.trim().toLowerCase();
  }
  return compareVersions(pa, pb) === 0;
}
