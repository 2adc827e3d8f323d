/**
 * Writing an OCI image layout: `oci-layout`, every blob reachable from the given manifests
 * (configs, layers, nested manifests of an index) under `blobs/sha256/`, and `index.json` with
 * each tag in `org.opencontainers.image.ref.name` on its manifest's descriptor — the form that
 * `skopeo inspect oci:DIR:TAG` and `umoci unpack --image DIR:TAG` accept.
 *
 * Rebuilding into the same directory replaces the entries of the tags being written, keeps other
 * tags, and then removes blobs nothing in `index.json` references. Every file is written under a
 * temporary name and renamed into place, blobs before the manifests that point to them and
 * `index.json` last, so the layout on disk is always consistent. Blobs already present with the
 * right size are not rewritten, which makes a no-change rebuild nearly free.
 *
 * @module
 */
import { copyFile, mkdir, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { PycontainerError } from "../errors.ts";
import { digestHex, isSha256Digest } from "../oci/digest.ts";
import { isIndexMediaType, isManifestMediaType, MediaType } from "../oci/media_types.ts";
import { parseManifest } from "../oci/manifest.ts";
import type { Descriptor, ImageIndex } from "../oci/types.ts";
import type { BlobSource } from "./blob_source.ts";
import { readBlob } from "./blob_source.ts";
import { tempPathFor, writeFileAtomic } from "./atomic.ts";
import { openFileStream, writeStreamToFile } from "./_file_stream.ts";
import { releaseFileChunk } from "../runtime/file_stream.ts";
import { REF_NAME_ANNOTATION } from "./layout_reader.ts";
import { DigestMismatchError, verifyStream } from "./verify_stream.ts";
import { LOCK_FILE_NAME, withDirLock } from "./dir_lock.ts";

/** One image to put in the layout's `index.json`. */
export interface LayoutEntry {
  /** Descriptor of the image manifest or image index. */
  descriptor: Descriptor;
  /** Tag stored in `org.opencontainers.image.ref.name`; an entry with the same tag is replaced. */
  tag?: string;
}

/** What to write. */
export interface WriteOciLayoutOptions {
  /** The images to add or replace. */
  manifests: LayoutEntry[];
  /** Where every blob reachable from them comes from. */
  blobs: BlobSource;
  /** How many blobs to copy at once (default 4). */
  concurrency?: number;
}

/** What the writer did. */
export interface WriteOciLayoutResult {
  /** The `index.json` now on disk. */
  index: ImageIndex;
  /** Digests of the blobs newly written. */
  written: string[];
  /** Digests of the blobs that were already present. */
  reused: string[];
  /** Digests of the blobs removed because nothing referenced them any more. */
  removed: string[];
}

const LAYOUT_MARKER = '{"imageLayoutVersion":"1.0.0"}';
const STALE_TEMP_MS = 60 * 60 * 1000;

/**
 * Writes (or updates) an OCI image layout directory.
 *
 * @param dir The layout directory; created when missing. An existing non-empty directory must
 *   already be an OCI layout.
 * @param options The images, their tags and the blob source.
 * @returns What was written, reused and removed.
 * @throws {PycontainerError} When the directory can't be written or a blob is missing or corrupt.
 *
 * @example Writing a config-only image
 * ```ts
 * import { writeOciLayout } from "./layout_writer.ts";
 * import { memoryBlobSource } from "./blob_source.ts";
 * import { describeBytes } from "../oci/digest.ts";
 * import { tmpdir } from "node:os";
 * const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
 * const config = enc({ os: "linux", architecture: "amd64", rootfs: { type: "layers", diff_ids: [] } });
 * const configDesc = describeBytes(config, "application/vnd.oci.image.config.v1+json");
 * const manifest = enc({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: configDesc, layers: [] });
 * const desc = describeBytes(manifest, "application/vnd.oci.image.manifest.v1+json");
 * const dir = `${tmpdir()}/layout-${crypto.randomUUID()}`;
 * await writeOciLayout(dir, { manifests: [{ descriptor: desc, tag: "latest" }], blobs: memoryBlobSource([config, manifest]) });
 * ```
 */
export async function writeOciLayout(
  dir: string,
  options: WriteOciLayoutOptions,
): Promise<WriteOciLayoutResult> {
  const root = resolve(dir);
  const fsFail = (e: unknown): never => {
    if (e instanceof PycontainerError) throw e;
    const err = e as NodeJS.ErrnoException;
    throw new PycontainerError(
      `cannot write OCI layout to ${root}: ${err.code ?? ""} ${err.message}`.replace(/\s+/g, " "),
      { hint: "choose a writable --output directory", cause: e },
    );
  };

  await _prepare(root).catch(fsFail);
  return await withDirLock(root, () => _write(root, options, fsFail)).catch(fsFail);
}

async function _write(
  root: string,
  options: WriteOciLayoutOptions,
  fsFail: (e: unknown) => never,
): Promise<WriteOciLayoutResult> {
  const blobDir = join(root, "blobs", "sha256");
  const existing = await _readExisting(root).catch(fsFail);
  // The marker goes first: a writer killed while copying blobs leaves a recognisable layout
  // (marker + blobs, no index.json), which the next build completes instead of refusing.
  if (existing.marker !== LAYOUT_MARKER) {
    await writeFileAtomic(join(root, "oci-layout"), LAYOUT_MARKER).catch(fsFail);
  }
  await mkdir(blobDir, { recursive: true }).catch(fsFail);

  // Children before parents, so a manifest on disk always has its blobs.
  const ordered = await _collect(options.manifests.map((m) => m.descriptor), options.blobs);
  const written: string[] = [];
  const reused: string[] = [];
  await _pool(
    ordered.filter((d) => !isIndexMediaType(d.mediaType) && !isManifestMediaType(d.mediaType)),
    options.concurrency ?? 4,
    async (d) => {
      (await _writeBlob(blobDir, d, options.blobs).catch(fsFail) ? written : reused).push(d.digest);
    },
  );
  for (
    const d of ordered.filter((d) =>
      isIndexMediaType(d.mediaType) || isManifestMediaType(d.mediaType)
    )
  ) {
    (await _writeBlob(blobDir, d, options.blobs).catch(fsFail) ? written : reused).push(d.digest);
  }

  const index = _mergeIndex(existing.index, options.manifests);
  await writeFileAtomic(join(root, "index.json"), JSON.stringify(index)).catch(fsFail);
  const removed = await _collectGarbage(root, index).catch(fsFail);
  return { index, written, reused, removed };
}

/** Creates the directory, or checks that an existing non-empty one is an OCI layout. */
async function _prepare(root: string): Promise<void> {
  const entries = await readdir(root).catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return undefined;
    throw e;
  });
  if (entries === undefined) {
    await mkdir(root, { recursive: true });
    return;
  }
  // Also accept a layout another writer is creating right now (only `blobs/` so far).
  const others = entries.filter((n) =>
    n !== LOCK_FILE_NAME && !n.endsWith(".tmp") && n !== "blobs"
  );
  if (others.length === 0 || others.includes("oci-layout")) return;
  throw new PycontainerError(
    `output directory ${root} exists and is not an OCI image layout`,
    {
      hint: "choose an empty or new --output directory (pycontainer won't overwrite other files)",
      exitCode: 2,
    },
  );
}

async function _readExisting(root: string): Promise<{ marker?: string; index?: ImageIndex }> {
  const marker = await readFile(join(root, "oci-layout"), "utf8").catch(() => undefined);
  if (marker === undefined) return {};
  const bytes = await readFile(join(root, "index.json")).catch(() => undefined);
  if (bytes === undefined) return { marker };
  const doc = parseManifest(new Uint8Array(bytes), join(root, "index.json"));
  return doc.kind === "index" ? { marker, index: doc.index } : { marker };
}

async function _collect(roots: Descriptor[], blobs: BlobSource): Promise<Descriptor[]> {
  const out = new Map<string, Descriptor>();
  const visit = async (d: Descriptor): Promise<void> => {
    if (out.has(d.digest)) return;
    if (isIndexMediaType(d.mediaType) || isManifestMediaType(d.mediaType)) {
      const doc = parseManifest(
        await readBlob(blobs, d, `manifest ${d.digest}`),
        d.digest,
        d.mediaType,
      );
      const children = doc.kind === "index"
        ? doc.index.manifests
        : [doc.manifest.config, ...doc.manifest.layers];
      for (const c of children) await visit(c);
    }
    out.set(d.digest, d);
  };
  for (const r of roots) await visit(r);
  return [...out.values()];
}

/** Writes one blob unless present; returns true when it wrote it. */
async function _writeBlob(blobDir: string, d: Descriptor, blobs: BlobSource): Promise<boolean> {
  const target = join(blobDir, digestHex(d.digest));
  const s = await stat(target).catch(() => undefined);
  if (s?.isFile() && s.size === d.size) return false;
  const temp = tempPathFor(target);
  try {
    const local = blobs.localPath ? await blobs.localPath(d) : undefined;
    if (local !== undefined) {
      // The OS copies (fast, reflinks where possible); the copy is still hashed, because a cache
      // file can have been damaged since it was verified, and the output must be right.
      await copyFile(local, temp);
      // Each chunk is only hashed on its way through: its buffer goes back to the reader, so
      // verifying a big layer doesn't leave a trail of dead buffers for the GC (peak RSS).
      await (verifyStream(await openFileStream(temp), d, local))
        .pipeTo(new WritableStream({ write: releaseFileChunk }))
        .catch((e) => {
          if (!(e instanceof DigestMismatchError)) throw e;
          throw new DigestMismatchError(
            e.message,
            d.digest,
            `delete ${local} (a damaged cache file) and run again`,
          );
        });
    } else {
      await writeStreamToFile(verifyStream(await blobs.open(d), d, "the build"), temp);
    }
    await rename(temp, target);
  } catch (e) {
    await rm(temp, { force: true }).catch(() => {});
    throw e;
  }
  return true;
}

function _mergeIndex(previous: ImageIndex | undefined, entries: LayoutEntry[]): ImageIndex {
  const tags = new Set(entries.map((e) => e.tag).filter((t) => t !== undefined));
  const digests = new Set(
    entries.filter((e) => e.tag === undefined).map((e) => e.descriptor.digest),
  );
  const kept = (previous?.manifests ?? []).filter((d) => {
    const tag = d.annotations?.[REF_NAME_ANNOTATION];
    return tag === undefined ? !digests.has(d.digest) : !tags.has(tag);
  });
  const added = entries.map((e) => {
    const { annotations, ...rest } = e.descriptor;
    const merged = { ...annotations };
    if (e.tag === undefined) delete merged[REF_NAME_ANNOTATION];
    else merged[REF_NAME_ANNOTATION] = e.tag;
    return Object.keys(merged).length ? { ...rest, annotations: merged } : rest;
  });
  return { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [...kept, ...added] };
}

async function _collectGarbage(root: string, index: ImageIndex): Promise<string[]> {
  const blobDir = join(root, "blobs", "sha256");
  const live = new Set<string>();
  const visit = async (d: Descriptor): Promise<void> => {
    if (!isSha256Digest(d.digest) || live.has(d.digest)) return;
    live.add(d.digest);
    if (!isIndexMediaType(d.mediaType) && !isManifestMediaType(d.mediaType)) return;
    const bytes = await readFile(join(blobDir, digestHex(d.digest))).catch(() => undefined);
    if (bytes === undefined) return;
    const doc = parseManifest(new Uint8Array(bytes), d.digest, d.mediaType);
    const children = doc.kind === "index"
      ? doc.index.manifests
      : [doc.manifest.config, ...doc.manifest.layers];
    for (const c of children) await visit(c);
  };
  for (const d of index.manifests) await visit(d);
  const removed: string[] = [];
  const now = Date.now();
  for (const name of await readdir(blobDir)) {
    if (/^[a-f0-9]{64}$/.test(name)) {
      if (!live.has(`sha256:${name}`)) {
        await rm(join(blobDir, name), { force: true });
        removed.push(`sha256:${name}`);
      }
    } else if (name.endsWith(".tmp")) {
      const s = await stat(join(blobDir, name)).catch(() => undefined);
      if (s && now - s.mtimeMs > STALE_TEMP_MS) await rm(join(blobDir, name), { force: true });
    }
  }
  return removed;
}

async function _pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}
