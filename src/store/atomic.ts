/**
 * Atomic file replacement: write next to the target under a unique temporary name, then
 * `rename` over it, so a reader (or a crash) never sees half a file. Used for every file of an
 * OCI layout and of the blob cache.
 *
 * @module
 */
import { rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/**
 * A unique temporary path in the same directory as `path` (same filesystem, so `rename` is atomic).
 * Names start with `.` and end with `.tmp`, so directory scans can recognise and skip them.
 *
 * @param path The final path.
 * @returns A sibling temporary path.
 *
 * @example
 * ```ts
 * import { tempPathFor } from "./atomic.ts";
 * console.assert(tempPathFor("/x/index.json").startsWith("/x/.index.json."));
 * ```
 */
export function tempPathFor(path: string): string {
  const nonce = crypto.randomUUID().slice(0, 8);
  return join(dirname(path), `.${basename(path)}.${nonce}.tmp`);
}

/**
 * Writes a file atomically (temporary sibling + rename).
 *
 * @param path The file to create or replace.
 * @param data Its new content.
 * @param mode Permission bits, 0o644 by default.
 * @returns Resolves when the file is in place.
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from "./atomic.ts";
 * import { tmpdir } from "node:os";
 * await writeFileAtomic(`${tmpdir()}/example-${crypto.randomUUID()}.json`, "{}");
 * ```
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  mode = 0o644,
): Promise<void> {
  const temp = tempPathFor(path);
  try {
    await writeFile(temp, data, { mode, flush: true });
    await rename(temp, path);
  } catch (e) {
    await rm(temp, { force: true }).catch(() => {});
    throw e;
  }
}
