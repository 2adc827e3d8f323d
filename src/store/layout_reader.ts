/**
 * Reading an OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/`) — the local base
 * image source `oci-layout:PATH[:TAG]` for air-gapped machines, and the way tests and other
 * modules look back at what the layout writer produced. A tag is resolved through the
 * `org.opencontainers.image.ref.name` annotation on `index.json` entries; without a tag, a layout
 * with exactly one manifest needs none.
 *
 * @module
 */
import { readFile, stat } from "node:fs/promises";
import { isAbsolute, join, resolve } from "node:path";
import { PycontainerError } from "../errors.ts";
import { digestHex } from "../oci/digest.ts";
import { parseManifest } from "../oci/manifest.ts";
import type { Descriptor, ImageIndex } from "../oci/types.ts";
import type { BlobSource } from "./blob_source.ts";
import { missingBlobError } from "./blob_source.ts";
import { openFileStream } from "./_file_stream.ts";

/** The annotation that carries a tag on an `index.json` entry. */
export const REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name";
/** The prefix of a local OCI layout base image reference. */
export const OCI_LAYOUT_PREFIX = "oci-layout:";

/** An OCI image layout opened for reading. */
export interface OciLayout {
  /** Absolute path of the layout directory. */
  dir: string;
  /** The parsed `index.json`. */
  index: ImageIndex;
  /** The layout's blobs (streams are not verified; wrap with `verifyStream`). */
  blobs: BlobSource;
  /**
   * Finds the entry for a tag, or the only entry when no tag is given.
   * @param tag A `org.opencontainers.image.ref.name` value.
   * @returns The manifest or index descriptor.
   */
  resolve(tag?: string): Descriptor;
}

/**
 * Splits `oci-layout:PATH[:TAG]`. The tag is the part after the last `:` when that part contains
 * no path separator (so `oci-layout:/data/img:v1` has tag `v1`, `oci-layout:./img` has none).
 *
 * @param ref The reference, with the `oci-layout:` prefix.
 * @param cwd Directory relative paths are resolved against.
 * @returns The absolute layout path and the tag, if any.
 * @throws {PycontainerError} exit code 2 when the path is empty.
 *
 * @example
 * ```ts
 * import { parseOciLayoutReference } from "./layout_reader.ts";
 * const r = parseOciLayoutReference("oci-layout:/data/img:v1");
 * console.assert(r.path === "/data/img" && r.tag === "v1");
 * ```
 */
export function parseOciLayoutReference(
  ref: string,
  cwd: string = resolve("."),
): { path: string; tag?: string } {
  let rest = ref.startsWith(OCI_LAYOUT_PREFIX) ? ref.slice(OCI_LAYOUT_PREFIX.length) : ref;
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > 0 && !/[/\\]/.test(rest.slice(colon + 1))) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  if (rest === "" || tag === "") {
    throw new PycontainerError(`invalid base image "${ref}": expected oci-layout:PATH[:TAG]`, {
      hint: "e.g. --base-image oci-layout:./base:bookworm",
      exitCode: 2,
    });
  }
  const path = isAbsolute(rest) ? rest : join(cwd, rest);
  return tag === undefined ? { path } : { path, tag };
}

/**
 * Opens an OCI image layout directory.
 *
 * @param dir The layout directory.
 * @returns The layout.
 * @throws {PycontainerError} When the directory is missing or is not an OCI layout.
 *
 * @example
 * ```ts
 * import { readOciLayout } from "./layout_reader.ts";
 * await readOciLayout("/nonexistent").catch((e) => console.assert(e.message.includes("not found")));
 * ```
 */
export async function readOciLayout(dir: string): Promise<OciLayout> {
  const abs = resolve(dir);
  const s = await stat(abs).catch(() => undefined);
  if (!s?.isDirectory()) {
    throw new PycontainerError(`OCI layout ${abs} not found`, {
      hint: "check the path given with oci-layout:PATH",
    });
  }
  const marker = await readFile(join(abs, "oci-layout"), "utf8").catch(() => undefined);
  if (marker === undefined) {
    throw new PycontainerError(`${abs} is not an OCI image layout (it has no oci-layout file)`, {
      hint: "point at a directory written by pycontainer, skopeo copy oci:DIR or umoci",
    });
  }
  const indexBytes = await readFile(join(abs, "index.json")).catch(() => undefined);
  if (indexBytes === undefined) {
    throw new PycontainerError(`OCI layout ${abs} has no index.json`);
  }
  const doc = parseManifest(new Uint8Array(indexBytes), join(abs, "index.json"));
  if (doc.kind !== "index") {
    throw new PycontainerError(`${join(abs, "index.json")} is not an image index`);
  }
  const index = doc.index;
  return {
    dir: abs,
    index,
    blobs: layoutBlobSource(abs),
    resolve: (tag) => _resolve(abs, index, tag),
  };
}

/**
 * The blobs of an OCI layout directory as a {@linkcode BlobSource}.
 *
 * @param dir The layout directory.
 * @returns A source reading `blobs/sha256/<hex>` (sizes checked, digests not).
 *
 * @example
 * ```ts
 * import { layoutBlobSource } from "./layout_reader.ts";
 * const source = layoutBlobSource("/nonexistent");
 * console.assert(!(await source.has({ mediaType: "x", digest: "sha256:" + "a".repeat(64), size: 1 })));
 * ```
 */
export function layoutBlobSource(dir: string): BlobSource {
  const pathOf = (d: Descriptor) => join(dir, "blobs", "sha256", digestHex(d.digest));
  return {
    async has(d) {
      const s = await stat(pathOf(d)).catch(() => undefined);
      return s !== undefined && s.isFile() && s.size === d.size;
    },
    async open(d) {
      const s = await stat(pathOf(d)).catch(() => undefined);
      if (!s || s.size !== d.size) throw missingBlobError(d, `OCI layout ${dir}`);
      return openFileStream(pathOf(d));
    },
  };
}

function _resolve(dir: string, index: ImageIndex, tag: string | undefined): Descriptor {
  const tags = index.manifests.map((d) => d.annotations?.[REF_NAME_ANNOTATION])
    .filter((t): t is string => t !== undefined);
  if (tag === undefined) {
    if (index.manifests.length === 1) return index.manifests[0]!;
    throw new PycontainerError(
      `OCI layout ${dir} holds ${index.manifests.length} images; say which with oci-layout:PATH:TAG`,
      { hint: tags.length ? `tags in it: ${tags.join(", ")}` : "the layout has no tagged images" },
    );
  }
  const found = index.manifests.find((d) => d.annotations?.[REF_NAME_ANNOTATION] === tag);
  if (found) return found;
  throw new PycontainerError(`tag "${tag}" not found in OCI layout ${dir}`, {
    hint: tags.length ? `tags in it: ${tags.join(", ")}` : "the layout has no tagged images",
  });
}
