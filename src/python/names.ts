/**
 * Project and extra names: PEP 503 normalisation (how indexes, lock files and resolvers compare
 * names: `Foo.Bar_baz` → `foo-bar-baz`), validity per the core metadata spec, and the escaped
 * form used in wheel file names and `.dist-info` directories (`foo_bar_baz`).
 *
 * @module
 */

import { PycontainerError } from "../errors.ts";

const _VALID_NAME = /^(?:[a-z0-9]|[a-z0-9][a-z0-9._-]*[a-z0-9])$/i;
const _NORMALIZED_NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/**
 * PEP 503 normalisation: lowercase, runs of `-`, `_`, `.` become one `-`
 * (`packaging.utils.canonicalize_name`).
 *
 * @param name A project or extra name.
 * @returns The normalised name.
 *
 * @example
 * ```ts
 * import { normalizeName } from "./names.ts";
 * console.assert(normalizeName("Foo.Bar__baz") === "foo-bar-baz");
 * ```
 */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

/**
 * Whether a name is a valid project name (ASCII letters, digits, `.`, `_`, `-`; starting and
 * ending with a letter or digit).
 *
 * @param name The name.
 * @returns `true` when valid.
 *
 * @example
 * ```ts
 * import { isValidName } from "./names.ts";
 * console.assert(isValidName("zope.interface"));
 * console.assert(!isValidName("-bad"));
 * ```
 */
export function isValidName(name: string): boolean {
  return _VALID_NAME.test(name);
}

/**
 * Whether a name is already in PEP 503 normal form.
 *
 * @param name The name.
 * @returns `true` for e.g. `typing-extensions`, `false` for `Typing_Extensions`.
 *
 * @example
 * ```ts
 * import { isNormalizedName } from "./names.ts";
 * console.assert(isNormalizedName("typing-extensions"));
 * ```
 */
export function isNormalizedName(name: string): boolean {
  return _NORMALIZED_NAME.test(name);
}

/**
 * Checks a project name and returns its normalised form.
 *
 * @param name The name as written.
 * @param where Where it came from, for the error message (e.g. `pyproject.toml`).
 * @returns The normalised name.
 * @throws {PycontainerError} When the name is not a valid project name.
 *
 * @example
 * ```ts
 * import { validateName } from "./names.ts";
 * console.assert(validateName("Django", "pyproject.toml") === "django");
 * ```
 */
export function validateName(name: string, where?: string): string {
  if (!isValidName(name)) {
    const at = where === undefined ? "" : ` in ${where}`;
    throw new PycontainerError(`invalid project name ${JSON.stringify(name)}${at}`, {
      hint:
        "names use ASCII letters, digits, '.', '_' and '-', and start and end with a letter or digit",
      exitCode: 2,
    });
  }
  return normalizeName(name);
}

/**
 * The escaped name used in wheel file names and `.dist-info`/`.data` directory names:
 * normalised, with `_` instead of `-` (binary distribution format spec).
 *
 * @param name A project name.
 * @returns The escaped name, e.g. `pydantic_core`.
 *
 * @example
 * ```ts
 * import { wheelEscapeName } from "./names.ts";
 * console.assert(wheelEscapeName("Pydantic-Core") === "pydantic_core");
 * ```
 */
export function wheelEscapeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "_");
}

/**
 * The `.dist-info` directory name for an installed distribution.
 *
 * @param name The project name (any spelling).
 * @param version The version as it appears in the wheel (normalised PEP 440 text).
 * @returns E.g. `pydantic_core-2.23.4.dist-info`.
 *
 * @example
 * ```ts
 * import { distInfoDirName } from "./names.ts";
 * console.assert(distInfoDirName("Pydantic-Core", "2.23.4") === "pydantic_core-2.23.4.dist-info");
 * ```
 */
export function distInfoDirName(name: string, version: string): string {
  return `${wheelEscapeName(name)}-${version.replace(/-/g, "_")}.dist-info`;
}
