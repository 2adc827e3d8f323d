/**
 * POSIX shell word splitting for command lines written in configuration, such as a
 * `[project.scripts]` value `myapi = "uvicorn app:app --host 0.0.0.0 --port 8080"`. The result is
 * an exec-form argv (what an image's `Entrypoint`/`Cmd` holds), so no shell is needed in the image.
 *
 * Rules follow the POSIX Shell Command Language, section 2.2 (quoting) and 2.3 (token
 * recognition), without expansions: unquoted blanks separate words; `'…'` keeps everything
 * literally; `"…"` keeps everything except that a backslash escapes `$`, `` ` ``, `"`, `\` and
 * newline; an unquoted backslash escapes the next character; backslash-newline is a line
 * continuation; an unquoted `#` at the start of a word begins a comment. `$VAR` and globs are kept
 * literally, because exec form has no shell to expand them.
 *
 * @module
 */

import { PycontainerError } from "../errors.ts";

const _BLANK = new Set([" ", "\t", "\n", "\r"]);
const _DQ_ESCAPABLE = new Set(["$", "`", '"', "\\", "\n"]);

/**
 * Splits a command line into words with POSIX shell quoting rules.
 *
 * @param line The command line, e.g. `gunicorn -b "0.0.0.0:8000" app:app`.
 * @param where Names the line's origin in error messages, e.g. `pyproject.toml [project.scripts] api`.
 * @returns The words, with quotes and escapes removed.
 * @throws {PycontainerError} (exit code 2) on an unbalanced quote or a trailing backslash.
 *
 * @example Splitting a uvicorn command line
 * ```ts
 * import { shellSplit } from "./shell_split.ts";
 * const argv = shellSplit(`uvicorn app:app --host 0.0.0.0 --root-path '/my api'`);
 * console.assert(argv.length === 6 && argv[5] === "/my api");
 * ```
 */
export function shellSplit(line: string, where = "command line"): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let i = 0;
  while (i < line.length) {
    const ch = line[i]!;
    if (_BLANK.has(ch)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      i++;
    } else if (ch === "#" && !inWord) {
      const nl = line.indexOf("\n", i);
      i = nl === -1 ? line.length : nl;
    } else if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      if (end === -1) throw _unbalanced("'", line, where);
      word += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (ch === '"') {
      const [text, next] = _doubleQuoted(line, i + 1, where);
      word += text;
      inWord = true;
      i = next;
    } else if (ch === "\\") {
      const next = line[i + 1];
      if (next === undefined) {
        throw new PycontainerError(`${where} ends with an unescaped backslash: ${line}`, {
          hint: "remove the trailing backslash or escape it as \\\\",
          exitCode: 2,
        });
      }
      if (next !== "\n") {
        word += next;
        inWord = true;
      }
      i += 2;
    } else {
      word += ch;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** Reads a double-quoted string starting after the opening quote; returns text and next index. */
function _doubleQuoted(line: string, start: number, where: string): [string, number] {
  let text = "";
  let i = start;
  while (i < line.length) {
    const ch = line[i]!;
    if (ch === '"') return [text, i + 1];
    if (ch === "\\" && i + 1 < line.length && _DQ_ESCAPABLE.has(line[i + 1]!)) {
      if (line[i + 1] !== "\n") text += line[i + 1];
      i += 2;
      continue;
    }
    text += ch;
    i++;
  }
  throw _unbalanced('"', line, where);
}

function _unbalanced(quote: string, line: string, where: string): PycontainerError {
  return new PycontainerError(`${where} has an unbalanced ${quote} quote: ${line}`, {
    hint: `close the ${quote} quote, or escape it with a backslash`,
    exitCode: 2,
  });
}
