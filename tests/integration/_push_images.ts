/**
 * Test helper: makes runnable images to push, as OCI layouts — the test base image (Debian +
 * python3, see `make_base_image.sh`) plus one new gzip layer of given files — without running a
 * build. Several images can share one layout directory (one tag each); base blobs are
 * hard-linked (copied across file systems).
 *
 * @module
 */
import { copyFile, link, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileEntry } from "../../src/layer/entry.ts";
import { writeLayer } from "../../src/layer/tar_writer.ts";
import { describeBytes, digestHex } from "../../src/oci/digest.ts";
import { MediaType } from "../../src/oci/media_types.ts";
import type { Descriptor, ImageIndex, ImageManifest } from "../../src/oci/types.ts";

/** Options for {@linkcode makeImage}. */
export interface MakeImageOptions {
  /** The base image layout and its tag. */
  base: { dir: string; tag: string };
  /** Files of the new layer (path without leading slash → content). */
  files: Record<string, Uint8Array | string>;
  /** `org.opencontainers.image.base.name` for the manifest (enables mounts). */
  baseName?: string;
}

/**
 * Adds an image (base + one layer) to an OCI layout, tagged `tag`.
 *
 * @param dir The layout directory (created if needed).
 * @param tag The `org.opencontainers.image.ref.name`.
 * @param options Base, files, base annotation.
 * @returns The manifest descriptor and the new layer's descriptor.
 *
 * @example
 * ```ts
 * const { manifest } = await makeImage(dir, "v1", { base: { dir: baseLayoutPath(), tag: "bookworm" }, files: { "data/x": "1" } });
 * ```
 */
export async function makeImage(
  dir: string,
  tag: string,
  options: MakeImageOptions,
): Promise<{ manifest: Descriptor; layer: Descriptor }> {
  const blobs = join(dir, "blobs", "sha256");
  await mkdir(blobs, { recursive: true });
  const baseIndex = JSON.parse(
    await readFile(join(options.base.dir, "index.json"), "utf8"),
  ) as ImageIndex;
  const baseDesc = baseIndex.manifests.find((d) =>
    d.annotations?.["org.opencontainers.image.ref.name"] === options.base.tag
  )!;
  const baseBlob = (d: { digest: string }) =>
    join(options.base.dir, "blobs", "sha256", digestHex(d.digest));
  const baseManifest = JSON.parse(await readFile(baseBlob(baseDesc), "utf8")) as ImageManifest;
  for (const d of [...baseManifest.layers]) {
    await _linkBlob(baseBlob(d), join(blobs, digestHex(d.digest)));
  }
  const config = JSON.parse(await readFile(baseBlob(baseManifest.config), "utf8"));

  const chunks: Uint8Array[] = [];
  const sink = new WritableStream<Uint8Array>({ write: (c) => void chunks.push(c) });
  const entries = Object.entries(options.files).map(([p, data]) => fileEntry(p, data));
  const digests = await writeLayer(entries, sink, { mtime: 0 });
  const layerBytes = new Uint8Array(
    await new Blob(chunks as Uint8Array<ArrayBuffer>[]).arrayBuffer(),
  );
  const layer: Descriptor = {
    mediaType: MediaType.ociLayerGzip,
    digest: digests.digest,
    size: digests.size,
  };
  await writeFile(join(blobs, digestHex(layer.digest)), layerBytes);

  config.rootfs.diff_ids = [...config.rootfs.diff_ids, digests.diffId];
  config.history = [...(config.history ?? []), { created_by: `test layer ${tag}` }];
  const configBytes = new TextEncoder().encode(JSON.stringify(config));
  const configDesc = describeBytes(configBytes, MediaType.ociConfig);
  await writeFile(join(blobs, digestHex(configDesc.digest)), configBytes);

  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: configDesc,
    layers: [...baseManifest.layers, layer],
    ...(options.baseName
      ? { annotations: { "org.opencontainers.image.base.name": options.baseName } }
      : {}),
  };
  const manifestBytes = new TextEncoder().encode(JSON.stringify(manifest));
  const manifestDesc = describeBytes(manifestBytes, MediaType.ociManifest);
  await writeFile(join(blobs, digestHex(manifestDesc.digest)), manifestBytes);

  const indexPath = join(dir, "index.json");
  const index: ImageIndex = await readFile(indexPath, "utf8").then(
    (t) => JSON.parse(t) as ImageIndex,
    () => ({ schemaVersion: 2, manifests: [] }),
  );
  index.manifests = index.manifests.filter((d) =>
    d.annotations?.["org.opencontainers.image.ref.name"] !== tag
  );
  index.manifests.push({
    ...manifestDesc,
    annotations: { "org.opencontainers.image.ref.name": tag },
  });
  await writeFile(indexPath, JSON.stringify(index));
  await writeFile(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  return { manifest: manifestDesc, layer };
}

async function _linkBlob(from: string, to: string): Promise<void> {
  if (await stat(to).then(() => true, () => false)) return;
  await link(from, to).catch(() => copyFile(from, to));
}
