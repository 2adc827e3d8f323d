/**
 * Finds the line where a key is written in a TOML document. smol-toml (like most TOML parsers)
 * returns plain objects without source positions, but a configuration error is only useful when
 * it names the line: `pycontainer.toml:4: unknown key "bsae-image" in [build]`.
 *
 * This is a small line scanner, not a second parser: it runs after smol-toml has accepted the
 * document, so it may assume valid TOML. It tracks the current table header (`[a.b]`, `[[a]]`),
 * reads the dotted key at the start of each statement (bare, `"quoted"` or `'literal'` parts),
 * and skips the insides of multi-line strings, multi-line arrays and inline tables so that their
 * contents are never mistaken for keys. Each statement gets a full key path (header path + dotted
 * key); a lookup returns the line of the exact path, or else of the longest written prefix — the
 * `env = { ... }` line for a key inside an inline table, or the table header.
 *
 * @module
 */

/** One key statement or table header and the line (1-based) it starts on. */
interface _Statement {
  path: string[];
  line: number;
}

/**
 * Lists every table header and key statement of a TOML document with its full key path.
 *
 * @param text The TOML document (already accepted by the parser).
 * @returns The statements, in document order.
 */
function _statements(text: string): _Statement[] {
  const lines = text.split(/\r?\n/);
  const out: _Statement[] = [];
  let table: string[] = [];
  const state: _ScanState = { depth: 0, multiline: undefined };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (state.multiline !== undefined || state.depth > 0) {
      _scanValue(line, 0, state);
      continue;
    }
    const trimmed = line.trimStart();
    if (trimmed.startsWith("[")) {
      const isArray = trimmed.startsWith("[[");
      const parsed = _readKey(trimmed, isArray ? 2 : 1);
      if (parsed !== undefined) {
        table = parsed.path;
        out.push({ path: table, line: i + 1 });
      }
      continue;
    }
    const parsed = _readKey(line, 0);
    if (parsed === undefined) continue;
    let pos = _skipSpace(line, parsed.end);
    if (line[pos] !== "=") continue;
    pos++;
    out.push({ path: [...table, ...parsed.path], line: i + 1 });
    _scanValue(line, pos, state);
  }
  return out;
}

/** Scanner state carried across lines: open brackets and an unterminated multi-line string. */
interface _ScanState {
  depth: number;
  multiline: '"""' | "'''" | undefined;
}

/** Advances through a value, updating bracket depth and multi-line string state. */
function _scanValue(line: string, start: number, state: _ScanState): void {
  let i = start;
  while (i < line.length) {
    if (state.multiline !== undefined) {
      const close = _findClose(line, i, state.multiline);
      if (close < 0) return;
      state.multiline = undefined;
      i = close;
      continue;
    }
    const ch = line[i];
    if (ch === "#") return;
    if (line.startsWith('"""', i) || line.startsWith("'''", i)) {
      state.multiline = line.startsWith('"""', i) ? '"""' : "'''";
      i += 3;
      continue;
    }
    if (ch === '"' || ch === "'") {
      i = _skipString(line, i);
      continue;
    }
    if (ch === "[" || ch === "{") state.depth++;
    else if (ch === "]" || ch === "}") state.depth = Math.max(0, state.depth - 1);
    i++;
  }
}

/** Index just past the closing delimiter of a multi-line string, or -1 if not on this line. */
function _findClose(line: string, from: number, delim: '"""' | "'''"): number {
  let i = from;
  while (i < line.length) {
    if (delim === '"""' && line[i] === "\\") {
      i += 2;
      continue;
    }
    if (line.startsWith(delim, i)) {
      let end = i + 3;
      // Up to two extra quotes right before the delimiter belong to the string.
      while (end < line.length && line[end] === delim[0] && end - i < 5) end++;
      return end;
    }
    i++;
  }
  return -1;
}

/** Index just past a one-line basic or literal string starting at `start`. */
function _skipString(line: string, start: number): number {
  const quote = line[start];
  let i = start + 1;
  while (i < line.length) {
    const ch = line[i];
    if (quote === '"' && ch === "\\") {
      i += 2;
      continue;
    }
    if (ch === quote) return i + 1;
    i++;
  }
  return line.length;
}

function _skipSpace(line: string, from: number): number {
  let i = from;
  while (line[i] === " " || line[i] === "\t") i++;
  return i;
}

/** Reads a dotted key at `from` (after leading whitespace); undefined if there is none. */
function _readKey(line: string, from: number): { path: string[]; end: number } | undefined {
  const path: string[] = [];
  let i = _skipSpace(line, from);
  for (;;) {
    const ch = line[i];
    if (ch === '"' || ch === "'") {
      const end = _skipString(line, i);
      const raw = line.slice(i + 1, end - 1);
      path.push(ch === '"' ? _unescape(raw) : raw);
      i = end;
    } else {
      const m = /^[A-Za-z0-9_-]+/.exec(line.slice(i));
      if (m === null) return undefined;
      path.push(m[0]);
      i += m[0].length;
    }
    i = _skipSpace(line, i);
    if (line[i] !== ".") return { path, end: i };
    i = _skipSpace(line, i + 1);
  }
}

/** Resolves the common escapes of a basic-string key (enough to compare key names). */
function _unescape(raw: string): string {
  return raw.replace(/\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)/g, (_m, esc: string) => {
    if (esc.length > 1) return String.fromCodePoint(parseInt(esc.slice(1), 16));
    const map: Record<string, string> = { n: "\n", t: "\t", r: "\r", b: "\b", f: "\f" };
    return map[esc] ?? esc;
  });
}

/**
 * A reusable index of where keys are written in one TOML document.
 *
 * @example Finding a key's line
 * ```ts
 * import { TomlLocator } from "./toml_locator.ts";
 * const loc = new TomlLocator('[build]\nworkdir = "/srv"\n\n[build.env]\nA = "1"\n');
 * console.assert(loc.lineOf(["build", "workdir"]) === 2);
 * console.assert(loc.lineOf(["build", "env", "A"]) === 5);
 * ```
 */
export class TomlLocator {
  readonly #statements: _Statement[];

  /**
   * @param text The TOML document, already accepted by the parser.
   */
  constructor(text: string) {
    this.#statements = _statements(text);
  }

  /**
   * The line (1-based) where the key at `path` is written, or, when it is not written
   * literally (a key inside an inline table, an implicit super-table), the line of the longest
   * written prefix of `path`.
   *
   * @param path The full key path, e.g. `["tool", "pycontainer", "build", "workdir"]`.
   * @returns The line, or `undefined` when no prefix of the path is written at all.
   *
   * @example
   * ```ts
   * import { TomlLocator } from "./toml_locator.ts";
   * const loc = new TomlLocator('[build]\nenv = { A = 1 }\n');
   * console.assert(loc.lineOf(["build", "env", "A"]) === 2);
   * console.assert(loc.lineOf(["build", "nothing"]) === 1);
   * ```
   */
  lineOf(path: readonly string[]): number | undefined {
    let best: _Statement | undefined;
    for (const st of this.#statements) {
      if (st.path.length > path.length) continue;
      if (!st.path.every((part, i) => part === path[i])) continue;
      if (st.path.length === path.length) return st.line;
      if (best === undefined || st.path.length > best.path.length) best = st;
    }
    return best?.line;
  }
}
