/**
 * Reading a few facts out of a base image's layers without unpacking them: each layer blob is
 * streamed once (gunzip → tar decoder), the bodies of uninteresting entries are skipped, and
 * only the handful of paths a caller asks about are recorded — their existence, a small text
 * file's content (dpkg status, apk database), or one regular-expression match in a binary's
 * bytes (the glibc or CPython version banner). Memory stays flat: one wanted file at a time.
 *
 * Layers are visited top → bottom, which is what makes stopping early possible: the first layer
 * (from the top) that mentions a path decides it, so once the caller has every answer it needs
 * ({@linkcode ScanOptions.settled}), the lower layers — usually the biggest, the distribution's
 * root filesystem — are never opened. Deletions follow the OCI layer rules: a whiteout
 * `dir/.wh.name` hides `dir/name` (and everything under it) in lower layers, an opaque marker
 * `dir/.wh..wh..opq` hides everything under `dir`, and a non-directory (e.g. the `lib → usr/lib`
 * symlink of a merged-/usr system) hides whatever lower layers had below its path.
 *
 * Decompression uses the Web `DecompressionStream`: inflating is deterministic, so the
 * runtime-specific output differences that rule it out for *writing* layers don't matter here,
 * and it is native code on all three runtimes.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createTarDecoder, type ParsedTarEntry } from "modern-tar";
import { PycontainerError } from "../errors.ts";
import type { Descriptor } from "../oci/types.ts";
import type { BlobSource } from "../store/blob_source.ts";

/** What to record about an interesting path. */
export type Probe =
  | { readonly kind: "exists" }
  | { readonly kind: "text"; readonly maxBytes?: number }
  | {
    /** First match of `pattern` (run over the bytes as latin1 text); group 1 is recorded. */
    readonly kind: "banner";
    readonly pattern: RegExp;
  };

/** One interesting path as the top-most layer that has it says it is. */
export interface Observation {
  /** Path without a leading `/`, e.g. `usr/bin/python3.11`. */
  readonly path: string;
  /** Entry type. */
  readonly type: "file" | "symlink" | "link";
  /** Index of the deciding layer in the manifest (0 = bottom). */
  readonly layer: number;
  /** Link target for symlinks and hard links. */
  readonly linkname?: string;
  /** Content of a `text` probe (UTF-8). */
  readonly text?: string;
  /** Group 1 of a `banner` probe's first match. */
  readonly match?: string;
}

/** Options for {@linkcode scanLayers}. */
export interface ScanOptions {
  /** Says whether (and how) a path is interesting; undefined for the vast majority. */
  probe(path: string): Probe | undefined;
  /** Called after each layer; true stops the scan before the next (lower) layer. */
  settled?(found: ReadonlyMap<string, Observation>): boolean;
  /** The base image's name, for messages. */
  what: string;
}

/** What {@linkcode scanLayers} found. */
export interface ScanResult {
  /** Interesting paths that exist in the merged filesystem, keyed by path. */
  found: Map<string, Observation>;
  /** How many layer blobs were opened. */
  layersRead: number;
}

const _TEXT_CAP = 64 * 1024 * 1024;
const _BANNER_OVERLAP = 512;

/**
 * Scans layers top → bottom for the paths {@linkcode ScanOptions.probe} asks about.
 *
 * @param layers Layer descriptors, bottom first (as in the manifest).
 * @param source Opens the layer blobs.
 * @param options The probe, the early-stop test and a name for messages.
 * @returns The surviving observations and the number of layers read.
 * @throws {PycontainerError} For a zstd or otherwise unreadable layer.
 *
 * @example Asking whether a file exists
 * ```ts
 * import { scanLayers } from "./_base_scan.ts";
 * import { memoryBlobSource } from "../store/blob_source.ts";
 * const r = await scanLayers([], memoryBlobSource([]), {
 *   probe: (p) => (p === "usr/bin/python3.12" ? { kind: "exists" } : undefined),
 *   what: "scratch",
 * });
 * console.assert(r.found.size === 0 && r.layersRead === 0);
 * ```
 */
export async function scanLayers(
  layers: readonly Descriptor[],
  source: BlobSource,
  options: ScanOptions,
): Promise<ScanResult> {
  const found = new Map<string, Observation>();
  const hidden = new Set<string>(); // path and everything below it is gone for lower layers
  const opaque = new Set<string>(); // everything below this directory is gone for lower layers
  let layersRead = 0;
  for (let i = layers.length - 1; i >= 0; i--) {
    if (options.settled?.(found)) break;
    const layer = layers[i] as Descriptor;
    const layerHidden: string[] = [];
    const layerOpaque: string[] = [];
    const tar = _tarStream(await source.open(layer), layer, options.what);
    layersRead++;
    const entries = tar.pipeThrough(createTarDecoder()) as ReadableStream<ParsedTarEntry>;
    try {
      for await (const entry of entries) {
        const path = _normalize(entry.header.name);
        const type = entry.header.type ?? "file";
        const slash = path.lastIndexOf("/");
        const base = path.slice(slash + 1);
        if (base.startsWith(".wh.")) {
          const dir = path.slice(0, slash + 1);
          if (base === ".wh..wh..opq") layerOpaque.push(dir.replace(/\/$/, ""));
          else if (!base.startsWith(".wh..wh.")) layerHidden.push(dir + base.slice(4));
          await _drain(entry.body);
          continue;
        }
        if (type === "symlink" || type === "link" || type === "file") {
          if (type !== "file") layerHidden.push(path);
          const probe = found.has(path) || _masked(path, hidden, opaque)
            ? undefined
            : options.probe(path);
          if (probe !== undefined) {
            found.set(path, await _observe(entry, path, type, i, probe, options.what));
            continue;
          }
        }
        await _drain(entry.body);
      }
    } catch (e) {
      if (e instanceof PycontainerError) throw e;
      throw new PycontainerError(
        `cannot read layer ${layer.digest} of base image ${options.what}: ${
          e instanceof Error ? e.message : String(e)
        }`,
        { cause: e, hint: "the blob may be corrupt: delete it from the cache and build again" },
      );
    }
    for (const p of layerHidden) hidden.add(p);
    for (const p of layerOpaque) opaque.add(p);
  }
  return { found, layersRead };
}

function _normalize(name: string): string {
  let p = name;
  while (p.startsWith("./")) p = p.slice(2);
  return p.replace(/^\/+/, "").replace(/\/+$/, "");
}

/** True when an upper layer deleted the path or one of its parents, or made a parent opaque. */
function _masked(path: string, hidden: Set<string>, opaque: Set<string>): boolean {
  if (hidden.size === 0 && opaque.size === 0) return false;
  if (hidden.has(path) || opaque.has("")) return true;
  for (let i = path.indexOf("/"); i !== -1; i = path.indexOf("/", i + 1)) {
    const parent = path.slice(0, i);
    if (hidden.has(parent) || opaque.has(parent)) return true;
  }
  return false;
}

function _tarStream(
  blob: ReadableStream<Uint8Array>,
  layer: Descriptor,
  what: string,
): ReadableStream<Uint8Array> {
  const type = layer.mediaType;
  if (type.includes("zstd")) {
    blob.cancel().catch(() => {});
    // No hint here: the caller knows which settings make reading the layers unnecessary.
    throw new PycontainerError(
      `base image ${what}: layer ${layer.digest} is zstd-compressed, which pycontainer cannot read`,
    );
  }
  if (type.includes("gzip")) {
    return blob.pipeThrough(
      new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>,
    );
  }
  return blob;
}

async function _observe(
  entry: ParsedTarEntry,
  path: string,
  type: "file" | "symlink" | "link",
  layer: number,
  probe: Probe,
  what: string,
): Promise<Observation> {
  const base = {
    path,
    type,
    layer,
    ...(entry.header.linkname ? { linkname: entry.header.linkname } : {}),
  };
  if (type !== "file" || probe.kind === "exists") {
    await _drain(entry.body);
    return base;
  }
  if (probe.kind === "text") {
    const cap = probe.maxBytes ?? _TEXT_CAP;
    if (entry.header.size > cap) {
      await _drain(entry.body);
      throw new PycontainerError(
        `base image ${what}: /${path} is ${entry.header.size} bytes, more than the ${cap} expected`,
      );
    }
    const bytes = new Uint8Array(await new Response(entry.body).arrayBuffer());
    return { ...base, text: new TextDecoder().decode(bytes) };
  }
  const match = await _findBanner(entry.body, probe.pattern);
  return match === undefined ? base : { ...base, match };
}

/**
 * Reads a body to its end. Skipped entries are drained rather than cancelled: on Bun, reading a
 * body after many cancelled ones stalls modern-tar's decoder (0.8.6), and the bytes have to be
 * decompressed anyway, so draining costs little.
 */
async function _drain(body: ReadableStream<Uint8Array>): Promise<void> {
  const reader = body.getReader();
  while (!(await reader.read()).done) { /* skip */ }
  reader.releaseLock();
}

/**
 * Runs a pattern over a binary stream (as latin1, with overlap between chunks). The body is
 * read to its end even after a match (see {@linkcode _drain}).
 */
async function _findBanner(
  body: ReadableStream<Uint8Array>,
  pattern: RegExp,
): Promise<string | undefined> {
  let tail = "";
  let match: string | undefined;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (match !== undefined) continue;
    const text = tail +
      Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("latin1");
    const m = pattern.exec(text);
    if (m !== null) match = m[1] ?? m[0];
    tail = text.slice(-_BANNER_OVERLAP);
  }
  reader.releaseLock();
  return match;
}
