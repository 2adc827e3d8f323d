/**
 * Reading manifests, indexes and configs that came from outside (a registry, an OCI layout):
 * JSON parsing plus the structural checks the rest of the code relies on (schema version 2,
 * descriptors with a valid digest and size), and choosing the manifest for a platform out of an
 * index. Everything here is pure: bytes in, typed value or a {@linkcode PycontainerError} out.
 *
 * @module
 */
import { PycontainerError } from "../errors.ts";
import { digestProblem } from "./digest.ts";
import { isIndexMediaType, isManifestMediaType, MediaType } from "./media_types.ts";
import { formatPlatform, normalizePlatform, platformMatches } from "./platform.ts";
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest, Platform } from "./types.ts";

/** A parsed manifest document: either an index or an image manifest. */
export type ManifestDocument =
  | { kind: "index"; mediaType: string; index: ImageIndex }
  | { kind: "manifest"; mediaType: string; manifest: ImageManifest };

/**
 * Parses a manifest or index, using the body's `mediaType` or, failing that, the content type
 * the registry sent.
 *
 * @param bytes The document bytes.
 * @param source What it is, for messages, e.g. `localhost:5000/library/python:3.11-slim`.
 * @param contentType The `Content-Type` header or descriptor media type, if known.
 * @returns The parsed document.
 * @throws {PycontainerError} `invalid manifest for SOURCE: <why>`.
 *
 * @example
 * ```ts
 * import { parseManifest } from "./manifest.ts";
 * const doc = parseManifest(new TextEncoder().encode('{"schemaVersion":2,"manifests":[]}'), "x", "application/vnd.oci.image.index.v1+json");
 * console.assert(doc.kind === "index");
 * ```
 */
export function parseManifest(
  bytes: Uint8Array,
  source: string,
  contentType?: string,
): ManifestDocument {
  const fail = (why: string): never => {
    throw new PycontainerError(`invalid manifest for ${source}: ${why}`, {
      hint: "the registry or layout returned something that is not an OCI/Docker v2 manifest",
    });
  };
  const json = _parseJson(bytes, fail);
  if (json.schemaVersion === 1) {
    fail("Docker schema 1 manifests are not supported (re-push the image with a current tool)");
  }
  if (json.schemaVersion !== 2) {
    fail(`schemaVersion must be 2, got ${JSON.stringify(json.schemaVersion)}`);
  }
  const declared = typeof json.mediaType === "string" ? json.mediaType : contentType;
  const looksIndex = Array.isArray(json.manifests);
  if (isIndexMediaType(declared) || (looksIndex && !isManifestMediaType(declared))) {
    if (!looksIndex) fail('an index must have a "manifests" array');
    (json.manifests as unknown[]).forEach((d, i) => _checkDescriptor(d, `manifests[${i}]`, fail));
    return {
      kind: "index",
      mediaType: isIndexMediaType(declared) ? declared! : MediaType.ociIndex,
      index: json as unknown as ImageIndex,
    };
  }
  if (!Array.isArray(json.layers)) fail('an image manifest must have a "layers" array');
  _checkDescriptor(json.config, "config", fail);
  (json.layers as unknown[]).forEach((d, i) => _checkDescriptor(d, `layers[${i}]`, fail));
  return {
    kind: "manifest",
    mediaType: isManifestMediaType(declared) ? declared! : MediaType.ociManifest,
    manifest: json as unknown as ImageManifest,
  };
}

/**
 * Parses an image config blob.
 *
 * @param bytes The config bytes.
 * @param source What it is, for messages.
 * @returns The config.
 * @throws {PycontainerError} `invalid image config for SOURCE: <why>`.
 *
 * @example
 * ```ts
 * import { parseImageConfig } from "./manifest.ts";
 * const c = parseImageConfig(new TextEncoder().encode('{"os":"linux","architecture":"amd64","rootfs":{"type":"layers","diff_ids":[]}}'), "x");
 * console.assert(c.os === "linux");
 * ```
 */
export function parseImageConfig(bytes: Uint8Array, source: string): ImageConfig {
  const fail = (why: string): never => {
    throw new PycontainerError(`invalid image config for ${source}: ${why}`);
  };
  const json = _parseJson(bytes, fail);
  if (typeof json.os !== "string" || typeof json.architecture !== "string") {
    fail('"os" and "architecture" must be strings');
  }
  const rootfs = json.rootfs as { type?: unknown; diff_ids?: unknown } | undefined;
  if (!rootfs || !Array.isArray(rootfs.diff_ids)) fail('"rootfs.diff_ids" must be an array');
  return json as unknown as ImageConfig;
}

/**
 * Picks the manifest for a platform out of an index. Entries without a platform, and
 * attestation entries (`unknown/unknown`), never match.
 *
 * @param index The index or manifest list.
 * @param platform The wanted platform.
 * @param imageName The image, for the message.
 * @returns The matching manifest descriptor (the first one when several match).
 * @throws {PycontainerError} `base image X is not available for linux/arm64 (available platforms: …)`.
 *
 * @example
 * ```ts
 * import { selectPlatformManifest } from "./manifest.ts";
 * const d = { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: "sha256:" + "a".repeat(64), size: 1 };
 * const index = { schemaVersion: 2 as const, manifests: [{ ...d, platform: { os: "linux", architecture: "amd64" } }] };
 * console.assert(selectPlatformManifest(index, { os: "linux", architecture: "amd64" }, "x") === index.manifests[0]);
 * ```
 */
export function selectPlatformManifest(
  index: ImageIndex,
  platform: Platform,
  imageName: string,
): Descriptor {
  const candidates = index.manifests.filter((d) =>
    d.platform !== undefined && isManifestMediaType(d.mediaType) &&
    d.platform.os !== "unknown" && d.platform.architecture !== "unknown"
  );
  const found = candidates.find((d) => platformMatches(platform, d.platform!));
  if (found) return found;
  const available = [
    ...new Set(candidates.map((d) => formatPlatform(normalizePlatform(d.platform!)))),
  ];
  throw new PycontainerError(
    `base image ${imageName} is not available for ${formatPlatform(normalizePlatform(platform))} ` +
      `(available platforms: ${available.length ? available.join(", ") : "none"})`,
    {
      hint: available.length
        ? `build for one of the available platforms with --platform, or choose another base image`
        : "choose a base image that publishes images for your platform",
    },
  );
}

function _parseJson(bytes: Uint8Array, fail: (why: string) => never): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    const text = new TextDecoder().decode(bytes.subarray(0, 40)).replace(/\s+/g, " ");
    return fail(`not JSON (${(e as Error).message}; starts with ${JSON.stringify(text)})`);
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    return fail("expected a JSON object");
  }
  return json as Record<string, unknown>;
}

function _checkDescriptor(value: unknown, where: string, fail: (why: string) => never): void {
  if (value === null || typeof value !== "object") fail(`${where} is not a descriptor object`);
  const d = value as Record<string, unknown>;
  if (typeof d.mediaType !== "string") fail(`${where}.mediaType must be a string`);
  if (typeof d.digest !== "string") fail(`${where}.digest must be a string`);
  const problem = digestProblem(d.digest as string);
  if (problem !== undefined) fail(`${where}.digest: ${problem}`);
  if (typeof d.size !== "number" || !Number.isSafeInteger(d.size) || d.size < 0) {
    fail(`${where}.size must be a non-negative integer`);
  }
}
