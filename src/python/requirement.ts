/**
 * PEP 508 dependency specifiers: `name[extra1,extra2] (>=1,<2) ; marker` and
 * `name[extra] @ url ; marker`, parsed with the same grammar `packaging.requirements.Requirement`
 * uses (so what pip rejects, we reject), with errors that quote the requirement and the column.
 *
 * @module
 */

import { PycontainerError } from "../errors.ts";
import {
  evaluateMarker,
  formatMarker,
  type Marker,
  type MarkerEnvironment,
  parseMarkerExpression,
} from "./markers.ts";
import { normalizeName } from "./names.ts";
import { parseSpecifierSet, type SpecifierSet } from "./pep440.ts";
import { Tokenizer } from "./pep508_tokenizer.ts";

/** A parsed PEP 508 requirement. */
export interface Requirement {
  /** The project name as written. */
  readonly name: string;
  /** The PEP 503-normalised name, for comparisons and index lookups. */
  readonly normalizedName: string;
  /** Requested extras, as written, without duplicates, in order. */
  readonly extras: readonly string[];
  /** Version constraints (empty for "any version" and for URL requirements). */
  readonly specifier: SpecifierSet;
  /** The direct reference after `@`, if any. */
  readonly url: string | undefined;
  /** The environment marker after `;`, if any. */
  readonly marker: Marker | undefined;
  /** The original text. */
  readonly source: string;
}

function _extras(t: Tokenizer): string[] {
  if (!t.check("LEFT_BRACKET", true)) return [];
  return t.enclosing("LEFT_BRACKET", "RIGHT_BRACKET", "extras", () => {
    t.consume("WS");
    const extras: string[] = [];
    if (t.check("IDENTIFIER")) {
      extras.push(t.read().text);
      while (true) {
        t.consume("WS");
        if (t.check("IDENTIFIER", true)) {
          throw t.syntaxError("expected a comma between extra names");
        }
        if (!t.check("COMMA")) break;
        t.read();
        t.consume("WS");
        extras.push(t.expect("IDENTIFIER", "an extra name after the comma").text);
      }
    }
    t.consume("WS");
    return extras;
  });
}

function _versionMany(t: Tokenizer): string {
  let out = "";
  while (t.check("SPECIFIER")) {
    const start = t.position;
    const spec = t.read().text;
    out += spec;
    if (t.check("VERSION_PREFIX_TRAIL", true)) {
      const eq = spec.startsWith("!=") || (spec.startsWith("==") && !spec.startsWith("==="));
      throw t.syntaxError(
        eq
          ? ".* suffix cannot be used with pre-release, post-release, dev or local versions"
          : ".* suffix can only be used with `==` or `!=` operators",
        start,
      );
    }
    if (t.check("VERSION_LOCAL_LABEL_TRAIL", true)) {
      throw t.syntaxError("a local version label can only be used with `==` or `!=`", start);
    }
    t.consume("WS");
    if (!t.check("COMMA")) break;
    out += t.read().text;
    t.consume("WS");
  }
  return out;
}

function _marker(t: Tokenizer, expected: string): Marker {
  if (!t.check("SEMICOLON")) throw t.syntaxError(`expected ${expected} or end`);
  t.read();
  const start = t.position;
  const tree = parseMarkerExpression(t);
  const source = t.source.slice(start, t.position).trim();
  t.consume("WS");
  return { source, tree };
}

/**
 * Parses a PEP 508 requirement.
 *
 * @param text The requirement, e.g. `uvicorn[standard]>=0.30; python_version >= "3.9"`.
 * @param where Where it was found, for the error message (e.g. `pyproject.toml`).
 * @returns The parsed requirement.
 * @throws {PycontainerError} Quoting the requirement and the column where it stopped making sense.
 *
 * @example
 * ```ts
 * import { parseRequirement } from "./requirement.ts";
 * const r = parseRequirement('Uvicorn[standard] >=0.30 ; python_version >= "3.9"');
 * console.assert(r.normalizedName === "uvicorn" && r.extras[0] === "standard");
 * console.assert(r.specifier.specifiers[0]?.operator === ">=");
 * const u = parseRequirement("pkg @ https://example.com/pkg-1.0-py3-none-any.whl");
 * console.assert(u.url === "https://example.com/pkg-1.0-py3-none-any.whl");
 * ```
 */
export function parseRequirement(text: string, where?: string): Requirement {
  try {
    return _parse(text);
  } catch (e) {
    if (where === undefined || !(e instanceof PycontainerError)) throw e;
    throw new PycontainerError(`${where}: ${e.message}`, {
      ...(e.hint === undefined ? {} : { hint: e.hint }),
      exitCode: e.exitCode,
      cause: e,
    });
  }
}

function _parse(text: string): Requirement {
  const t = new Tokenizer(text, "requirement");
  t.consume("WS");
  const name = t.expect("IDENTIFIER", "a package name at the start").text;
  t.consume("WS");
  const extras = [...new Set(_extras(t))];
  t.consume("WS");
  let url: string | undefined;
  let spec = "";
  let marker: Marker | undefined;
  if (t.check("AT")) {
    t.read();
    t.consume("WS");
    url = t.expect("URL", "a URL after @").text;
    if (!t.check("END", true)) {
      t.expect("WS", "whitespace after the URL (before ;)");
      if (!t.check("END", true)) marker = _marker(t, "a semicolon (after URL and whitespace)");
    }
  } else {
    spec = t.enclosing("LEFT_PARENTHESIS", "RIGHT_PARENTHESIS", "version specifier", () => {
      t.consume("WS");
      const s = _versionMany(t);
      t.consume("WS");
      return s;
    });
    t.consume("WS");
    if (!t.check("END", true)) {
      marker = _marker(
        t,
        spec
          ? "a comma (within version specifier) or a semicolon (after version specifier)"
          : "a semicolon (after name with no version specifier)",
      );
    }
  }
  t.expect("END", "end of requirement");
  let specifier: SpecifierSet;
  try {
    specifier = parseSpecifierSet(spec);
  } catch (e) {
    throw new PycontainerError(
      `invalid requirement ${JSON.stringify(text)}: ${e instanceof Error ? e.message : String(e)}`,
      { hint: "use PEP 440 specifiers such as >=1.0,<2", exitCode: 2, cause: e },
    );
  }
  return {
    name,
    normalizedName: normalizeName(name),
    extras,
    specifier,
    url,
    marker,
    source: text,
  };
}

/**
 * Formats a requirement in a normal form (`name[a,b]>=1,<2 ; marker` or `name @ url ; marker`),
 * suitable for lock files and messages.
 *
 * @param r The requirement.
 * @returns The text.
 *
 * @example
 * ```ts
 * import { formatRequirement, parseRequirement } from "./requirement.ts";
 * console.assert(formatRequirement(parseRequirement("a [x] ( >=1 )")) === "a[x]>=1");
 * ```
 */
export function formatRequirement(r: Requirement): string {
  let s = r.name;
  if (r.extras.length > 0) s += `[${r.extras.join(",")}]`;
  if (r.url !== undefined) s += ` @ ${r.url}`;
  else {
    s += r.specifier.specifiers.map((x) => `${x.operator}${x.version}${x.wildcard ? ".*" : ""}`)
      .join(",");
  }
  if (r.marker !== undefined) s += `${r.url !== undefined ? " " : ""}; ${formatMarker(r.marker)}`;
  return s;
}

/**
 * Whether a dependency applies in an environment, the way pip reads `Requires-Dist`: without
 * requested extras the marker is evaluated with `extra == ""`; with extras it applies when the
 * marker holds for any one of them.
 *
 * @param r The requirement (e.g. one `Requires-Dist` line).
 * @param env The target's marker environment.
 * @param extras The extras requested of the package that declared it.
 * @returns `true` when it must be installed.
 * @throws {PycontainerError} When the marker cannot be evaluated.
 *
 * @example
 * ```ts
 * import { markerEnvironmentFor } from "./markers.ts";
 * import { parseRequirement, requirementApplies } from "./requirement.ts";
 * const env = markerEnvironmentFor({ pythonFullVersion: "3.12.7", arch: "amd64" });
 * const r = parseRequirement('PySocks!=1.5.7,>=1.5.6; extra == "socks"');
 * console.assert(!requirementApplies(r, env));
 * console.assert(requirementApplies(r, env, ["Socks"]));
 * ```
 */
export function requirementApplies(
  r: Requirement,
  env: MarkerEnvironment,
  extras: Iterable<string> = [],
): boolean {
  const marker = r.marker;
  if (marker === undefined) return true;
  const list = [...extras];
  if (list.length === 0) return evaluateMarker(marker, env, { extra: "" });
  return list.some((extra) => evaluateMarker(marker, env, { extra }));
}
