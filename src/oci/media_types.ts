/**
 * Media types of the OCI image spec and of Docker's image manifest v2 schema 2, which registries
 * still serve for most images on Docker Hub. Both families describe the same things (manifest,
 * list of manifests, config, layer); the predicates here let the rest of the code ask "is this an
 * index?" without caring which family a registry answered with.
 *
 * @module
 */

/**
 * Every media type pycontainer reads or writes.
 *
 * @example
 * ```ts
 * import { MediaType } from "./media_types.ts";
 * console.assert(MediaType.ociManifest === "application/vnd.oci.image.manifest.v1+json");
 * ```
 */
export const MediaType = {
  /** OCI image manifest. */
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  /** OCI image index (a list of manifests, usually one per platform). */
  ociIndex: "application/vnd.oci.image.index.v1+json",
  /** OCI image config. */
  ociConfig: "application/vnd.oci.image.config.v1+json",
  /** OCI layer, uncompressed tar. */
  ociLayer: "application/vnd.oci.image.layer.v1.tar",
  /** OCI layer, gzip-compressed tar. */
  ociLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  /** OCI layer, zstd-compressed tar. */
  ociLayerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  /** OCI empty descriptor (`{}`), for artifacts without a config. */
  ociEmpty: "application/vnd.oci.empty.v1+json",
  /** Docker image manifest v2 schema 2. */
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  /** Docker manifest list (the Docker form of an index). */
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  /** Docker image config. */
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  /** Docker layer, gzip-compressed tar. */
  dockerLayerGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  /** Docker foreign layer (Windows base layers, served from elsewhere). */
  dockerForeignLayer: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
} as const;

/** One of the media types in {@linkcode MediaType}. */
export type KnownMediaType = typeof MediaType[keyof typeof MediaType];

/**
 * The `Accept` header value for manifest requests: every manifest and index type we understand,
 * so a registry never falls back to converting to the legacy schema 1.
 *
 * @example
 * ```ts
 * import { MANIFEST_ACCEPT } from "./media_types.ts";
 * console.assert(MANIFEST_ACCEPT.includes("application/vnd.oci.image.index.v1+json"));
 * ```
 */
export const MANIFEST_ACCEPT: string = [
  MediaType.ociIndex,
  MediaType.ociManifest,
  MediaType.dockerManifestList,
  MediaType.dockerManifest,
].join(", ");

/**
 * Tells whether a media type is a list of manifests (OCI index or Docker manifest list).
 *
 * @param mediaType The media type, possibly with parameters (`; charset=utf-8`).
 * @returns True for an index or manifest list.
 *
 * @example
 * ```ts
 * import { isIndexMediaType } from "./media_types.ts";
 * console.assert(isIndexMediaType("application/vnd.docker.distribution.manifest.list.v2+json"));
 * ```
 */
export function isIndexMediaType(mediaType: string | undefined): boolean {
  const t = _bare(mediaType);
  return t === MediaType.ociIndex || t === MediaType.dockerManifestList;
}

/**
 * Tells whether a media type is a single-image manifest (OCI or Docker schema 2).
 *
 * @param mediaType The media type, possibly with parameters.
 * @returns True for an image manifest.
 *
 * @example
 * ```ts
 * import { isManifestMediaType } from "./media_types.ts";
 * console.assert(isManifestMediaType("application/vnd.oci.image.manifest.v1+json"));
 * ```
 */
export function isManifestMediaType(mediaType: string | undefined): boolean {
  const t = _bare(mediaType);
  return t === MediaType.ociManifest || t === MediaType.dockerManifest;
}

/**
 * Tells whether a layer media type is gzip-compressed (OCI or Docker).
 *
 * @param mediaType The layer's media type.
 * @returns True when the layer blob is a gzip stream.
 *
 * @example
 * ```ts
 * import { isGzipLayerMediaType } from "./media_types.ts";
 * console.assert(isGzipLayerMediaType("application/vnd.docker.image.rootfs.diff.tar.gzip"));
 * ```
 */
export function isGzipLayerMediaType(mediaType: string): boolean {
  const t = _bare(mediaType);
  return t === MediaType.ociLayerGzip || t === MediaType.dockerLayerGzip ||
    t === MediaType.dockerForeignLayer ||
    t === "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
}

function _bare(mediaType: string | undefined): string {
  return (mediaType ?? "").split(";")[0]!.trim().toLowerCase();
}
