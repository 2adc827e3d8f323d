/**
 * Image composition: the base image's config plus our settings and layers → the new image
 * config and manifest. Pure functions from data to data; the build writes the bytes.
 *
 * Merge rules (Docker's, as a Dockerfile `FROM base` + `ENV`/`ENTRYPOINT`/... would give):
 * - `Env`: the base's variables kept in order, ours replace same-named ones, new ones appended.
 * - `Entrypoint`: an Entrypoint we set clears the base's `Cmd` (otherwise `python:*-slim`'s
 *   `Cmd ["python3"]` would be appended as an argument), unless we also set `Cmd`.
 * - `Labels` and `ExposedPorts` merged (ours win); `WorkingDir` and `User` ours when set.
 * - `rootfs.diff_ids`: every base layer's then every new layer's, in order; one `history`
 *   entry per layer (base history kept; config-only steps are `empty_layer`).
 * - `architecture`/`os`/`variant` are the platform actually pulled (the base config's).
 *
 * @module
 */
import { PycontainerError } from "../errors.ts";
import { MediaType } from "../oci/media_types.ts";
import type {
  ContainerConfig,
  Descriptor,
  HistoryEntry,
  ImageConfig,
  ImageManifest,
  Platform,
} from "../oci/types.ts";

/** What we set on top of the base image's config. Unset fields keep the base's value. */
export interface ImageSettings {
  /** Variables to set; they win over the base's. */
  env: Record<string, string>;
  /** Labels to set; they win over the base's. */
  labels: Record<string, string>;
  /** Ports to expose, e.g. `8000` or `8000/tcp`. */
  exposedPorts: string[];
  /** Exec-form entrypoint; setting it clears the base Cmd unless `cmd` is also set. */
  entrypoint?: string[];
  /** Exec-form command. */
  cmd?: string[];
  /** Working directory. */
  workingDir?: string;
  /** User to run as. */
  user?: string;
}

/** A layer we add, as it goes into the config and the manifest. */
export interface NewLayer {
  /** `sha256:…` of the uncompressed tar. */
  diffId: string;
  /** The gzip blob's descriptor. */
  descriptor: Descriptor;
  /** What produced it, for `history[].created_by`, e.g. `pycontainer: app files`. */
  createdBy: string;
}

/**
 * Merges our settings over a base container config.
 *
 * @param base The base image's `config` block (or undefined for `scratch`).
 * @param settings What we set.
 * @returns The merged container config.
 *
 * @example An Entrypoint we set clears the base's Cmd
 * ```ts
 * import { mergeContainerConfig } from "./compose.ts";
 * const merged = mergeContainerConfig(
 *   { Env: ["PATH=/usr/bin"], Cmd: ["python3"] },
 *   { env: { PYTHONUNBUFFERED: "1" }, labels: {}, exposedPorts: [], entrypoint: ["python3", "app.py"] },
 * );
 * console.assert(merged.Cmd === undefined && merged.Env?.length === 2);
 * ```
 */
export function mergeContainerConfig(
  base: ContainerConfig | undefined,
  settings: ImageSettings,
): ContainerConfig {
  const out: ContainerConfig = { ...(base ?? {}) };
  out.Env = mergeEnv(base?.Env ?? [], settings.env);
  if (settings.entrypoint) {
    out.Entrypoint = settings.entrypoint;
    if (settings.cmd) out.Cmd = settings.cmd;
    else delete out.Cmd;
  } else if (settings.cmd) {
    out.Cmd = settings.cmd;
  }
  if (settings.workingDir !== undefined) out.WorkingDir = settings.workingDir;
  if (settings.user !== undefined) out.User = settings.user;
  const labels = { ...(base?.Labels ?? {}), ...settings.labels };
  if (Object.keys(labels).length) out.Labels = labels;
  const ports: Record<string, Record<string, never>> = { ...(base?.ExposedPorts ?? {}) };
  for (const port of settings.exposedPorts) ports[port.includes("/") ? port : `${port}/tcp`] = {};
  if (Object.keys(ports).length) out.ExposedPorts = ports;
  for (const key of ["Entrypoint", "Cmd"] as const) if (out[key] === null) delete out[key];
  return out;
}

/**
 * Merges environment variables: base order kept, ours replace same-named ones, new ones appended.
 *
 * @param base The base's `KEY=VALUE` list.
 * @param ours Variables to set.
 * @returns The merged `KEY=VALUE` list.
 *
 * @example
 * ```ts
 * import { mergeEnv } from "./compose.ts";
 * const env = mergeEnv(["PATH=/usr/bin", "LANG=C"], { PATH: "/app/.venv/bin:/usr/bin", X: "1" });
 * console.assert(env.join(" ") === "PATH=/app/.venv/bin:/usr/bin LANG=C X=1");
 * ```
 */
export function mergeEnv(base: readonly string[], ours: Record<string, string>): string[] {
  const remaining = new Map(Object.entries(ours));
  const out = base.map((line) => {
    const key = line.split("=", 1)[0]!;
    const value = remaining.get(key);
    if (value === undefined) return line;
    remaining.delete(key);
    return `${key}=${value}`;
  });
  for (const [key, value] of remaining) out.push(`${key}=${value}`);
  return out;
}

/**
 * Reads one variable from a `KEY=VALUE` list.
 *
 * @param env The list, e.g. a base image's `config.Env`.
 * @param key Variable name.
 * @returns Its value, or undefined.
 *
 * @example
 * ```ts
 * import { envValue } from "./compose.ts";
 * console.assert(envValue(["PYTHON_VERSION=3.12.7"], "PYTHON_VERSION") === "3.12.7");
 * ```
 */
export function envValue(env: readonly string[] | undefined, key: string): string | undefined {
  const line = env?.find((l) => l.startsWith(`${key}=`));
  return line?.slice(key.length + 1);
}

/** Inputs of {@linkcode composeImageConfig}. */
export interface ComposeInput {
  /** The base image's config, or undefined for `scratch`. */
  base: ImageConfig | undefined;
  /** The platform built for (used as-is for `scratch`). */
  platform: Platform;
  /** Our settings. */
  settings: ImageSettings;
  /** Layers we add, bottom to top. */
  layers: readonly NewLayer[];
  /** RFC 3339 timestamp for `created` and our history entries. */
  created: string;
}

/**
 * Builds the new image config.
 *
 * @param input Base config, platform, settings, new layers and timestamp.
 * @returns The image config with complete, ordered `rootfs.diff_ids` and one history entry per layer.
 *
 * @example
 * ```ts
 * import { composeImageConfig } from "./compose.ts";
 * const config = composeImageConfig({
 *   base: undefined,
 *   platform: { os: "linux", architecture: "amd64" },
 *   settings: { env: {}, labels: {}, exposedPorts: [], cmd: ["python3", "app.py"] },
 *   layers: [{ diffId: "sha256:" + "1".repeat(64), createdBy: "app", descriptor: { mediaType: "x", digest: "sha256:" + "2".repeat(64), size: 1 } }],
 *   created: "1970-01-01T00:00:00Z",
 * });
 * console.assert(config.rootfs.diff_ids.length === 1 && config.history?.length === 1);
 * ```
 */
export function composeImageConfig(input: ComposeInput): ImageConfig {
  const { base, platform, settings, layers, created } = input;
  const baseDiffIds = base?.rootfs?.diff_ids ?? [];
  const history: HistoryEntry[] = [...(base?.history ?? [])];
  const baseLayerHistory = history.filter((h) => !h.empty_layer).length;
  if (base && history.length > 0 && baseLayerHistory !== baseDiffIds.length) {
    // A base whose history doesn't describe its layers: keep it, but don't let ours misalign.
    history.length = 0;
  }
  for (const layer of layers) history.push({ created, created_by: layer.createdBy });
  history.push({ created, created_by: "pycontainer: image config", empty_layer: true });
  const config: ImageConfig = {
    created,
    architecture: base?.architecture ?? platform.architecture,
    os: base?.os ?? platform.os,
    config: mergeContainerConfig(base?.config, settings),
    rootfs: { type: "layers", diff_ids: [...baseDiffIds, ...layers.map((l) => l.diffId)] },
    history,
  };
  const variant = base ? base.variant : platform.variant;
  if (variant) config.variant = variant;
  return config;
}

/**
 * Builds the OCI manifest for a config and the full layer list.
 *
 * @param config The config blob's descriptor.
 * @param baseLayers The base manifest's layer descriptors (Docker media types become OCI ones).
 * @param layers Our new layers.
 * @param annotations Manifest annotations (base name/digest, title, version…).
 * @returns The OCI image manifest.
 *
 * @example
 * ```ts
 * import { composeManifest } from "./compose.ts";
 * const d = { mediaType: "application/vnd.oci.image.config.v1+json", digest: "sha256:" + "a".repeat(64), size: 2 };
 * const m = composeManifest(d, [], [], {});
 * console.assert(m.schemaVersion === 2 && m.layers.length === 0);
 * ```
 */
export function composeManifest(
  config: Descriptor,
  baseLayers: readonly Descriptor[],
  layers: readonly NewLayer[],
  annotations: Record<string, string>,
): ImageManifest {
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config,
    layers: [...baseLayers.map(toOciLayer), ...layers.map((l) => l.descriptor)],
  };
  if (Object.keys(annotations).length) manifest.annotations = annotations;
  return manifest;
}

function toOciLayer(d: Descriptor): Descriptor {
  const mediaType = d.mediaType === MediaType.dockerLayerGzip
    ? MediaType.ociLayerGzip
    : d.mediaType === MediaType.dockerForeignLayer
    ? "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
    : d.mediaType;
  const out: Descriptor = { mediaType, digest: d.digest, size: d.size };
  if (d.urls) out.urls = d.urls;
  if (d.annotations) out.annotations = d.annotations;
  return out;
}

/**
 * Checks that a base config describes exactly the layers of its manifest.
 *
 * @param config The base config.
 * @param layers The base manifest's layers.
 * @param imageName For the message.
 *
 * @example
 * ```ts
 * import { assertBaseConsistent } from "./compose.ts";
 * assertBaseConsistent({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } }, [], "x");
 * ```
 */
export function assertBaseConsistent(
  config: ImageConfig,
  layers: readonly Descriptor[],
  imageName: string,
): void {
  const count = config.rootfs?.diff_ids?.length ?? 0;
  if (count !== layers.length) {
    throw new PycontainerError(
      `base image ${imageName} is inconsistent: its config lists ${count} layer diff_ids but its manifest has ${layers.length} layers`,
      { hint: "rebuild or re-push the base image, or choose another one" },
    );
  }
}
