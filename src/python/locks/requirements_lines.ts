/**
 * The line syntax of pip requirements files, as pip's `req_file.py` preprocesses it: physical
 * lines ending in `\` are joined (a comment line ends the continuation), comments (`#` at the
 * start or after whitespace) are removed, `${VAR}` (only that form, upper-case letters, digits
 * and `_`) is replaced by the environment variable when it is set, and each logical line is split
 * into the requirement part and its options (everything from the first word starting with `-`).
 * Every logical line keeps the number of the physical line it starts on, for error messages.
 *
 * @module
 */

import { PycontainerError } from "../../errors.ts";

/** One logical line of a requirements file. */
export interface RequirementsLine {
  /** The 1-based physical line it starts on. */
  line: number;
  /** The requirement text (empty for an options-only line such as `-r other.txt`). */
  requirement: string;
  /** The options, in order, with their values (`undefined` for flags). */
  options: { name: string; value: string | undefined }[];
}

/** Options that take a value, by every spelling, mapped to the long name. */
const _VALUED: Record<string, string> = {
  "-r": "--requirement",
  "--requirement": "--requirement",
  "-c": "--constraint",
  "--constraint": "--constraint",
  "-e": "--editable",
  "--editable": "--editable",
  "-i": "--index-url",
  "--index-url": "--index-url",
  "--extra-index-url": "--extra-index-url",
  "-f": "--find-links",
  "--find-links": "--find-links",
  "--hash": "--hash",
  "--trusted-host": "--trusted-host",
  "--no-binary": "--no-binary",
  "--only-binary": "--only-binary",
  "--use-feature": "--use-feature",
  "-C": "--config-settings",
  "--config-settings": "--config-settings",
  "--global-option": "--global-option",
};
const _FLAGS = new Set(["--no-index", "--pre", "--prefer-binary", "--require-hashes"]);
const _COMMENT = /(^|\s+)#.*$/;
const _ENV = /\$\{([A-Z0-9_]+)\}/g;

/** Splits an options string like a POSIX shell would (quotes and backslashes), as pip's shlex. */
function _shellWords(text: string, where: string): string[] {
  const out: string[] = [];
  let cur: string | undefined;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
      else if (ch === "\\" && quote === '"' && i + 1 < text.length) cur += text[++i] as string;
      else cur += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      cur ??= "";
    } else if (/\s/.test(ch)) {
      if (cur !== undefined) out.push(cur);
      cur = undefined;
    } else if (ch === "\\" && i + 1 < text.length) {
      cur = (cur ?? "") + (text[++i] as string);
    } else {
      cur = (cur ?? "") + ch;
    }
  }
  if (quote !== undefined) {
    throw new PycontainerError(`${where}: unclosed ${quote} quote in the options`, {
      hint: "close the quote",
      exitCode: 2,
    });
  }
  if (cur !== undefined) out.push(cur);
  return out;
}

function _options(text: string, where: string): RequirementsLine["options"] {
  const words = _shellWords(text, where);
  const out: RequirementsLine["options"] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    const eq = word.startsWith("--") ? word.indexOf("=") : -1;
    const flag = eq > 0 ? word.slice(0, eq) : word;
    if (_FLAGS.has(flag)) {
      out.push({ name: flag, value: undefined });
      continue;
    }
    let name = _VALUED[flag];
    let value: string | undefined;
    if (name !== undefined) {
      value = eq > 0 ? word.slice(eq + 1) : words[++i];
    } else if (/^-[a-zA-Z]./.test(word) && _VALUED[word.slice(0, 2)] !== undefined) {
      name = _VALUED[word.slice(0, 2)] as string;
      value = word.slice(2).replace(/^=/, "");
    } else {
      throw new PycontainerError(`${where}: unknown option ${word}`, {
        hint: "requirements files may use -r, -c, -e, -i, --extra-index-url, -f, --hash, " +
          "--no-index, --pre, --trusted-host and the binary options",
        exitCode: 2,
      });
    }
    if (value === undefined || value === "") {
      throw new PycontainerError(`${where}: option ${flag} needs a value`, {
        hint: `write it as ${name} VALUE`,
        exitCode: 2,
      });
    }
    out.push({ name, value });
  }
  return out;
}

/**
 * Splits a requirements file into logical lines the way pip does.
 *
 * @param text The file's text.
 * @param file The file's path, for error messages.
 * @param env Environment variables for `${VAR}` expansion.
 * @returns The non-empty logical lines with their first physical line numbers.
 * @throws {PycontainerError} `file:line: ...` for an unknown option or a missing option value.
 *
 * @example
 * ```ts
 * import { splitRequirementsLines } from "./requirements_lines.ts";
 * const lines = splitRequirementsLines(
 *   "# top\nsix==1.17.0 \\\n    --hash=sha256:ab  # pinned\n-i ${INDEX}\n",
 *   "requirements.txt",
 *   { INDEX: "https://example.com/simple" },
 * );
 * console.assert(lines[0]?.line === 2 && lines[0]?.requirement === "six==1.17.0");
 * console.assert(lines[0]?.options[0]?.value === "sha256:ab");
 * console.assert(lines[1]?.options[0]?.value === "https://example.com/simple");
 * ```
 */
export function splitRequirementsLines(
  text: string,
  file: string,
  env: Record<string, string | undefined> = {},
): RequirementsLine[] {
  const physical = text.replace(/^\uFEFF/, "").split(/\r\n|\r|\n/);
  const joined: { line: number; text: string }[] = [];
  let pending: string[] = [];
  let start = 0;
  physical.forEach((raw, i) => {
    const isComment = /^\s*#/.test(raw);
    if (!raw.endsWith("\\") || isComment) {
      const text = isComment ? ` ${raw}` : raw;
      if (pending.length > 0) {
        pending.push(text);
        joined.push({ line: start, text: pending.join("") });
        pending = [];
      } else {
        joined.push({ line: i + 1, text });
      }
    } else {
      if (pending.length === 0) start = i + 1;
      pending.push(raw.replace(/\\+$/, (s) => s.slice(0, -1)));
    }
  });
  if (pending.length > 0) joined.push({ line: start, text: pending.join("") });
  const out: RequirementsLine[] = [];
  for (const { line, text } of joined) {
    const clean = text.replace(_COMMENT, "").trim()
      .replace(_ENV, (whole, name: string) => env[name] ?? whole);
    if (clean === "") continue;
    const where = `${file}:${line}`;
    const words = clean.split(" ");
    const firstOption = words.findIndex((w) => w.startsWith("-"));
    const reqWords = firstOption < 0 ? words : words.slice(0, firstOption);
    const optText = firstOption < 0 ? "" : words.slice(firstOption).join(" ");
    out.push({ line, requirement: reqWords.join(" ").trim(), options: _options(optText, where) });
  }
  return out;
}
