/**
 * A lock file that serialises writers of one directory (an OCI layout being updated by two
 * builds at once would otherwise lose a tag: both read `index.json`, each writes back only its
 * own entry, and one's garbage collection can delete blobs the other just reused). The lock is a
 * file created with `O_EXCL` holding the owner's pid; a lock whose owner has died on this machine,
 * or that is older than the stale limit, is broken. Waiting is bounded and ends in a clear error.
 *
 * @module
 */
import { open, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { PycontainerError } from "../errors.ts";

/** The lock file's name inside the locked directory. */
export const LOCK_FILE_NAME = ".pycontainer.lock";

/** Options for {@linkcode withDirLock}. */
export interface DirLockOptions {
  /** How long to wait for another holder, ms (default 120 000). */
  waitMs?: number;
  /** Age after which a lock is considered abandoned, ms (default 600 000). */
  staleMs?: number;
}

/**
 * Runs `fn` while holding the directory's lock file.
 *
 * @param dir The directory (must exist).
 * @param fn The work to do under the lock.
 * @param options Wait and staleness limits.
 * @returns What `fn` returns.
 * @throws {PycontainerError} When another process keeps the lock past `waitMs`.
 *
 * @example
 * ```ts
 * import { withDirLock } from "./dir_lock.ts";
 * import { tmpdir } from "node:os";
 * const n = await withDirLock(tmpdir(), () => Promise.resolve(42));
 * console.assert(n === 42);
 * ```
 */
export async function withDirLock<T>(
  dir: string,
  fn: () => Promise<T>,
  options: DirLockOptions = {},
): Promise<T> {
  const path = join(dir, LOCK_FILE_NAME);
  const deadline = Date.now() + (options.waitMs ?? 120_000);
  const staleMs = options.staleMs ?? 600_000;
  for (let delay = 20;; delay = Math.min(delay * 2, 500)) {
    try {
      const fh = await open(path, "wx", 0o644);
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    if (await _abandoned(path, staleMs)) {
      await rm(path, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      const owner = (await readFile(path, "utf8").catch(() => "")).trim();
      throw new PycontainerError(
        `${dir} is locked by another pycontainer process${owner ? ` (pid ${owner})` : ""}`,
        { hint: `wait for it to finish, or delete ${path} if no build is running` },
      );
    }
    await new Promise((r) => setTimeout(r, delay));
  }
  try {
    return await fn();
  } finally {
    await rm(path, { force: true });
  }
}

async function _abandoned(path: string, staleMs: number): Promise<boolean> {
  const s = await stat(path).catch(() => undefined);
  if (!s) return false; // released meanwhile: just retry
  if (Date.now() - s.mtimeMs > staleMs) return true;
  const pid = Number((await readFile(path, "utf8").catch(() => "")).trim());
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ESRCH";
  }
}
