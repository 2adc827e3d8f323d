/**
 * One `.dockerignore` pattern, with Docker's exact matching semantics (moby/patternmatcher, as
 * used by BuildKit and the classic builder): a pattern is cleaned like Go's `filepath.Clean`, then
 * classified as an exact match, a prefix match (`dir/**`), a suffix match (`**` + literal text,
 * e.g. `**` `/foo`) or a regular expression translated from the glob:
 *
 * - `*` matches any run of characters except `/`; `?` one character except `/`;
 * - `**` matches any number of path segments (including none), and `**` + `/` is the same as `**`;
 * - `[...]` character classes are passed through (so `[^a]` negates; `!` is literal);
 * - `\x` escapes `x`; `.+()|{}$` are literal.
 *
 * Patterns are matched against the whole cleaned, slash-separated path relative to the context,
 * and (when the caller has no per-parent results) against each of the path's parent directories.
 *
 * The translated expression is run by JavaScript's RegExp (without the `u` flag), whose syntax
 * agrees with Go's RE2 for everything the translation can produce; one known difference: `?`
 * matches one UTF-16 code unit, so a character outside the Basic Multilingual Plane needs `??`.
 *
 * @module
 */

/** How a compiled pattern is matched. */
export type PatternKind = "exact" | "prefix" | "suffix" | "regexp";

/** A compiled ignore pattern. */
export interface IgnorePattern {
  /** The cleaned pattern text, without the leading `!`. */
  readonly text: string;
  /** True for a `!` exception (re-includes what earlier patterns excluded). */
  readonly exclusion: boolean;
  /** How the pattern matches. */
  readonly kind: PatternKind;
  /** The translated regular expression (only for `kind === "regexp"`). */
  readonly regexp: RegExp | undefined;
}

const _REGEXP_LITERAL_ESCAPES = new Set([".", "+", "(", ")", "|", "{", "}", "$"]);

/**
 * Cleans a slash-separated path like Go's `path.Clean`: collapses `//`, removes `.` segments,
 * resolves `..` lexically, drops a trailing slash; the empty path becomes `.`.
 *
 * @param p The path.
 * @returns The cleaned path.
 *
 * @example
 * ```ts
 * import { cleanPath } from "./ignore_pattern.ts";
 * console.assert(cleanPath("./a//b/../c/") === "a/c");
 * console.assert(cleanPath("/../x") === "/x");
 * ```
 */
export function cleanPath(p: string): string {
  if (p === "") return ".";
  const rooted = p.startsWith("/");
  const out: string[] = [];
  for (const seg of p.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!rooted) out.push("..");
      continue;
    }
    out.push(seg);
  }
  const joined = out.join("/");
  if (rooted) return "/" + joined;
  return joined === "" ? "." : joined;
}

/**
 * Compiles one pattern line (already trimmed, comments removed) into an {@linkcode IgnorePattern}.
 *
 * @param line The pattern, optionally starting with `!`.
 * @returns The compiled pattern.
 * @throws {SyntaxError} when the pattern is `!` alone or is not a valid glob (e.g. an unclosed `[`).
 *
 * @example
 * ```ts
 * import { compilePattern } from "./ignore_pattern.ts";
 * const p = compilePattern("!docs/**");
 * console.assert(p.exclusion && p.kind === "prefix");
 * ```
 */
export function compilePattern(line: string): IgnorePattern {
  let text = line.trim();
  let exclusion = false;
  if (text.startsWith("!")) {
    text = text.slice(1).trim();
    if (text === "") throw new SyntaxError('illegal exclusion pattern: "!"');
    exclusion = true;
  }
  text = cleanPath(text);
  if (text.length > 1 && text.startsWith("/")) text = text.slice(1);
  const { kind, source } = _translate(text);
  let regexp: RegExp | undefined;
  try {
    const re = new RegExp(source);
    if (kind === "regexp") regexp = re;
  } catch (cause) {
    throw new SyntaxError(`syntax error in pattern "${text}"`, { cause });
  }
  return { text, exclusion, kind, regexp };
}

/**
 * Tests one compiled pattern against a cleaned relative path (no parent-directory logic).
 *
 * @param pattern The compiled pattern.
 * @param path A cleaned, slash-separated path relative to the context, e.g. `src/app.py`.
 * @returns Whether the pattern matches the path itself.
 *
 * @example
 * ```ts
 * import { compilePattern, matchPattern } from "./ignore_pattern.ts";
 * console.assert(matchPattern(compilePattern("**\/*.pyc"), "pkg/mod.pyc"));
 * console.assert(!matchPattern(compilePattern("*.pyc"), "pkg/mod.pyc"));
 * ```
 */
export function matchPattern(pattern: IgnorePattern, path: string): boolean {
  switch (pattern.kind) {
    case "exact":
      return path === pattern.text;
    case "prefix":
      return path.startsWith(pattern.text.slice(0, -2));
    case "suffix": {
      const suffix = pattern.text.slice(2);
      if (path.endsWith(suffix)) return true;
      return suffix.startsWith("/") && path === suffix.slice(1);
    }
    case "regexp":
      return pattern.regexp !== undefined && pattern.regexp.test(path);
  }
}

/** Translates a cleaned glob into a JS regexp source and a match kind, as patternmatcher does. */
function _translate(pattern: string): { kind: PatternKind; source: string } {
  const chars = Array.from(pattern);
  let source = "^";
  let kind: PatternKind = "exact";
  let i = 0;
  for (let step = 0; i < chars.length; step++) {
    const ch = chars[i++]!;
    if (ch === "*") {
      if (chars[i] === "*") {
        i++;
        if (chars[i] === "/") i++;
        if (i >= chars.length) {
          if (kind === "exact") kind = "prefix";
          else {
            source += ".*";
            kind = "regexp";
          }
        } else {
          source += "(.*/)?";
          kind = "regexp";
        }
        if (step === 0) kind = "suffix";
      } else {
        source += "[^/]*";
        kind = "regexp";
      }
    } else if (ch === "?") {
      source += "[^/]";
      kind = "regexp";
    } else if (_REGEXP_LITERAL_ESCAPES.has(ch)) {
      source += "\\" + ch;
    } else if (ch === "\\") {
      const next = chars[i];
      if (next !== undefined) {
        i++;
        source += "\\" + next;
        kind = "regexp";
      } else {
        source += "\\\\";
      }
    } else if (ch === "[" || ch === "]") {
      source += ch;
      kind = "regexp";
    } else {
      source += ch;
    }
  }
  return { kind, source: source + "$" };
}
