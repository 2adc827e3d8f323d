/**
 * `--write-lock FILE`: the resolution of a build written as a PEP 751 `pylock.toml`, so the next
 * build (which discovers `pylock.toml` before resolving) installs exactly the same files, and so
 * pip, uv and PDM can install the same set. The file is replaced atomically (temporary sibling +
 * rename): an interrupted build never leaves half a lock that the next build would trust.
 *
 * A `--find-links` wheel or a wheel built from an sdist has a `file:` URL that only exists on
 * this machine; it is written with its `path` instead so the lock says honestly where it came
 * from.
 *
 * @module
 */
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { PycontainerError } from "../errors.ts";
import type { MarkerEnvironment } from "../python/markers.ts";
import { formatPylock } from "../python/pylock_format.ts";
import type { Resolution } from "../python/resolver_types.ts";
import { writeFileAtomic } from "../store/atomic.ts";

/** What {@linkcode writeLockFile} records besides the packages. */
export interface WriteLockOptions {
  /** The project's `requires-python`. */
  requiresPython?: string | undefined;
  /** The target's marker environment (recorded as the lock's `environments`). */
  markerEnv: MarkerEnvironment;
  /** Extras that were included. */
  extras?: readonly string[];
  /** Dependency groups that were included. */
  groups?: readonly string[];
}

/**
 * Writes a resolution as a `pylock.toml`, atomically.
 *
 * @param path Absolute path of the lock file to write.
 * @param resolution The resolver's result.
 * @param options The target and the project facts to record.
 * @returns The number of packages written.
 * @throws {PycontainerError} when the file cannot be written (naming it).
 *
 * @example
 * ```ts ignore
 * await writeLockFile("/src/myapi/pylock.toml", resolution, { markerEnv: target.markerEnv });
 * ```
 */
export async function writeLockFile(
  path: string,
  resolution: Resolution,
  options: WriteLockOptions,
): Promise<number> {
  const text = formatPylock(resolution, {
    ...(options.requiresPython ? { requiresPython: options.requiresPython } : {}),
    markerEnv: options.markerEnv,
    extras: options.extras ?? [],
    dependencyGroups: options.groups ?? [],
  });
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFileAtomic(path, localUrlsAsPaths(text));
  } catch (cause) {
    throw new PycontainerError(`cannot write the lock file ${path}: ${(cause as Error).message}`, {
      hint: "check that the directory exists and is writable, or choose another --write-lock path",
      cause,
    });
  }
  return resolution.packages.length;
}

/**
 * Rewrites `url = "file:///…"` entries of a pylock text as `path = "/…"` (PEP 751 `path`).
 *
 * @param text pylock.toml text.
 * @returns The text with local files as paths.
 *
 * @example
 * ```ts
 * import { localUrlsAsPaths } from "./write_lock.ts";
 * const t = localUrlsAsPaths('{ name = "a.whl", url = "file:///w/a.whl", size = 1 }');
 * console.assert(t === '{ name = "a.whl", path = "/w/a.whl", size = 1 }');
 * ```
 */
export function localUrlsAsPaths(text: string): string {
  return text.replace(
    /url = "file:\/\/([^"]*)"/g,
    (_, p: string) => `path = ${JSON.stringify(decodeURIComponent(p))}`,
  );
}
