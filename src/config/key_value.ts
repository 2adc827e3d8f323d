/**
 * Parses the `K=V` values of repeatable flags such as `--env PORT=8000` and
 * `--label org.opencontainers.image.title=app`. Splits at the first `=`, so values may contain
 * `=` themselves (`--env OPTS=a=b`); an empty value is allowed (`--env DEBUG=`), an empty key or a
 * missing `=` is a usage error naming the flag.
 *
 * @module
 */

import { PycontainerError } from "../errors.ts";

/**
 * Splits a flag value `KEY=VALUE` at the first `=`.
 *
 * @param flag The flag, for the error message, e.g. `--env`.
 * @param value The flag's value.
 * @returns `[key, value]`.
 * @throws {PycontainerError} exit code 2 when there is no `=` or the key is empty.
 *
 * @example
 * ```ts
 * import { parseKeyValue } from "./key_value.ts";
 * const [key, value] = parseKeyValue("--env", "DATABASE_URL=postgres://db/app?sslmode=off");
 * console.assert(key === "DATABASE_URL" && value === "postgres://db/app?sslmode=off");
 * ```
 */
export function parseKeyValue(flag: string, value: string): [string, string] {
  const eq = value.indexOf("=");
  if (eq < 0) {
    // Echo the value only when it looks like a bare name: a mistyped pair might hold a secret.
    const name = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/.test(value) ? value : undefined;
    const shown = name === undefined ? "" : ` "${name}"`;
    throw new PycontainerError(`${flag}${shown} is missing "=" (expected KEY=VALUE)`, {
      hint: `write ${flag} ${name ?? "KEY"}=VALUE`,
      exitCode: 2,
    });
  }
  if (eq === 0) {
    throw new PycontainerError(`${flag} value has an empty key (expected KEY=VALUE)`, {
      hint: `write ${flag} KEY=VALUE`,
      exitCode: 2,
    });
  }
  return [value.slice(0, eq), value.slice(eq + 1)];
}
