/**
 * The OCI data model as TypeScript types: descriptors, platforms, image manifests, image indexes
 * and image configs. Docker's schema 2 manifest and manifest list have the same JSON shape (only
 * the media types differ), so one set of types covers both. Field names follow the JSON on the
 * wire exactly, so a parsed document can be re-serialised without mapping.
 *
 * @module
 */

/** The platform an image runs on, as in an index entry or an image config. */
export interface Platform {
  /** CPU architecture in Go's naming: `amd64`, `arm64`, `arm`, `386`, `ppc64le`, `s390x`, `riscv64`. */
  architecture: string;
  /** Operating system in Go's naming: `linux`, `windows`. */
  os: string;
  /** CPU variant: `v7` for 32-bit ARM, `v8` for arm64 (usually omitted). */
  variant?: string;
  /** OS version (Windows images). */
  "os.version"?: string;
  /** Required OS features (Windows images). */
  "os.features"?: string[];
}

/** A pointer to a blob: what it is, its digest and its exact size. */
export interface Descriptor {
  /** Media type of the blob. */
  mediaType: string;
  /** Content digest, `sha256:<64 hex>`. */
  digest: string;
  /** Size in bytes. */
  size: number;
  /** Free-form annotations, e.g. `org.opencontainers.image.ref.name` in an OCI layout index. */
  annotations?: Record<string, string>;
  /** Platform of the manifest this descriptor points to (index entries only). */
  platform?: Platform;
  /** Alternative download locations (foreign layers). */
  urls?: string[];
  /** Artifact type (OCI 1.1). */
  artifactType?: string;
}

/** An image manifest (OCI or Docker schema 2): one config plus ordered layers. */
export interface ImageManifest {
  /** Always 2. */
  schemaVersion: 2;
  /** Manifest media type (required for Docker, recommended for OCI). */
  mediaType?: string;
  /** Artifact type (OCI 1.1). */
  artifactType?: string;
  /** The image config blob. */
  config: Descriptor;
  /** Layer blobs, base first. */
  layers: Descriptor[];
  /** Subject manifest (OCI 1.1 referrers). */
  subject?: Descriptor;
  /** Manifest annotations, e.g. `org.opencontainers.image.base.name`. */
  annotations?: Record<string, string>;
}

/** An image index (OCI) or manifest list (Docker): manifests for several platforms. */
export interface ImageIndex {
  /** Always 2. */
  schemaVersion: 2;
  /** Index media type. */
  mediaType?: string;
  /** Artifact type (OCI 1.1). */
  artifactType?: string;
  /** The manifests, each with its platform. */
  manifests: Descriptor[];
  /** Subject manifest (OCI 1.1 referrers). */
  subject?: Descriptor;
  /** Index annotations. */
  annotations?: Record<string, string>;
}

/** The runtime part of an image config (`config` in the JSON): what a container starts with. */
export interface ContainerConfig {
  /** User (and group) to run as. */
  User?: string;
  /** Exposed ports: keys like `8000/tcp`, values `{}`. */
  ExposedPorts?: Record<string, Record<string, never>>;
  /** Environment as `KEY=value` strings. */
  Env?: string[];
  /** Entrypoint in exec form. */
  Entrypoint?: string[] | null;
  /** Command (arguments to the entrypoint) in exec form. */
  Cmd?: string[] | null;
  /** Volumes: keys are paths, values `{}`. */
  Volumes?: Record<string, Record<string, never>>;
  /** Working directory. */
  WorkingDir?: string;
  /** Labels. */
  Labels?: Record<string, string>;
  /** Stop signal, e.g. `SIGTERM`. */
  StopSignal?: string;
  /** Docker-specific fields (Healthcheck, Shell, OnBuild…) are kept as-is. */
  [key: string]: unknown;
}

/** One step of the image's history, one per layer plus config-only steps. */
export interface HistoryEntry {
  /** RFC 3339 creation time. */
  created?: string;
  /** What made this step, e.g. `pycontainer: app files`. */
  created_by?: string;
  /** Author. */
  author?: string;
  /** Comment. */
  comment?: string;
  /** True when the step made no layer. */
  empty_layer?: boolean;
}

/** The image config blob. */
export interface ImageConfig {
  /** RFC 3339 creation time. */
  created?: string;
  /** Author. */
  author?: string;
  /** CPU architecture, must match the platform actually built. */
  architecture: string;
  /** Operating system. */
  os: string;
  /** CPU variant. */
  variant?: string;
  /** OS version (Windows). */
  "os.version"?: string;
  /** Runtime defaults for containers. */
  config?: ContainerConfig;
  /** Uncompressed layer digests (`diff_ids`), one per layer, in order. */
  rootfs: { type: "layers"; diff_ids: string[] };
  /** History, one entry per layer plus `empty_layer` steps. */
  history?: HistoryEntry[];
  /** Docker-specific fields (container, docker_version…) are kept as-is. */
  [key: string]: unknown;
}
