/**
 * Merges the entries of several installs (wheels, the venv skeleton, the project itself) into one
 * list for a layer, and fails when two of them write different things to the same path. pip
 * silently lets the last wheel win and uv only warns; in an image that is a heisenbug (which file
 * you get depends on install order), so here it is an error naming both distributions. The same
 * file from two wheels (same hash, same mode) is kept once, as are identical directories and
 * symlinks. A path below another install's file or symlink (e.g. `.venv/lib64/x` below the
 * venv's `lib64 -> lib` link) is rejected too: extracting it would write through the link.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { PycontainerError } from "../errors.ts";
import type { LayerEntry } from "../layer/entry.ts";

/** One install's output: a label for messages, its entries and (optionally) known file hashes. */
export interface InstallSet {
  /** E.g. `six 1.16.0 (six-1.16.0-py2.py3-none-any.whl)` or `venv`. */
  readonly label: string;
  /** The entries. */
  readonly entries: readonly LayerEntry[];
  /** Content hash per image path (e.g. RECORD's `sha256=…`); used to compare streamed files. */
  readonly hashes?: ReadonlyMap<string, string>;
}

/**
 * Merges installs, rejecting conflicting paths.
 *
 * @param sets The installs, in order (the first occurrence of a shared identical path is kept).
 * @returns The merged entries, sorted by path.
 * @throws {PycontainerError} When two installs write different content, mode or kind to one path.
 *
 * @example
 * ```ts
 * import { mergeInstalls } from "./install_merge.ts";
 * import { fileEntry } from "../layer/entry.ts";
 * const a = { label: "a 1.0", entries: [fileEntry("app/.venv/x.py", "1")] };
 * const b = { label: "b 1.0", entries: [fileEntry("app/.venv/x.py", "1")] };
 * console.assert(mergeInstalls([a, b]).length === 1);
 * ```
 */
export function mergeInstalls(sets: readonly InstallSet[]): LayerEntry[] {
  const seen = new Map<string, { entry: LayerEntry; label: string; key: string }>();
  for (const set of sets) {
    for (const entry of set.entries) {
      const key = _fingerprint(entry, set.hashes);
      const prior = seen.get(entry.path);
      if (!prior) {
        seen.set(entry.path, { entry, label: set.label, key });
        continue;
      }
      if (prior.key === key && key !== "") continue;
      const same = prior.label === set.label;
      throw new PycontainerError(
        same
          ? `${set.label} writes "${entry.path}" twice with different content`
          : `${prior.label} and ${set.label} both install "${entry.path}" with different content`,
        {
          hint: same
            ? "the package is broken; use another build of it"
            : "the two packages conflict: drop one of them, or pin versions that don't overlap",
        },
      );
    }
  }
  // A path below a file or a symlink would be written through it when the layer is extracted.
  for (const [path, { label }] of seen) {
    for (let i = path.indexOf("/"); i > 0; i = path.indexOf("/", i + 1)) {
      const parent = seen.get(path.slice(0, i));
      if (parent && parent.entry.type !== "dir") {
        throw new PycontainerError(
          `${label} installs "${path}" below ${parent.entry.type} "${parent.entry.path}" from ${parent.label}`,
          { hint: "the packages conflict: drop one of them, or pin versions that don't overlap" },
        );
      }
    }
  }
  return [...seen.values()].map((s) => s.entry).sort((a, b) =>
    a.path < b.path ? -1 : a.path > b.path ? 1 : 0
  );
}

/** What makes two entries interchangeable; `""` when unknown (never equal to anything). */
function _fingerprint(entry: LayerEntry, hashes: ReadonlyMap<string, string> | undefined): string {
  switch (entry.type) {
    case "dir":
      return `dir:${entry.mode.toString(8)}`;
    case "symlink":
      return `symlink:${entry.target}`;
    case "file": {
      const exec = (entry.mode & 0o111) !== 0 ? "x" : "-";
      const known = hashes?.get(entry.path);
      if (known) return `file:${exec}:${known}`;
      if (entry.content.kind === "bytes") {
        const digest = createHash("sha256").update(entry.content.bytes).digest("base64url");
        return `file:${exec}:sha256=${digest}`;
      }
      return entry.content.identity ? `file:${exec}:${entry.content.identity}` : "";
    }
  }
}
