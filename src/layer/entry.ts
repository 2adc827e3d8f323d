/**
 * The layer entry: the common currency between everything that puts files into an image (the
 * app's source files, the wheel installer, generated launchers and venv files) and the one layer
 * writer that turns entries into a deterministic tar. An entry says where a file goes in the
 * image, what kind it is, its mode, and where its bytes come from; it never holds ownership or
 * timestamps, because the writer normalises those (uid/gid 0, fixed mtime).
 *
 * @module
 */

/** Where a regular file's bytes come from: in memory, or a stream opened on demand. */
export type EntryContent =
  | { readonly kind: "bytes"; readonly bytes: Uint8Array }
  | {
    readonly kind: "stream";
    /** Exact byte length; the writer fails if the stream yields a different amount. */
    readonly size: number;
    /** Opens a fresh stream of the content. Called once per layer write. */
    readonly open: () => ReadableStream<Uint8Array>;
    /**
     * A stable identity of the content: `sha256:<hex>` when the digest is known, or a stat
     * fingerprint (`file:<path>:<size>:<mtimeNs>:<ctimeNs>:<ino>:<dev>`) that changes whenever
     * the file does. Layer cache keys are computed from it.
     */
    readonly identity?: string;
    /** For stat fingerprints: the newest of mtime and ctime, in ms (racy-stat check). */
    readonly changedAtMs?: number;
  };

/**
 * One file, directory or symlink in a layer. `path` is relative to the image root, uses `/`,
 * and has no leading `/`, no `.` or `..` segments (e.g. `app/main.py`).
 */
export type LayerEntry =
  | {
    readonly type: "file";
    readonly path: string;
    readonly mode: number;
    readonly content: EntryContent;
  }
  | { readonly type: "dir"; readonly path: string; readonly mode: number }
  | { readonly type: "symlink"; readonly path: string; readonly target: string };

/**
 * Makes a regular-file entry from bytes or a string.
 *
 * @param path Image path without a leading slash.
 * @param data File content.
 * @param mode Permission bits, 0o644 by default.
 * @returns The entry.
 *
 * @example
 * ```ts
 * import { fileEntry } from "./entry.ts";
 * const e = fileEntry("app/.venv/pyvenv.cfg", "home = /usr/local/bin\n");
 * console.assert(e.type === "file" && e.mode === 0o644);
 * ```
 */
export function fileEntry(path: string, data: Uint8Array | string, mode = 0o644): LayerEntry {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  return { type: "file", path, mode, content: { kind: "bytes", bytes } };
}
