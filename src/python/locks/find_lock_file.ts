/**
 * Finds the lock file of a project and reads it with the right reader. Without configuration
 * the first that exists in the project directory wins, in this order: `uv.lock`, `pylock.toml`,
 * `poetry.lock`, `requirements.txt` — the most exact formats first (a universal lock with hashes
 * and URLs before a requirements file that may not even pin). Named PEP 751 locks
 * (`pylock.<name>.toml`) and other requirements files are used only when configured, since a
 * project may keep several for different purposes.
 *
 * Only the reader of the format found is imported (a build reads one lock; the others' parsers
 * would only add start-up time).
 *
 * @module
 */

import { stat } from "node:fs/promises";
import { basename, isAbsolute, join } from "node:path";
import { PycontainerError } from "../../errors.ts";
import type { RequirementsOptions } from "./requirements_txt.ts";
import type { LockedSet, LockKind } from "./types.ts";
import type { UvLockOptions } from "./uv_lock.ts";

/** The default search order. */
export const LOCK_FILE_ORDER: readonly LockKind[] = [
  "uv.lock",
  "pylock.toml",
  "poetry.lock",
  "requirements.txt",
];

/** A lock file found in a project. */
export interface FoundLockFile {
  /** Its format. */
  kind: LockKind;
  /** Its path. */
  path: string;
}

/** Options for {@linkcode findLockFile}. */
export interface FindLockOptions {
  /**
   * A format to use (`uv.lock`, `pylock.toml`, `poetry.lock`, `requirements.txt`) or a file,
   * relative to the project (e.g. `pylock.prod.toml`, `requirements/prod.txt`).
   */
  prefer?: string;
}

/**
 * The format of a lock file, from its name.
 *
 * @param path The file's path.
 * @returns The format, or `undefined` when the name is not one pycontainer reads.
 *
 * @example
 * ```ts
 * import { lockKindOf } from "./find_lock_file.ts";
 * console.assert(lockKindOf("deploy/pylock.prod.toml") === "pylock.toml");
 * console.assert(lockKindOf("requirements/base.txt") === "requirements.txt");
 * ```
 */
export function lockKindOf(path: string): LockKind | undefined {
  const name = basename(path);
  if (name === "uv.lock") return "uv.lock";
  if (name === "poetry.lock") return "poetry.lock";
  if (/^pylock\.([^.]+\.)?toml$/.test(name)) return "pylock.toml";
  if (/\.(txt|in)$/.test(name)) return "requirements.txt";
  return undefined;
}

async function _isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * Finds the lock file to install from.
 *
 * @param context The project directory.
 * @param options A configured format or file.
 * @returns The file and its format, or `undefined` when the project has none (then the
 *   dependencies are resolved from pyproject.toml).
 * @throws {PycontainerError} When the configured file does not exist or has an unknown format.
 *
 * @example
 * ```ts ignore
 * import { findLockFile } from "./find_lock_file.ts";
 * const found = await findLockFile("/src/myapi");
 * // { kind: "uv.lock", path: "/src/myapi/uv.lock" }
 * ```
 */
export async function findLockFile(
  context: string,
  options: FindLockOptions = {},
): Promise<FoundLockFile | undefined> {
  const prefer = options.prefer;
  if (prefer === undefined) {
    for (const kind of LOCK_FILE_ORDER) {
      const path = join(context, kind);
      if (await _isFile(path)) return { kind, path };
    }
    return undefined;
  }
  const kind = lockKindOf(prefer);
  if (kind === undefined) {
    throw new PycontainerError(`unknown lock file format ${JSON.stringify(prefer)}`, {
      hint: "use uv.lock, pylock.toml, pylock.<name>.toml, poetry.lock or a requirements .txt file",
      exitCode: 2,
    });
  }
  const path = isAbsolute(prefer) ? prefer : join(context, prefer);
  if (!(await _isFile(path))) {
    throw new PycontainerError(`the configured lock file ${path} does not exist`, {
      hint: "create it with its tool (e.g. `uv lock`), or change the configured lock file",
      exitCode: 2,
    });
  }
  return { kind, path };
}

/** Options for {@linkcode readLockFile}: per-format reader options. */
export interface ReadLockOptions extends UvLockOptions, RequirementsOptions {}

/**
 * Reads a lock file with the reader for its format.
 *
 * @param found The file and its format (from {@linkcode findLockFile}).
 * @param options Reader options (uv workspace member, requirements environment).
 * @returns The locked set.
 * @throws {PycontainerError} When the file cannot be read or is malformed.
 *
 * @example
 * ```ts ignore
 * import { findLockFile, readLockFile } from "./find_lock_file.ts";
 * const found = await findLockFile(".");
 * if (found) console.log((await readLockFile(found)).packages.length);
 * ```
 */
export async function readLockFile(
  found: FoundLockFile,
  options: ReadLockOptions = {},
): Promise<LockedSet> {
  switch (found.kind) {
    case "uv.lock":
      return await (await import("./uv_lock.ts")).readUvLock(found.path, options);
    case "pylock.toml":
      return await (await import("./pylock.ts")).readPylock(found.path);
    case "poetry.lock":
      return await (await import("./poetry_lock.ts")).readPoetryLock(found.path);
    case "requirements.txt":
      return await (await import("./requirements_txt.ts")).readRequirementsTxt(found.path, options);
  }
}
