/**
 * Test helper: copies a fixture project (tests/fixtures/projects/NAME) into a fresh temp
 * directory, so tests can add what git cannot hold (`.git`, `__pycache__`, symlinks, FIFOs).
 *
 * @module
 */

import { copyFile, mkdir, mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** Absolute path of a fixture project. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/projects/${name}`, import.meta.url));
}

/** A temp copy of a fixture (or an empty temp dir when `name` is undefined). */
export interface TempProject {
  /** The temp project directory. */
  dir: string;
  /** Removes the temp directory. */
  remove(): Promise<void>;
}

/** Copies fixture `name` (or nothing) into a new temp dir. */
export async function tempProject(name?: string): Promise<TempProject> {
  const base = await mkdtemp(join(tmpdir(), "pycontainer-project-"));
  const dir = join(base, "proj");
  await mkdir(dir);
  if (name !== undefined) await _copyTree(fixture(name), dir);
  return { dir, remove: () => rm(base, { recursive: true, force: true }) };
}

async function _copyTree(from: string, to: string): Promise<void> {
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const src = join(from, entry.name);
    const dst = join(to, entry.name);
    if (entry.isDirectory()) {
      await mkdir(dst, { mode: (await stat(src)).mode });
      await _copyTree(src, dst);
    } else {
      await copyFile(src, dst);
    }
  }
}
