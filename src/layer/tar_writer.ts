/**
 * Layer entries → deterministic tar → gzip, with the layer's `diff_id` (SHA-256 of the tar) and
 * `digest` (SHA-256 of the gzip) computed in the same streaming pass. Memory stays flat however
 * big the files are: file content streams through, nothing is buffered whole.
 *
 * Determinism: entries sorted by path (parents first), every parent directory made explicit,
 * uid/gid 0 with empty user/group names, one fixed mtime, modes normalised (directories 0755,
 * files 0755 when any executable bit is set, else 0644), PAX headers for long names (modern-tar).
 *
 * Memory: file read buffers are recycled. The tar stream's chunks (file chunks pass through the
 * packer as they are) reach only the tar hash, which consumes them at once, and gzip, which hands
 * each back once copied; `releaseFileChunk` then lets the next file read reuse the buffer. The
 * content streams are opened here and read by nothing else, so no one still holds a chunk.
 *
 * @module
 */
import { createTarPacker, type TarHeader } from "modern-tar";
import { createGzipStream } from "../runtime/gzip.ts";
import { releaseFileChunk } from "../runtime/file_stream.ts";
import { createSha256 } from "../runtime/sha256.ts";
import type { LayerEntry } from "./entry.ts";
import { PycontainerError } from "../errors.ts";

/** The digests and sizes of a written layer. */
export interface LayerDigests {
  /** `sha256:…` of the uncompressed tar (goes in the image config's `rootfs.diff_ids`). */
  diffId: string;
  /** `sha256:…` of the gzip blob (goes in the manifest). */
  digest: string;
  /** Size in bytes of the gzip blob. */
  size: number;
  /** Size in bytes of the uncompressed tar. */
  uncompressedSize: number;
}

/** Options for {@linkcode writeLayer}. */
export interface WriteLayerOptions {
  /** Modification time for every entry, in seconds since the epoch. Default 0. */
  mtime?: number;
}

/**
 * Sorts entries, adds missing parent directories and rejects conflicting duplicates.
 *
 * @param entries Entries in any order.
 * @returns The entries in tar order.
 *
 * @example
 * ```ts
 * import { normalizeEntries } from "./tar_writer.ts";
 * import { fileEntry } from "./entry.ts";
 * const out = normalizeEntries([fileEntry("app/src/pkg/a.py", "")]);
 * console.assert(out.map((e) => e.path).join() === "app,app/src,app/src/pkg,app/src/pkg/a.py");
 * ```
 */
export function normalizeEntries(entries: readonly LayerEntry[]): LayerEntry[] {
  const byPath = new Map<string, LayerEntry>();
  for (const entry of entries) {
    const path = checkPath(entry.path);
    const existing = byPath.get(path);
    if (existing && !(existing.type === "dir" && entry.type === "dir")) {
      throw new PycontainerError(`two layer entries write "${path}"`, {
        hint: "each path in a layer must come from exactly one source",
      });
    }
    byPath.set(path, normalizeMode({ ...entry, path }));
  }
  for (const path of [...byPath.keys()]) {
    for (let i = path.indexOf("/"); i > 0; i = path.indexOf("/", i + 1)) {
      const parent = path.slice(0, i);
      const existing = byPath.get(parent);
      if (!existing) byPath.set(parent, { type: "dir", path: parent, mode: 0o755 });
      else if (existing.type !== "dir") {
        throw new PycontainerError(
          `"${parent}" is a file but "${path}" needs it to be a directory`,
        );
      }
    }
  }
  return [...byPath.values()].sort((a, b) => compareBytes(a.path, b.path));
}

function checkPath(path: string): string {
  const clean = path.replace(/\/+$/, "");
  if (
    clean === "" || clean.startsWith("/") || clean.includes("\\") ||
    clean.split("/").some((s) => s === "" || s === "." || s === "..")
  ) {
    throw new PycontainerError(`invalid layer path "${path}"`, {
      hint: "layer paths are relative to the image root, without '.', '..' or empty segments",
    });
  }
  return clean;
}

function normalizeMode(entry: LayerEntry): LayerEntry {
  if (entry.type === "dir") return { ...entry, mode: 0o755 };
  if (entry.type === "file") return { ...entry, mode: entry.mode & 0o111 ? 0o755 : 0o644 };
  return entry;
}

function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Writes entries as a gzip-compressed tar layer into `sink`, returning both digests.
 *
 * @param entries Layer entries (normalised here; order does not matter).
 * @param sink Receives the gzip bytes; it is closed when the layer is complete.
 * @param options Timestamp for every entry.
 * @returns The layer's digests and sizes.
 *
 * @example Writing a one-file layer to memory
 * ```ts
 * import { writeLayer } from "./tar_writer.ts";
 * import { fileEntry } from "./entry.ts";
 * const chunks: Uint8Array[] = [];
 * const sink = new WritableStream<Uint8Array>({ write: (c) => void chunks.push(c) });
 * const layer = await writeLayer([fileEntry("app/app.py", "print('hi')\n")], sink);
 * console.assert(layer.digest.startsWith("sha256:") && layer.size > 0);
 * ```
 */
export async function writeLayer(
  entries: readonly LayerEntry[],
  sink: WritableStream<Uint8Array>,
  options: WriteLayerOptions = {},
): Promise<LayerDigests> {
  const mtime = new Date((options.mtime ?? 0) * 1000);
  const ordered = normalizeEntries(entries);
  const tarHash = createSha256();
  const gzHash = createSha256();
  let uncompressedSize = 0;
  let size = 0;
  const { readable, controller } = createTarPacker();
  const piped = readable
    .pipeThrough(counter(tarHash, (n) => (uncompressedSize += n)))
    .pipeThrough(createGzipStream({ releaseInput: releaseFileChunk }))
    .pipeThrough(counter(gzHash, (n) => (size += n)))
    .pipeTo(sink);
  const packed = packEntries(ordered, controller, mtime).catch((err) => {
    controller.error(err);
    throw err;
  });
  await Promise.all([packed, piped]);
  return {
    diffId: `sha256:${tarHash.digestHex()}`,
    digest: `sha256:${gzHash.digestHex()}`,
    size,
    uncompressedSize,
  };
}

function counter(
  hash: ReturnType<typeof createSha256>,
  count: (n: number) => void,
): TransformStream<Uint8Array, Uint8Array> {
  return new TransformStream({
    transform(chunk, controller) {
      hash.update(chunk);
      count(chunk.length);
      controller.enqueue(chunk);
    },
  });
}

async function packEntries(
  entries: readonly LayerEntry[],
  controller: ReturnType<typeof createTarPacker>["controller"],
  mtime: Date,
): Promise<void> {
  const base = { mtime, uid: 0, gid: 0, uname: "", gname: "" };
  for (const entry of entries) {
    if (entry.type === "dir") {
      await controller.add({
        ...base,
        name: `${entry.path}/`,
        type: "directory",
        size: 0,
        mode: 0o755,
      })
        .close();
    } else if (entry.type === "symlink") {
      const header: TarHeader = {
        ...base,
        name: entry.path,
        type: "symlink",
        size: 0,
        mode: 0o777,
        linkname: entry.target,
      };
      await controller.add(header).close();
    } else {
      const content = entry.content;
      const size = content.kind === "bytes" ? content.bytes.length : content.size;
      const body = controller.add({
        ...base,
        name: entry.path,
        type: "file",
        size,
        mode: entry.mode,
      });
      if (content.kind === "bytes") {
        const writer = body.getWriter();
        if (size > 0) await writer.write(content.bytes);
        await writer.close();
      } else {
        await content.open().pipeThrough(exactSize(entry.path, size)).pipeTo(body);
      }
    }
  }
  controller.finalize();
}

function exactSize(path: string, expected: number): TransformStream<Uint8Array, Uint8Array> {
  let seen = 0;
  const changed = () =>
    new PycontainerError(`"${path}" changed size while the layer was being written`, {
      hint: "don't modify the project while pycontainer builds it, then build again",
    });
  return new TransformStream({
    transform(chunk, controller) {
      seen += chunk.length;
      if (seen > expected) throw changed();
      controller.enqueue(chunk);
    },
    flush() {
      if (seen !== expected) throw changed();
    },
  });
}
