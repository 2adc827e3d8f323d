/**
 * The ignore rules applied when copying a project into an image: pycontainer's defaults (things
 * nobody wants shipped: VCS dirs, virtualenvs, caches, `.env` secrets, build output), followed by
 * the user's `.containerignore` or `.dockerignore`, evaluated with Docker's exact semantics.
 *
 * Decisions, documented for users:
 * - **Which file.** `.containerignore` if it exists, else `.dockerignore` (podman/buildah prefer
 *   `.containerignore`; Docker reads `.dockerignore`). Only one is read, never merged, so a
 *   project carrying both gets the container-tools behaviour.
 * - **File syntax** (moby/patternmatcher `ignorefile.ReadAll`): a UTF-8 BOM is stripped; lines
 *   starting with `#` are comments; blank lines are skipped; each line is trimmed, `!` marks an
 *   exception, the pattern is cleaned and a leading `/` dropped.
 * - **Order.** The defaults come first and the user's patterns after them, and the last
 *   matching pattern wins; so a user's `!` exception can re-include a default (`!.env.example`
 *   ships that file, `!build` ships a `build/` package). The output directory is different: it is
 *   always excluded and no pattern can re-include it.
 * - **Directories** (Docker's walker): an excluded directory is not entered, unless some `!`
 *   exception's text starts with the directory's path plus `/` (e.g. `!docs/keep.md` for `docs`);
 *   then its contents are matched one by one, and the directory itself appears only as the
 *   parent of what is re-included.
 *
 * @module
 */

import { compilePattern, type IgnorePattern, matchPattern } from "./ignore_pattern.ts";
import { PycontainerError } from "../errors.ts";

/** A compiled pattern plus where it came from, for "excluded because …" messages. */
export interface IgnoreRule extends IgnorePattern {
  /** Where the pattern was written, e.g. `.dockerignore:3` or `default`. */
  readonly source: string;
}

/**
 * The patterns pycontainer always applies before the user's: never-shipped files and directories.
 * `**` + `/x` patterns apply at any depth; bare names (`venv`, `dist`, `build`, `.tox`, `.idea`…)
 * only at the top of the context, where tools create them.
 */
export const DEFAULT_IGNORE_PATTERNS: readonly string[] = [
  "**/.git",
  "**/.hg",
  "**/.svn",
  "**/.venv",
  "venv",
  "**/__pycache__",
  "**/*.pyc",
  "**/*.pyo",
  "**/.pytest_cache",
  "**/.mypy_cache",
  "**/.ruff_cache",
  ".tox",
  ".nox",
  "**/node_modules",
  "**/.env",
  "**/.env.*",
  "**/.DS_Store",
  "**/*.egg-info",
  ".idea",
  ".vscode",
  "dist",
  "build",
];

/** The ordered rule list of one context. */
export interface IgnoreRules {
  /** Defaults first, then the user's patterns, in file order. */
  readonly rules: readonly IgnoreRule[];
  /** True when any rule is a `!` exception (needed for Docker's directory-skipping rule). */
  readonly hasExceptions: boolean;
}

/** Per-pattern match results of a directory, passed down to its children (Docker's MatchInfo). */
export type ParentMatches = readonly boolean[];

/** The decision for one path. */
export interface IgnoreDecision {
  /** True when the path is excluded. */
  readonly excluded: boolean;
  /** The rule that decided an exclusion (the last excluding rule that matched). */
  readonly rule: IgnoreRule | undefined;
  /** Match results to pass to the children when the path is a directory. */
  readonly matches: ParentMatches;
}

/**
 * Parses ignore-file text into patterns, with Docker's line rules.
 *
 * @param text The file's content.
 * @param fileName Name used in rule sources and error messages, e.g. `.dockerignore`.
 * @returns The compiled rules in file order.
 * @throws {PycontainerError} (exit code 2) naming the file and line of an invalid pattern.
 *
 * @example
 * ```ts
 * import { parseIgnoreFile } from "./ignore_rules.ts";
 * const rules = parseIgnoreFile("# secrets\n/secrets/\n!secrets/public.pem\n", ".dockerignore");
 * console.assert(rules.length === 2 && rules[0]!.text === "secrets" && rules[1]!.exclusion);
 * console.assert(rules[1]!.source === ".dockerignore:3");
 * ```
 */
export function parseIgnoreFile(text: string, fileName: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  lines.forEach((raw, index) => {
    if (raw.startsWith("#")) return;
    const line = raw.trim();
    if (line === "") return;
    const source = `${fileName}:${index + 1}`;
    try {
      rules.push({ ...compilePattern(line), source });
    } catch (cause) {
      throw new PycontainerError(
        `Invalid pattern in ${source}: ${line} (${(cause as Error).message})`,
        {
          hint: "fix or remove the pattern; see Docker's .dockerignore syntax",
          cause,
          exitCode: 2,
        },
      );
    }
  });
  return rules;
}

/**
 * Builds the rule list: {@linkcode DEFAULT_IGNORE_PATTERNS} followed by the user's rules.
 *
 * @param userRules Rules from `.containerignore`/`.dockerignore` (see {@linkcode parseIgnoreFile}).
 * @returns The combined rules.
 *
 * @example
 * ```ts
 * import { buildIgnoreRules, parseIgnoreFile } from "./ignore_rules.ts";
 * const rules = buildIgnoreRules(parseIgnoreFile("!.env.example\n", ".dockerignore"));
 * console.assert(rules.hasExceptions && rules.rules.at(-1)!.text === ".env.example");
 * ```
 */
export function buildIgnoreRules(userRules: readonly IgnoreRule[] = []): IgnoreRules {
  const defaults = DEFAULT_IGNORE_PATTERNS.map((p): IgnoreRule => ({
    ...compilePattern(p),
    source: "default",
  }));
  const rules = [...defaults, ...userRules];
  return { rules, hasExceptions: rules.some((r) => r.exclusion) };
}

/**
 * Decides whether a path is excluded, as BuildKit's `MatchesUsingParentResults` does: a pattern
 * that matched the parent directory counts as matching the child; with no parent results (a
 * top-level path, or a path checked on its own), every parent directory is tried.
 *
 * @param rules The rule list.
 * @param path Cleaned, slash-separated path relative to the context.
 * @param parent The parent directory's {@linkcode IgnoreDecision.matches}, or `[]`.
 * @returns The decision and the per-pattern results for the children.
 *
 * @example
 * ```ts
 * import { buildIgnoreRules, decideIgnore, parseIgnoreFile } from "./ignore_rules.ts";
 * const rules = buildIgnoreRules(parseIgnoreFile("docs\n!docs/README.md\n", ".dockerignore"));
 * console.assert(decideIgnore(rules, "docs/build.log").excluded);
 * console.assert(!decideIgnore(rules, "docs/README.md").excluded);
 * console.assert(decideIgnore(rules, "pkg/__pycache__/m.pyc").rule!.source === "default");
 * ```
 */
export function decideIgnore(
  rules: IgnoreRules,
  path: string,
  parent: ParentMatches = [],
): IgnoreDecision {
  const list = rules.rules;
  const matches: boolean[] = new Array<boolean>(list.length).fill(false);
  const parentDirs = parent.length === 0 ? _parentDirs(path) : [];
  let excluded = false;
  let rule: IgnoreRule | undefined;
  list.forEach((pattern, i) => {
    let match = parent[i] === true;
    if (!match) {
      if (pattern.exclusion !== excluded) return;
      match = matchPattern(pattern, path) || parentDirs.some((d) => matchPattern(pattern, d));
    }
    matches[i] = match;
    if (match) {
      excluded = !pattern.exclusion;
      rule = excluded ? pattern : undefined;
    }
  });
  return { excluded, rule, matches };
}

/**
 * Docker's rule for an excluded directory: it must still be entered when some `!` exception's
 * text starts with `<dir>/`, because something inside may be re-included.
 *
 * @param rules The rule list.
 * @param dir The excluded directory's cleaned relative path.
 * @returns True when the walk must descend into the directory.
 *
 * @example
 * ```ts
 * import { buildIgnoreRules, mustDescend, parseIgnoreFile } from "./ignore_rules.ts";
 * const rules = buildIgnoreRules(parseIgnoreFile("docs\n!docs/keep/*.md\n", ".dockerignore"));
 * console.assert(mustDescend(rules, "docs") && !mustDescend(rules, "tmp"));
 * ```
 */
export function mustDescend(rules: IgnoreRules, dir: string): boolean {
  if (!rules.hasExceptions) return false;
  const prefix = dir + "/";
  return rules.rules.some((r) => r.exclusion && (r.text + "/").startsWith(prefix));
}

/** `a/b/c` → [`a`, `a/b`] (the parent directories, shortest first). */
function _parentDirs(path: string): string[] {
  const segs = path.split("/");
  const out: string[] = [];
  for (let i = 1; i < segs.length; i++) out.push(segs.slice(0, i).join("/"));
  return out;
}
