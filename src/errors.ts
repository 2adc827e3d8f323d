/**
 * The one error type users see. Every failure the CLI reports to a person is a
 * {@linkcode PycontainerError}: a one-line message naming the file, line, registry or package,
 * and a `hint` saying what to do about it. The CLI prints `error: <message>` and `hint: <hint>`
 * and exits with {@linkcode PycontainerError.exitCode}; a stack trace only with `--verbose`.
 *
 * @module
 */

/** Options for {@linkcode PycontainerError}. */
export interface PycontainerErrorOptions {
  /** What the user can do about it, one sentence. */
  hint?: string;
  /** The underlying error, kept for `--verbose`. */
  cause?: unknown;
  /** Process exit code: 2 for usage errors (bad flags, bad config), 1 for build failures. */
  exitCode?: 1 | 2;
}

/**
 * A failure to show to the user as `error: <message>` plus `hint: <hint>`.
 *
 * @example Throwing a usage error
 * ```ts
 * import { PycontainerError } from "./errors.ts";
 * const err = new PycontainerError("invalid --platform \"linux\"", {
 *   hint: "use os/arch[/variant], e.g. linux/amd64",
 *   exitCode: 2,
 * });
 * console.assert(err.exitCode === 2);
 * ```
 */
export class PycontainerError extends Error {
  /** What the user can do about it. */
  readonly hint: string | undefined;
  /** Process exit code: 2 for usage errors, 1 for build failures. */
  readonly exitCode: 1 | 2;

  /**
   * @param message One line naming what failed and where.
   * @param options Hint, cause and exit code.
   */
  constructor(message: string, options: PycontainerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "PycontainerError";
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? 1;
  }
}

/**
 * Shorthand for a {@linkcode PycontainerError} with exit code 2 (bad flags or configuration).
 *
 * @param message One line naming what is wrong.
 * @param hint What to do instead.
 * @returns The error, to be thrown.
 *
 * @example
 * ```ts
 * import { usageError } from "./errors.ts";
 * const err = usageError("unknown flag --tga", "did you mean --tag?");
 * console.assert(err.exitCode === 2);
 * ```
 */
export function usageError(message: string, hint?: string): PycontainerError {
  return new PycontainerError(
    message,
    hint === undefined ? { exitCode: 2 } : { hint, exitCode: 2 },
  );
}
