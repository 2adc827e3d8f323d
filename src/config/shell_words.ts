/**
 * Splits a command line written as one string (`cmd = "uvicorn app:app --port 8080"`) into exec
 * form with POSIX shell quoting rules: whitespace separates words, single quotes are literal,
 * double quotes allow `\"`, `\\`, `\$` and `` \` `` escapes, a backslash outside quotes escapes
 * the next character. No expansion of variables, globs or `~` happens: the image runs the words
 * exactly as written, with no shell in between.
 *
 * This is the configuration module's own splitter, kept private to `src/config/` so it does not
 * depend on the project-introspection module; both follow the same rules.
 *
 * @module
 */

/**
 * Splits a command line into words with shell quoting rules.
 *
 * @param line The command line.
 * @returns The words, or an error string when a quote is not closed or the line ends in `\`.
 *
 * @example
 * ```ts
 * import { splitCommandLine } from "./shell_words.ts";
 * const words = splitCommandLine(`gunicorn -b "0.0.0.0:8000" 'app:create_app()'`);
 * console.assert(Array.isArray(words) && words.length === 4 && words[3] === "app:create_app()");
 * ```
 */
export function splitCommandLine(line: string): string[] | { error: string } {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let i = 0;
  while (i < line.length) {
    const ch = line[i] as string;
    if (ch === " " || ch === "\t" || ch === "\n" || ch === "\r") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      i++;
      continue;
    }
    if (ch === "\\" && line[i + 1] === "\n") {
      i += 2; // line continuation
      continue;
    }
    inWord = true;
    if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) return { error: "unterminated single quote" };
      word += line.slice(i + 1, end);
      i = end + 1;
    } else if (ch === '"') {
      i++;
      for (;;) {
        if (i >= line.length) return { error: "unterminated double quote" };
        const c = line[i] as string;
        if (c === '"') break;
        const next = line[i + 1];
        if (c === "\\" && next !== undefined && '"\\$`\n'.includes(next)) {
          if (next !== "\n") word += next;
          i += 2;
          continue;
        }
        word += c;
        i++;
      }
      i++;
    } else if (ch === "\\") {
      const next = line[i + 1];
      if (next === undefined) return { error: "trailing backslash" };
      word += next;
      i += 2;
    } else {
      word += ch;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}
