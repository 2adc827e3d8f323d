/**
 * The build orchestrator: configuration → project facts → plan → base image → layers →
 * image config and manifest → OCI layout. Each step is a function from the previous step's
 * data; this file only sequences them and reports progress through events.
 *
 * Blobs flow through the content-addressed blob store (the cache directory): base layers are
 * downloaded into it once, new layers are written into it, and the OCI layout writer copies
 * from it (skipping blobs the output already has, removing ones nothing references).
 *
 * @module
 */
import { join, resolve } from "node:path";
import { FileDigests } from "../cache/file_digests.ts";
import { autoEvict } from "../cache/auto_evict.ts";
import { cacheLimit } from "../cache/size_limit.ts";
import { cachedLayer, type LayerContext } from "./cached_layer.ts";
import { DeferredBlobs } from "./deferred_blobs.ts";
import { dependencyLayersFor } from "./dependency_layers.ts";
import { sha256Hex } from "../runtime/sha256.ts";
import { type GzipBlockStats, gzipBlockStats } from "../runtime/gzip.ts";
import { loadFileConfig } from "../config/load_file_config.ts";
import { type ConfigOverrides, mergeConfig } from "../config/merge_config.ts";
import type { BuildConfig } from "../config/types.ts";
import {
  assertBaseConsistent,
  composeImageConfig,
  composeManifest,
  type NewLayer,
} from "../image/compose.ts";
import { describeBytes } from "../oci/digest.ts";
import { MediaType } from "../oci/media_types.ts";
import { formatPlatform } from "../oci/platform.ts";
import { parseReference } from "../oci/reference.ts";
import type { Descriptor, ImageIndex, Platform } from "../oci/types.ts";
import { readProject } from "../project/facts.ts";
import { type BaseImage, resolveBaseImage } from "../registry/base_image.ts";
import { type BlobSource, chainBlobSources, memoryBlobSource } from "../store/blob_source.ts";
import { RegistryClient, type RegistryEvent } from "../registry/client.ts";
import { caFetch, readCaFile } from "../registry/tls_fetch.ts";
import { BlobStore } from "../store/blob_store.ts";
import { writeOciLayout } from "../store/layout_writer.ts";
import { type BuildEventSink, ignoreEvents } from "./events.ts";
import { type BuildPlan, planBuild } from "./plan.ts";

/** What to build: the project and the options that were given (unset = not given). */
export interface BuildRequest {
  /** Project directory. Default: the current directory. */
  context?: string;
  /** Options given by flags or the API; they win over files. */
  overrides?: ConfigOverrides;
  /** Explicit config file instead of `<context>/pycontainer.toml`. */
  configFile?: string;
  /** Environment variables (`SOURCE_DATE_EPOCH`, `PYCONTAINER_*`, `DOCKER_CONFIG`…). Default: `process.env`. */
  env?: Record<string, string | undefined>;
  /** Plan only: read the project and configuration, write nothing, contact no registry. */
  dryRun?: boolean;
  /** Progress events. */
  onEvent?: BuildEventSink;
  /** Blob cache directory. Default: `$PYCONTAINER_CACHE_DIR` or the user's cache directory. */
  cacheDir?: string;
  /** Who gave the overrides, for messages: flags (`cli`) or the API (`api`). */
  origin?: "cli" | "api";
  /** A PEM CA bundle to trust for registry HTTPS (default: `PYCONTAINER_CA_FILE`). */
  caFile?: string;
  /**
   * The image is for a registry (`build --push`): no OCI layout is written unless an output
   * directory is configured (flag, file or API), and a layer the cache knows whose blob is gone
   * is not rebuilt unless a consumer of {@linkcode BuildResult.blobs} opens it — a push asks the
   * registry first, so a layer the registry already has is never materialised (ko's KOCACHE).
   */
  registryOnly?: boolean;
}

/** One layer of a built image. */
export interface BuiltLayer {
  /** `sha256:…` of the gzip blob. */
  digest: string;
  /** `sha256:…` of the uncompressed tar (only known for layers we built). */
  diffId?: string;
  /** Blob size in bytes. */
  size: number;
  /** `base` for layers of the base image, otherwise what the layer holds. */
  source: string;
  /**
   * What this build did with it: `built`, `cached` (reused), `deferred` (a registry-only build
   * left it unbuilt; see {@linkcode BuildRequest.registryOnly}) or `base`.
   */
  state: "built" | "cached" | "deferred" | "base";
}

/** One platform's image. */
export interface BuiltImage {
  /** `os/arch[/variant]`. */
  platform: string;
  /** Manifest digest. */
  manifestDigest: string;
  /** Config digest. */
  configDigest: string;
  /** Layers, bottom to top. */
  layers: BuiltLayer[];
  /** Sum of layer and config sizes. */
  size: number;
}

/** The result of a build. */
export interface BuildResult {
  /** The digest tags point at: the manifest (one platform) or the image index (several). */
  digest: string;
  /** The media type of {@linkcode BuildResult.digest}. */
  mediaType: string;
  /** The descriptor tags point at (digest, media type, size). */
  descriptor: Descriptor;
  /**
   * Every blob of the image: configs and manifests, new layers (deferred ones are built when
   * opened), base layers (fetched from the base image's registry when opened). Push from here.
   */
  blobs: BlobSource;
  /** Full references the image was tagged with. */
  tags: string[];
  /** Output OCI layout directory (absent for a dry run, and for a registry-only build without one). */
  output?: string;
  /** Base image as resolved: `reference@digest` per platform. */
  base: { reference: string; digest?: string }[];
  /** One entry per platform. */
  images: BuiltImage[];
  /** The plan that was executed. */
  plan: BuildPlan;
}

/**
 * Builds an image from a Python project into an OCI layout.
 *
 * @param request The project, options and callbacks.
 * @returns Digests, tags and layers of what was built.
 * @throws {PycontainerError} with a message and a hint for every expected failure.
 *
 * @example
 * ```ts ignore
 * import { build } from "./build.ts";
 * const result = await build({ context: "myapp", overrides: { build: { tags: ["myapp:dev"] } } });
 * console.log(result.digest);
 * ```
 */
export async function build(request: BuildRequest = {}): Promise<BuildResult> {
  const env = request.env ?? process.env;
  const sink = request.onEvent ?? ignoreEvents;
  const layerStates = new Map<string, BuiltLayer["state"]>();
  const emit: BuildEventSink = (event) => {
    if (event.type === "layer") layerStates.set(event.digest, event.state);
    sink(event);
  };
  const config = await loadConfig(request, env);
  for (const [key, source] of Object.entries(config.sources)) {
    emit({ type: "detail", message: `${key} from ${source}` });
  }
  const output = config.build.output ?? resolve(config.context, "dist", "image");
  const project = await readProject(config.context, { outputDir: output });
  for (const x of project.files.excluded) {
    emit({ type: "detail", message: `excluded ${x.path}: ${x.reason}` });
  }
  for (const w of project.files.warnings) emit({ type: "warning", message: w });
  const plan = planBuild({ config, project, env });
  for (const w of plan.python.warnings) emit({ type: "warning", message: w });
  emit({ type: "detail", message: plan.python.reason });
  emit({ type: "detail", message: plan.commandReason });
  if (request.dryRun) {
    return {
      digest: "",
      mediaType: "",
      descriptor: { digest: "", mediaType: "", size: 0 },
      blobs: memoryBlobSource([]),
      tags: plan.tags,
      base: [],
      images: [],
      plan,
    };
  }

  cacheLimit(undefined, env); // a bad PYCONTAINER_CACHE_MAX_SIZE fails before any work
  const gzipBefore = gzipBlockStats();
  const store = request.cacheDir ? new BlobStore(request.cacheDir) : BlobStore.default(env);
  const files = await FileDigests.load(
    join(store.root, "file-digests", `${sha256Hex(plan.context)}.json`),
  );
  const writeLayout = request.registryOnly !== true ||
    (config.sources["build.output"] ?? "default") !== "default";
  const deferred = writeLayout ? undefined : new DeferredBlobs(store);
  const layerCtx: LayerContext = {
    store,
    files,
    epoch: plan.epoch,
    emit,
    ...(deferred ? { deferred } : {}),
  };
  // The app layer is built while the base images are resolved and the dependencies installed.
  const appLayerBuild = cachedLayer(layerCtx, {
    name: "app files",
    kind: "app",
    entries: plan.appEntries,
  });
  appLayerBuild.catch(() => {}); // awaited below; this only avoids an unhandled rejection
  const memory: Uint8Array[] = [];
  const caFile = request.caFile ?? (env.PYCONTAINER_CA_FILE || undefined);
  const client = new RegistryClient({
    env,
    mirror: config.registry.mirror,
    insecure: config.registry.insecure,
    ...(caFile === undefined ? {} : { fetch: caFetch(await readCaFile(resolve(caFile))) }),
    onEvent: (e) => emit({ type: "detail", message: describeRegistryEvent(e) }),
  });
  // Every platform is built at once: bases resolved (network-bound), dependencies chosen and
  // installed, images composed. Only a multi-platform --write-lock orders the dependency choices
  // (each platform rewrites the lock with the resolutions so far; see dependency_layers.ts).
  const built = await Promise.all(plan.platforms.map(async (platform, i) => {
    emit({ type: "info", message: `resolving ${plan.baseImage} for ${formatPlatform(platform)}` });
    const base = await resolveBaseImage(plan.baseImage, platform, { client, store, env });
    assertBaseConsistent(base.config.value, base.layers, base.reference);
    const deps = plan.deps
      ? await dependencyLayersFor({
        plan,
        project,
        base,
        platform,
        platformIndex: i,
        store,
        layers: layerCtx,
        env,
        emit,
        config,
      })
      : { layers: [], env: {} };
    const layers = [...deps.layers, await appLayerBuild];
    return { base, ...composeImage(plan, platform, base, layers, memory, deps.env) };
  }));
  reportGzip(gzipBefore, emit);
  const images = built.map((b) => ({
    ...b.built,
    layers: b.built.layers.map((l) => ({ ...l, state: layerStates.get(l.digest) ?? l.state })),
  }));
  const manifests = built.map((b) => b.descriptor);
  const bases: BuildResult["base"] = built.map(({ base }) =>
    base.manifestDigest
      ? { reference: base.reference, digest: base.manifestDigest }
      : { reference: base.reference }
  );
  const baseSources = built.map((b) => b.base.blobSource);
  await files.save();
  const top = manifests.length === 1 ? manifests[0]! : indexFor(manifests, plan, memory);
  // Base sources before the store: they re-download a damaged cached base layer.
  const blobs = chainBlobSources(
    memoryBlobSource(memory),
    ...baseSources,
    store,
    ...(deferred ? [deferred] : []),
  );
  if (writeLayout) {
    emit({ type: "info", message: `writing ${plan.output}` });
    await writeOciLayout(plan.output, {
      manifests: [...new Set(plan.tags.map(layoutTag))].map((tag) => ({ descriptor: top, tag })),
      blobs,
    });
  }
  await autoEvict(store.root, { maxBytes: cacheLimit(undefined, env).maxBytes });
  return {
    digest: top.digest,
    mediaType: top.mediaType,
    descriptor: top,
    blobs,
    tags: plan.tags,
    ...(writeLayout ? { output: plan.output } : {}),
    base: bases,
    images,
    plan,
  };
}

async function loadConfig(
  request: BuildRequest,
  env: Record<string, string | undefined>,
): Promise<BuildConfig> {
  const context = resolve(request.context ?? ".");
  const files = await loadFileConfig(
    context,
    request.configFile === undefined ? {} : { configFile: request.configFile },
  );
  return mergeConfig(context, request.overrides ?? {}, files, {
    env,
    origin: request.origin ?? "api",
  });
}

function composeImage(
  plan: BuildPlan,
  platform: Platform,
  base: BaseImage,
  layers: NewLayer[],
  memory: Uint8Array[],
  env: Record<string, string>,
): { descriptor: Descriptor; built: BuiltImage } {
  const config = composeImageConfig({
    base: base.kind === "scratch" ? undefined : base.config.value,
    platform,
    settings: { ...plan.settings, env: { ...env, ...plan.settings.env } },
    layers,
    created: plan.created,
  });
  const configBytes = json(config);
  const configDescriptor = describeBytes(configBytes, MediaType.ociConfig);
  const annotations = { ...plan.annotations };
  if (base.manifestDigest) {
    annotations["org.opencontainers.image.base.name"] = base.reference;
    annotations["org.opencontainers.image.base.digest"] = base.manifestDigest;
  }
  annotations["org.opencontainers.image.created"] = plan.created;
  const manifest = composeManifest(configDescriptor, base.layers, layers, annotations);
  const manifestBytes = json(manifest);
  memory.push(configBytes, manifestBytes);
  const actual: Platform = { os: config.os, architecture: config.architecture };
  if (config.variant) actual.variant = config.variant;
  const descriptor: Descriptor = {
    ...describeBytes(manifestBytes, MediaType.ociManifest),
    platform: actual,
  };
  const builtLayers: BuiltLayer[] = [
    ...base.layers.map((l) => ({
      digest: l.digest,
      size: l.size,
      source: "base",
      state: "base" as const,
    })),
    ...layers.map((l) => ({
      digest: l.descriptor.digest,
      diffId: l.diffId,
      size: l.descriptor.size,
      source: l.createdBy.replace(/^pycontainer: /, ""),
      state: "built" as const,
    })),
  ];
  return {
    descriptor,
    built: {
      platform: formatPlatform(actual),
      manifestDigest: descriptor.digest,
      configDigest: configDescriptor.digest,
      layers: builtLayers,
      size: configDescriptor.size + builtLayers.reduce((n, l) => n + l.size, 0),
    },
  };
}

function indexFor(manifests: Descriptor[], plan: BuildPlan, memory: Uint8Array[]): Descriptor {
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests,
    annotations: { ...plan.annotations, "org.opencontainers.image.created": plan.created },
  };
  const bytes = json(index);
  memory.push(bytes);
  return describeBytes(bytes, MediaType.ociIndex);
}

/** The name an OCI layout knows an image by: the tag part of the reference (`latest`). */
function layoutTag(reference: string): string {
  const ref = parseReference(reference);
  return ref.tag ?? "latest";
}

/** With `--verbose`: where this build's gzip blocks were compressed (worker threads or not). */
function reportGzip(before: GzipBlockStats, emit: BuildEventSink): void {
  const now = gzipBlockStats();
  const workers = now.workerBlocks - before.workerBlocks;
  const main = now.mainThreadBlocks - before.mainThreadBlocks;
  if (workers + main === 0) return;
  emit({
    type: "detail",
    message: `gzip: ${workers} blocks on worker threads, ${main} on the main thread${
      now.workersUnavailable ? " (worker threads could not start here)" : ""
    }`,
  });
}

function describeRegistryEvent(event: RegistryEvent): string {
  return Object.entries(event).map(([k, v]) =>
    `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`
  )
    .join(" ");
}

function json(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}
