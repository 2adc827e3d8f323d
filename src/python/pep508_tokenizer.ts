/**
 * The context-sensitive tokenizer behind PEP 508 requirement and marker parsing. It mirrors
 * `packaging._tokenizer` token for token (the same regular expressions, the same "check, then
 * read" discipline), so that what `packaging` accepts or rejects we accept or reject too, and a
 * syntax error can point at the column where parsing stopped.
 *
 * @module
 */

import { PycontainerError } from "../errors.ts";

const _VERSION_TAIL = "(?:[-_.]?(?:alpha|beta|preview|pre|a|b|c|rc)[-_.]?[0-9]*)?" +
  "(?:(?:-[0-9]+)|(?:[-_.]?(?:post|rev|r)[-_.]?[0-9]*))?(?:[-_.]?dev[-_.]?[0-9]*)?";

/** `packaging.specifiers.Specifier._specifier_regex_str`, for scanning specifiers in requirements. */
const _SPECIFIER = "(?:===\\s*[^\\s;)]*)" +
  "|(?:(?:==|!=)\\s*v?(?:[0-9]+!)?[0-9]+(?:\\.[0-9]+)*(?:\\.\\*|" + _VERSION_TAIL +
  "(?:\\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?)?)" +
  "|(?:~=\\s*v?(?:[0-9]+!)?[0-9]+(?:\\.[0-9]+)+" + _VERSION_TAIL + ")" +
  "|(?:(?:<=|>=|<|>)\\s*v?(?:[0-9]+!)?[0-9]+(?:\\.[0-9]+)*" + _VERSION_TAIL + ")";

/** Token rules, as in `packaging._tokenizer.DEFAULT_RULES` (all anchored at the position). */
export const TOKEN_RULES = {
  LEFT_PARENTHESIS: /\(/y,
  RIGHT_PARENTHESIS: /\)/y,
  LEFT_BRACKET: /\[/y,
  RIGHT_BRACKET: /\]/y,
  SEMICOLON: /;/y,
  COMMA: /,/y,
  QUOTED_STRING: /(?:'[^']*')|(?:"[^"]*")/y,
  OP: /(?:===|==|~=|!=|<=|>=|<|>)/y,
  BOOLOP: /\b(?:or|and)\b/y,
  IN: /\bin\b/y,
  NOT: /\bnot\b/y,
  VARIABLE:
    /\b(?:python_version|python_full_version|os[._]name|sys[._]platform|platform_(?:release|system)|platform[._](?:version|machine|python_implementation)|python_implementation|implementation_(?:name|version)|extras?|dependency_groups)\b/y,
  SPECIFIER: new RegExp(_SPECIFIER, "iy"),
  AT: /@/y,
  URL: /[^ \t]+/y,
  IDENTIFIER: /\b[a-zA-Z0-9][a-zA-Z0-9._-]*\b/y,
  VERSION_PREFIX_TRAIL: /\.\*/y,
  VERSION_LOCAL_LABEL_TRAIL: /\+[a-z0-9]+(?:[-_.][a-z0-9]+)*/y,
  WS: /[ \t]+/y,
  END: /$/y,
} as const;

/** The name of a token rule. */
export type TokenName = keyof typeof TOKEN_RULES;

/** A token read from the source. */
export interface Token {
  /** Rule name. */
  readonly name: TokenName;
  /** The matched text. */
  readonly text: string;
  /** Offset in the source. */
  readonly position: number;
}

/**
 * A cursor over a requirement or marker string. `check` looks for a token at the position;
 * `read` consumes the token found by the last successful `check`.
 *
 * @example
 * ```ts
 * import { Tokenizer } from "./pep508_tokenizer.ts";
 * const t = new Tokenizer("requests>=2", "requirement");
 * console.assert(t.expect("IDENTIFIER", "package name").text === "requests");
 * ```
 */
export class Tokenizer {
  /** The whole source text. */
  readonly source: string;
  /** What is being parsed, for messages ("requirement", "marker"). */
  readonly what: string;
  /** Current offset. */
  position = 0;
  #next: Token | undefined;

  /**
   * @param source The text to tokenize.
   * @param what What it is, used in error messages.
   */
  constructor(source: string, what: string) {
    this.source = source;
    this.what = what;
  }

  /**
   * Whether the next token is `name`; unless `peek`, it becomes the token `read` returns.
   *
   * @param name The rule to try.
   * @param peek Only look, do not load the token.
   * @returns `true` when the rule matches at the position.
   */
  check(name: TokenName, peek = false): boolean {
    const re = TOKEN_RULES[name];
    re.lastIndex = this.position;
    const m = re.exec(this.source);
    if (m === null) return false;
    if (!peek) this.#next = { name, text: m[0], position: this.position };
    return true;
  }

  /**
   * Consumes the token loaded by the last `check`.
   *
   * @returns The token.
   */
  read(): Token {
    const t = this.#next;
    if (t === undefined) throw new Error("Tokenizer.read() without a successful check()");
    this.position += t.text.length;
    this.#next = undefined;
    return t;
  }

  /**
   * Reads `name` if it is next.
   *
   * @param name The rule.
   */
  consume(name: TokenName): void {
    if (this.check(name)) this.read();
  }

  /**
   * Reads `name`, failing with "Expected <expected>" when it is not next.
   *
   * @param name The rule.
   * @param expected Words for the error message.
   * @returns The token.
   */
  expect(name: TokenName, expected: string): Token {
    if (!this.check(name)) throw this.syntaxError(`expected ${expected}`);
    return this.read();
  }

  /**
   * A syntax error naming the source and the column (1-based) where parsing stopped.
   *
   * @param message What was wrong.
   * @param at Offset to report, default the current position.
   * @returns The error, to be thrown.
   */
  syntaxError(message: string, at = this.position): PycontainerError {
    return new PycontainerError(
      `invalid ${this.what} ${JSON.stringify(this.source)}: ${message} at column ${at + 1}`,
      {
        hint: this.what === "marker"
          ? 'markers look like python_version >= "3.9" and sys_platform == "linux" (PEP 508)'
          : 'requirements look like name[extra]>=1.0,<2; python_version >= "3.9" or name @ https://... (PEP 508)',
        exitCode: 2,
      },
    );
  }

  /**
   * Runs `body` inside optional `open`/`close` tokens (e.g. parentheses), requiring the close
   * token when the open one was present.
   *
   * @param open The opening rule.
   * @param close The closing rule.
   * @param around Words for the error message.
   * @param body The parser for what is inside.
   * @returns What `body` returns.
   */
  enclosing<T>(open: TokenName, close: TokenName, around: string, body: () => T): T {
    let openAt: number | undefined;
    if (this.check(open)) {
      openAt = this.position;
      this.read();
    }
    const result = body();
    if (openAt === undefined) return result;
    if (!this.check(close)) {
      throw this.syntaxError(
        `unclosed ${this.#sym(open)} (expected ${this.#sym(close)} after ${around})`,
        openAt,
      );
    }
    this.read();
    return result;
  }

  #sym(name: TokenName): string {
    const symbols: Partial<Record<TokenName, string>> = {
      LEFT_PARENTHESIS: '"("',
      RIGHT_PARENTHESIS: '")"',
      LEFT_BRACKET: '"["',
      RIGHT_BRACKET: '"]"',
    };
    return symbols[name] ?? name;
  }
}
