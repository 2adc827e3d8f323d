/**
 * Resolving the base image of a build to what the image writer needs: the manifest for the
 * target platform, its parsed config, its layer descriptors, and a blob source that can open
 * every layer (layers are reused as-is, never decompressed). Three kinds of base:
 *
 * - a registry reference (`python:3.11-slim`, `ghcr.io/x/y@sha256:…`): the tag is always asked
 *   of the registry (a HEAD, so a moved tag is noticed), while manifests, configs and layers
 *   come from the blob cache when it has them (they are content-addressed, so never stale);
 * - `oci-layout:PATH[:TAG]`, a local OCI layout, for air-gapped machines;
 * - `scratch`: no layers, an empty config.
 *
 * An index or manifest list is narrowed to the wanted platform (variant included); a
 * single-platform image must match it.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { PycontainerError } from "../errors.ts";
import { digestOf } from "../oci/digest.ts";
import type { ManifestDocument } from "../oci/manifest.ts";
import { parseImageConfig, parseManifest, selectPlatformManifest } from "../oci/manifest.ts";
import { formatPlatform, normalizePlatform, platformMatches } from "../oci/platform.ts";
import { formatReference, manifestReference, parseReference } from "../oci/reference.ts";
import type { Descriptor, ImageConfig, ImageManifest, Platform } from "../oci/types.ts";
import type { BlobSource } from "../store/blob_source.ts";
import { memoryBlobSource, readBlob } from "../store/blob_source.ts";
import { BlobStore } from "../store/blob_store.ts";
import {
  OCI_LAYOUT_PREFIX,
  parseOciLayoutReference,
  readOciLayout,
} from "../store/layout_reader.ts";
import { verifyStream } from "../store/verify_stream.ts";
import type { RegistryClientOptions, RepositoryRef } from "./client.ts";
import { RegistryClient } from "./client.ts";
import { describeEndpoint } from "./endpoint.ts";
import { registryBlobSource } from "./registry_blob_source.ts";
import { RegistryError } from "./registry_error.ts";

/** A resolved base image for one platform. */
export interface BaseImage {
  /** Normalised reference: `docker.io/library/python:3.11-slim`, `oci-layout:/abs/dir:tag`, `scratch`. */
  reference: string;
  /** Where it came from. */
  kind: "registry" | "oci-layout" | "scratch";
  /** Registry and repository (registry bases only), e.g. for cross-repository mounts on push. */
  repository?: RepositoryRef;
  /** Digest of the index the tag pointed to, when it was an index. */
  indexDigest?: string;
  /** Digest of the platform's image manifest (undefined for scratch). */
  manifestDigest: string | undefined;
  /** The image manifest (undefined for scratch). */
  manifest: ImageManifest | undefined;
  /** The image config: parsed value and its descriptor (undefined for scratch). */
  config: { descriptor: Descriptor | undefined; value: ImageConfig };
  /** Layer descriptors, base first, exactly as in the base manifest. */
  layers: Descriptor[];
  /** The platform of the image (from its config). */
  platform: Platform;
  /** Opens the config and layer blobs. */
  blobSource: BlobSource;
}

/** Options for {@linkcode resolveBaseImage}. */
export interface ResolveBaseImageOptions extends RegistryClientOptions {
  /** A client to reuse (else one is made from these options). */
  client?: RegistryClient;
  /** The blob cache (default: {@linkcode BlobStore.default}). */
  store?: BlobStore;
  /** Directory relative `oci-layout:` paths are resolved against (default: cwd). */
  cwd?: string;
}

/**
 * Resolves a base image reference for a platform.
 *
 * @param ref `scratch`, `oci-layout:PATH[:TAG]` or an image reference.
 * @param platform The platform being built.
 * @param options Registry options, client, blob cache.
 * @returns The base image.
 * @throws {PycontainerError} For a bad reference (exit 2), a base image that doesn't exist
 *   (exit 2), a missing platform, an unreachable registry, corrupt data.
 *
 * @example
 * ```ts
 * import { resolveBaseImage } from "./base_image.ts";
 * const base = await resolveBaseImage("scratch", { os: "linux", architecture: "arm64" });
 * console.assert(base.layers.length === 0 && base.config.value.architecture === "arm64");
 * ```
 */
export async function resolveBaseImage(
  ref: string,
  platform: Platform,
  options: ResolveBaseImageOptions = {},
): Promise<BaseImage> {
  const wanted = normalizePlatform(platform);
  if (ref === "scratch") return _scratch(wanted);
  if (ref.startsWith(OCI_LAYOUT_PREFIX)) return await _fromLayout(ref, wanted, options);
  return await _fromRegistry(ref, wanted, options);
}

function _scratch(platform: Platform): BaseImage {
  const value: ImageConfig = {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant === undefined ? {} : { variant: platform.variant }),
    config: {},
    rootfs: { type: "layers", diff_ids: [] },
    history: [],
  };
  return {
    reference: "scratch",
    kind: "scratch",
    manifestDigest: undefined,
    manifest: undefined,
    config: { descriptor: undefined, value },
    layers: [],
    platform,
    blobSource: memoryBlobSource([]),
  };
}

interface _Fetched {
  digest: string;
  document: ManifestDocument;
}

/** Index → platform manifest → config, with the fetching left to the caller. */
async function _resolvePlatform(
  top: _Fetched,
  platform: Platform,
  name: string,
  fetchManifest: (d: Descriptor) => Promise<_Fetched>,
  fetchConfig: (d: Descriptor) => Promise<Uint8Array>,
): Promise<
  { indexDigest?: string; manifestDigest: string; manifest: ImageManifest; config: ImageConfig }
> {
  let indexDigest: string | undefined;
  let current = top;
  if (current.document.kind === "index") {
    indexDigest = current.digest;
    const chosen = selectPlatformManifest(current.document.index, platform, name);
    current = await fetchManifest(chosen);
    if (current.document.kind !== "manifest") {
      throw new PycontainerError(
        `base image ${name}: the ${formatPlatform(platform)} entry is not an image manifest`,
      );
    }
  }
  const manifest = (current.document as { manifest: ImageManifest }).manifest;
  const config = parseImageConfig(await fetchConfig(manifest.config), `base image ${name}`);
  const actual = normalizePlatform({
    os: config.os,
    architecture: config.architecture,
    ...(config.variant === undefined ? {} : { variant: config.variant }),
  });
  if (!platformMatches(platform, actual)) {
    throw new PycontainerError(
      `base image ${name} is ${formatPlatform(actual)} only, not ${formatPlatform(platform)}`,
      {
        hint: `build with --platform ${
          formatPlatform(actual)
        }, or choose a multi-platform base image`,
      },
    );
  }
  return {
    ...(indexDigest === undefined ? {} : { indexDigest }),
    manifestDigest: current.digest,
    manifest,
    config,
  };
}

async function _fromRegistry(
  input: string,
  platform: Platform,
  options: ResolveBaseImageOptions,
): Promise<BaseImage> {
  const ref = parseReference(input);
  const client = options.client ?? new RegistryClient(options);
  const store = options.store ?? BlobStore.default(options.env);
  const repo: RepositoryRef = { registry: ref.registry, repository: ref.repository };
  const shown = describeEndpoint(client.endpoint(ref.registry));

  const cachedManifest = async (digest: string): Promise<_Fetched | undefined> => {
    const bytes = await readFile(store.path(digest)).catch(() => undefined);
    if (bytes === undefined || digestOf(bytes) !== digest) return undefined;
    return {
      digest,
      document: parseManifest(new Uint8Array(bytes), `${input} (cached ${digest})`),
    };
  };
  const remember = async (digest: string, bytes: Uint8Array, mediaType: string) => {
    if (!(await store.has({ digest, size: bytes.byteLength, mediaType }))) {
      await store.write(
        { digest, size: bytes.byteLength, mediaType },
        new Blob([bytes as Uint8Array<ArrayBuffer>]).stream(),
        "memory",
      );
    }
  };
  const fetchManifest = async (reference: string, descriptor?: Descriptor): Promise<_Fetched> => {
    // A HEAD answers "which digest is the tag now?" cheaply; when it fails (404s have no body
    // with the error code, some registries mishandle HEAD) the GET below reports properly.
    const digest = reference.startsWith("sha256:")
      ? reference
      : await client.headManifest(repo, reference).catch((e) => {
        if (e instanceof RegistryError && e.status !== undefined) return undefined;
        throw e;
      });
    const cached = digest === undefined ? undefined : await cachedManifest(digest);
    if (cached) return cached;
    const fetched = await client.getManifest(repo, reference);
    if (descriptor && fetched.bytes.byteLength !== descriptor.size) {
      throw new RegistryError(
        `registry ${shown}: manifest ${descriptor.digest} has ${fetched.bytes.byteLength} bytes, expected ${descriptor.size}`,
        { registry: shown, operation: "get manifest" },
      );
    }
    await remember(fetched.digest, fetched.bytes, fetched.mediaType);
    return { digest: fetched.digest, document: fetched.document };
  };

  let top: _Fetched;
  try {
    top = await fetchManifest(manifestReference(ref));
  } catch (e) {
    if (
      e instanceof RegistryError &&
      (e.status === 404 || e.codes.includes("MANIFEST_UNKNOWN") || e.codes.includes("NAME_UNKNOWN"))
    ) {
      throw new PycontainerError(
        `base image ${input} not found in ${shown} (HTTP ${e.status ?? 404}${
          e.codes.length ? ` ${e.codes.join(", ")}` : ""
        })`,
        {
          hint:
            "check the image name and tag given with --base-image (or the python version it was derived from)",
          exitCode: 2,
          cause: e,
        },
      );
    }
    throw e;
  }
  const name = formatReference(ref, { familiar: true });
  const resolved = await _resolvePlatform(
    top,
    platform,
    name,
    (d) => fetchManifest(d.digest, d),
    (d) => readBlob(registryBlobSource(client, repo, store, [d]), d, `base image ${name}`),
  );
  const blobs = [resolved.manifest.config, ...resolved.manifest.layers];
  return {
    reference: formatReference(ref),
    kind: "registry",
    repository: repo,
    ...(resolved.indexDigest === undefined ? {} : { indexDigest: resolved.indexDigest }),
    manifestDigest: resolved.manifestDigest,
    manifest: resolved.manifest,
    config: { descriptor: resolved.manifest.config, value: resolved.config },
    layers: resolved.manifest.layers,
    platform: _platformOf(resolved.config),
    blobSource: registryBlobSource(client, repo, store, blobs),
  };
}

async function _fromLayout(
  input: string,
  platform: Platform,
  options: ResolveBaseImageOptions,
): Promise<BaseImage> {
  const { path, tag } = parseOciLayoutReference(input, options.cwd);
  const layout = await readOciLayout(path);
  const name = `oci-layout:${layout.dir}${tag === undefined ? "" : `:${tag}`}`;
  const source: BlobSource = {
    has: (d) => layout.blobs.has(d),
    open: async (d) => verifyStream(await layout.blobs.open(d), d, `OCI layout ${layout.dir}`),
  };
  const fetchManifest = async (d: Descriptor): Promise<_Fetched> => ({
    digest: d.digest,
    document: parseManifest(await readBlob(source, d, name), `${name} (${d.digest})`, d.mediaType),
  });
  const resolved = await _resolvePlatform(
    await fetchManifest(layout.resolve(tag)),
    platform,
    name,
    fetchManifest,
    (d) => readBlob(source, d, name),
  );
  return {
    reference: name,
    kind: "oci-layout",
    ...(resolved.indexDigest === undefined ? {} : { indexDigest: resolved.indexDigest }),
    manifestDigest: resolved.manifestDigest,
    manifest: resolved.manifest,
    config: { descriptor: resolved.manifest.config, value: resolved.config },
    layers: resolved.manifest.layers,
    platform: _platformOf(resolved.config),
    blobSource: source,
  };
}

function _platformOf(config: ImageConfig): Platform {
  return normalizePlatform({
    os: config.os,
    architecture: config.architecture,
    ...(config.variant === undefined ? {} : { variant: config.variant }),
  });
}
