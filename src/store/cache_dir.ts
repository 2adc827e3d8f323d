/**
 * Where pycontainer keeps what it reuses between builds (downloaded base layers, built layers):
 * `$PYCONTAINER_CACHE_DIR`, else `$XDG_CACHE_HOME/pycontainer`, else `~/.cache/pycontainer`.
 *
 * @module
 */
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";

/**
 * The cache directory for this user and environment.
 *
 * @param env Environment variables (default: the process environment).
 * @returns An absolute directory path (not created here).
 *
 * @example
 * ```ts
 * import { defaultCacheDir } from "./cache_dir.ts";
 * console.assert(defaultCacheDir({ PYCONTAINER_CACHE_DIR: "/tmp/c" }) === "/tmp/c");
 * console.assert(defaultCacheDir({ XDG_CACHE_HOME: "/x" }) === "/x/pycontainer");
 * ```
 */
export function defaultCacheDir(
  env: Record<string, string | undefined> = process.env,
): string {
  if (env.PYCONTAINER_CACHE_DIR) return resolve(env.PYCONTAINER_CACHE_DIR);
  if (env.XDG_CACHE_HOME) return join(resolve(env.XDG_CACHE_HOME), "pycontainer");
  return join(homedir(), ".cache", "pycontainer");
}
