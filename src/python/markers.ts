/**
 * PEP 508 environment markers (`python_version >= "3.9" and sys_platform == "linux"`): parsing
 * and evaluation with `packaging` 26 semantics, so that a dependency is installed in the image
 * exactly when pip or uv would install it there:
 *
 * - `and` binds tighter than `or`; every comparison is evaluated (errors are not short-circuited).
 * - For `python_version`, `python_full_version`, `implementation_version` and `platform_release`
 *   the comparison is a PEP 440 specifier check (pre-releases allowed) when `op + value` is a
 *   valid specifier; otherwise, and for all other markers, it is a string comparison where
 *   `==`/`<=`/`>=` mean equal, `<`/`>` are false, `in`/`not in` test substrings, and `~=`/`===`
 *   are an error.
 * - `extra` values are compared PEP 503-normalised; `extras` and `dependency_groups` (PEP 751
 *   lock files) are sets tested with `"name" in extras`.
 *
 * @module
 */

import { PycontainerError } from "../errors.ts";
import { normalizeName } from "./names.ts";
import { parseSpecifier, specifierContains } from "./pep440.ts";
import { Tokenizer } from "./pep508_tokenizer.ts";
import type { MarkerEnvironment } from "./marker_environment.ts";

export * from "./marker_environment.ts";

/** One side of a comparison: an environment variable or a quoted string. */
export type MarkerOperand =
  | { readonly kind: "variable"; readonly name: string }
  | { readonly kind: "value"; readonly value: string };

/** A comparison operator. */
export type MarkerOp = "===" | "==" | "~=" | "!=" | "<=" | ">=" | "<" | ">" | "in" | "not in";

/** A single comparison such as `python_version >= "3.9"`. */
export interface MarkerComparison {
  /** Left operand. */
  readonly lhs: MarkerOperand;
  /** Operator. */
  readonly op: MarkerOp;
  /** Right operand. */
  readonly rhs: MarkerOperand;
}

/** Comparisons and parenthesised groups joined by `"and"`/`"or"` (as `packaging` stores them). */
export type MarkerList = readonly (MarkerComparison | "and" | "or" | MarkerList)[];

/** A parsed marker expression. */
export interface Marker {
  /** The text it was parsed from. */
  readonly source: string;
  /** The expression. */
  readonly tree: MarkerList;
}

/** Per-requirement inputs that are not part of the platform. */
export interface MarkerExtras {
  /** The extra being evaluated (`extra == "socks"`), default `""`. */
  extra?: string;
  /** Extras requested (PEP 751 `"x" in extras`), default none. */
  extras?: Iterable<string>;
  /** Dependency groups requested (PEP 751 `"x" in dependency_groups`), default none. */
  dependencyGroups?: Iterable<string>;
}

const _VERSION_KEYS = new Set([
  "implementation_version",
  "platform_release",
  "python_full_version",
  "python_version",
]);
const _SET_KEYS = new Set(["extras", "dependency_groups"]);

function _variable(text: string): MarkerOperand {
  const name = text.replace(".", "_");
  return {
    kind: "variable",
    name: name === "python_implementation" ? "platform_python_implementation" : name,
  };
}

function _operand(t: Tokenizer): MarkerOperand {
  if (t.check("VARIABLE")) return _variable(t.read().text);
  if (t.check("QUOTED_STRING")) return { kind: "value", value: t.read().text.slice(1, -1) };
  throw t.syntaxError("expected a marker variable or quoted string");
}

function _op(t: Tokenizer): MarkerOp {
  if (t.check("IN")) {
    t.read();
    return "in";
  }
  if (t.check("NOT")) {
    t.read();
    t.expect("WS", "whitespace after 'not'");
    t.expect("IN", "'in' after 'not'");
    return "not in";
  }
  if (t.check("OP")) return t.read().text as MarkerOp;
  throw t.syntaxError(
    "expected a marker operator, one of <=, <, !=, ==, >=, >, ~=, ===, in, not in",
  );
}

/** Normalises the literal compared with `extra`, or tested for membership in a set marker. */
function _normalizeExtras(c: MarkerComparison): MarkerComparison {
  const { lhs, rhs } = c;
  if (lhs.kind === "variable" && lhs.name === "extra" && rhs.kind === "value") {
    return { ...c, rhs: { kind: "value", value: normalizeName(rhs.value) } };
  }
  if (rhs.kind === "variable" && lhs.kind === "value") {
    if (rhs.name === "extra" || _SET_KEYS.has(rhs.name)) {
      return { ...c, lhs: { kind: "value", value: normalizeName(lhs.value) } };
    }
  }
  return c;
}

function _atom(t: Tokenizer): MarkerComparison | MarkerList {
  t.consume("WS");
  let result: MarkerComparison | MarkerList;
  if (t.check("LEFT_PARENTHESIS", true)) {
    result = t.enclosing("LEFT_PARENTHESIS", "RIGHT_PARENTHESIS", "marker expression", () => {
      t.consume("WS");
      const inner = parseMarkerExpression(t);
      t.consume("WS");
      return inner;
    });
  } else {
    t.consume("WS");
    const lhs = _operand(t);
    t.consume("WS");
    const op = _op(t);
    t.consume("WS");
    const rhs = _operand(t);
    t.consume("WS");
    result = _normalizeExtras({ lhs, op, rhs });
  }
  t.consume("WS");
  return result;
}

/**
 * Parses a marker expression at the tokenizer's position (used by requirement parsing too).
 *
 * @param t The tokenizer, positioned at the start of the marker.
 * @returns The expression; the tokenizer stops after it.
 * @throws {PycontainerError} On a syntax error.
 *
 * @example
 * ```ts
 * import { parseMarkerExpression } from "./markers.ts";
 * import { Tokenizer } from "./pep508_tokenizer.ts";
 * const tree = parseMarkerExpression(new Tokenizer('os_name == "posix"', "marker"));
 * console.assert(tree.length === 1);
 * ```
 */
export function parseMarkerExpression(t: Tokenizer): MarkerList {
  const out: (MarkerComparison | "and" | "or" | MarkerList)[] = [_atom(t)];
  while (t.check("BOOLOP")) {
    const op = t.read().text as "and" | "or";
    out.push(op, _atom(t));
  }
  return out;
}

/**
 * Parses a PEP 508 marker expression.
 *
 * @param source The marker text (what follows `;` in a requirement).
 * @returns The parsed marker.
 * @throws {PycontainerError} With the marker and column when it is not valid.
 *
 * @example
 * ```ts
 * import { parseMarker } from "./markers.ts";
 * const m = parseMarker("sys.platform == 'linux' and python_version >= '3.9'");
 * console.assert(m.tree.length === 3);
 * ```
 */
export function parseMarker(source: string): Marker {
  const t = new Tokenizer(source, "marker");
  const tree = parseMarkerExpression(t);
  t.expect("END", "end of marker expression (and, or, or nothing)");
  return { source, tree };
}

function _formatList(list: MarkerList, first: boolean): string {
  const only = list[0];
  if (list.length === 1 && only !== undefined && typeof only !== "string") {
    return Array.isArray(only) ? _formatList(only as MarkerList, first) : _formatItem(only, first);
  }
  const inner = list.map((m) => _formatItem(m, false)).join(" ");
  return first ? inner : `(${inner})`;
}

function _formatItem(m: MarkerList[number], first: boolean): string {
  if (typeof m === "string") return m;
  if (Array.isArray(m)) return _formatList(m as MarkerList, first);
  const c = m as MarkerComparison;
  const side = (o: MarkerOperand) => (o.kind === "variable" ? o.name : `"${o.value}"`);
  return `${side(c.lhs)} ${c.op} ${side(c.rhs)}`;
}

/**
 * Formats a marker in normal form, as `str(packaging.markers.Marker(...))` does
 * (double quotes, single spaces, canonical variable names, normalised extras).
 *
 * @param marker The marker.
 * @returns The normalised text.
 *
 * @example
 * ```ts
 * import { formatMarker, parseMarker } from "./markers.ts";
 * console.assert(formatMarker(parseMarker("extra=='Foo_Bar'")) === 'extra == "foo-bar"');
 * ```
 */
export function formatMarker(marker: Marker): string {
  return _formatList(marker.tree, true);
}

type _Env = Record<string, string | ReadonlySet<string>>;

function _fail(marker: Marker, why: string): PycontainerError {
  return new PycontainerError(`cannot evaluate marker ${JSON.stringify(marker.source)}: ${why}`, {
    hint: "check the marker against PEP 508; string markers only support ==, !=, in and not in",
    exitCode: 2,
  });
}

function _compare(marker: Marker, c: MarkerComparison, env: _Env): boolean {
  let key: string;
  let lhs: string | ReadonlySet<string> | undefined;
  let rhs: string | ReadonlySet<string> | undefined;
  if (c.lhs.kind === "variable") {
    key = c.lhs.name;
    lhs = env[key];
    rhs = c.rhs.kind === "value" ? c.rhs.value : c.rhs.name;
  } else {
    key = c.rhs.kind === "variable" ? c.rhs.name : c.rhs.value;
    lhs = c.lhs.value;
    rhs = env[key];
  }
  if (lhs === undefined || rhs === undefined) {
    throw _fail(marker, `unknown environment marker ${JSON.stringify(key)}`);
  }
  if (typeof lhs !== "string") {
    throw _fail(marker, `set-valued marker ${key} can only be used as "<name>" in ${key}`);
  }
  if (_SET_KEYS.has(key)) {
    lhs = normalizeName(lhs);
    if (typeof rhs !== "string") rhs = new Set([...rhs].map(normalizeName));
  }
  if (_VERSION_KEYS.has(key) && typeof rhs === "string" && c.op !== "in" && c.op !== "not in") {
    let spec;
    try {
      spec = parseSpecifier(`${c.op}${rhs}`);
    } catch {
      spec = undefined;
    }
    if (spec !== undefined) {
      return specifierContains({ specifiers: [spec] }, lhs, { prereleases: true });
    }
  }
  const has = (container: string | ReadonlySet<string>, item: string) =>
    typeof container === "string" ? container.includes(item) : container.has(item);
  switch (c.op) {
    case "in":
      return has(rhs, lhs);
    case "not in":
      return !has(rhs, lhs);
    case "<":
    case ">":
      return false;
    case "<=":
    case "==":
    case ">=":
      return lhs === rhs;
    case "!=":
      return lhs !== rhs;
    default:
      throw _fail(
        marker,
        `${c.op} is undefined for ${JSON.stringify(lhs)} and ${JSON.stringify(rhs)}`,
      );
  }
}

function _evaluate(marker: Marker, list: MarkerList, env: _Env): boolean {
  const groups: boolean[][] = [[]];
  for (const item of list) {
    if (item === "or") groups.push([]);
    else if (item === "and") continue;
    else {
      const value = Array.isArray(item)
        ? _evaluate(marker, item as MarkerList, env)
        : _compare(marker, item as MarkerComparison, env);
      groups[groups.length - 1]?.push(value);
    }
  }
  return groups.some((g) => g.every(Boolean));
}

/**
 * Evaluates a marker for a target environment.
 *
 * @param marker The marker, parsed or as text.
 * @param env The target's environment (see {@linkcode markerEnvironmentFor}).
 * @param extras The extra being evaluated and the requested extras/dependency groups.
 * @returns Whether the marker holds.
 * @throws {PycontainerError} On a syntax error or an undefined comparison (e.g. `os_name ~= "x"`).
 *
 * @example
 * ```ts
 * import { evaluateMarker, markerEnvironmentFor } from "./markers.ts";
 * const env = markerEnvironmentFor({ pythonFullVersion: "3.12.7", arch: "amd64" });
 * console.assert(evaluateMarker('python_version >= "3.9" and platform_machine == "x86_64"', env));
 * console.assert(evaluateMarker('extra == "Socks"', env, { extra: "socks" }));
 * ```
 */
export function evaluateMarker(
  marker: Marker | string,
  env: MarkerEnvironment,
  extras: MarkerExtras = {},
): boolean {
  const m = typeof marker === "string" ? parseMarker(marker) : marker;
  const full = env.python_full_version;
  const e: _Env = {
    ...(env as unknown as Record<string, string>),
    python_full_version: full.endsWith("+") ? `${full}local` : full,
    extra: extras.extra ? normalizeName(extras.extra) : "",
    extras: new Set(extras.extras ?? []),
    dependency_groups: new Set(extras.dependencyGroups ?? []),
  };
  return _evaluate(m, m.tree, e);
}
