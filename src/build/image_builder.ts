/**
 * The object-style API: `new ImageBuilder(options).build()`, mirroring `pycontainer build`.
 * Options use the same names as the CLI flags (camelCase) and the configuration files; what is
 * not set here still comes from `pycontainer.toml`, `[tool.pycontainer]` and detection.
 *
 * @module
 */
import { build, type BuildResult } from "./build.ts";
import type { BuildEventSink } from "./events.ts";
import type { BuildOptions, RegistryOptions } from "../config/types.ts";

/** Options of an {@linkcode ImageBuilder}: the CLI's flags as a typed object. */
export interface ImageBuilderOptions extends BuildOptions {
  /** Project directory (default: the current directory). */
  context?: string;
  /** Explicit configuration file instead of `<context>/pycontainer.toml`. */
  configFile?: string;
  /** How to reach registries (`mirror`, `insecure`). */
  registry?: RegistryOptions;
  /** Blob cache directory (default: `$PYCONTAINER_CACHE_DIR` or the user's cache directory). */
  cacheDir?: string;
  /** The host's environment variables to read, e.g. `SOURCE_DATE_EPOCH` (default: `process.env`). */
  hostEnv?: Record<string, string | undefined>;
  /** Progress events. */
  onEvent?: BuildEventSink;
  /**
   * The image is for a registry push: no OCI layout unless `output` is set, and known layers
   * whose blobs are gone are only rebuilt if the push needs them (see `BuildRequest.registryOnly`).
   */
  registryOnly?: boolean;
}

/**
 * Builds OCI images for a Python project.
 *
 * @example Building the project in `./myapp` into `./myapp/dist/image`
 * ```ts ignore
 * import { ImageBuilder } from "@x/pycontainer";
 * const result = await new ImageBuilder({ context: "myapp", tags: ["myapp:latest"] }).build();
 * console.log(result.digest, result.images[0]?.layers.length);
 * ```
 */
export class ImageBuilder {
  readonly #options: ImageBuilderOptions;

  /**
   * @param options What to build; unset options come from the project's files and detection.
   */
  constructor(options: ImageBuilderOptions = {}) {
    this.#options = { ...options };
  }

  /**
   * Builds the image and writes the OCI layout.
   *
   * @returns Digests, tags and layers.
   */
  build(): Promise<BuildResult> {
    return build(this.#request(false));
  }

  /**
   * Works out what {@linkcode ImageBuilder.build} would do, writing nothing and contacting no registry.
   *
   * @returns The result with only `plan` and `tags` filled in.
   */
  plan(): Promise<BuildResult> {
    return build(this.#request(true));
  }

  #request(dryRun: boolean) {
    const {
      context,
      configFile,
      registry,
      cacheDir,
      hostEnv,
      onEvent,
      registryOnly,
      ...buildOptions
    } = this.#options;
    return {
      dryRun,
      origin: "api" as const,
      overrides: { build: buildOptions, registry: registry ?? {} },
      ...(context === undefined ? {} : { context }),
      ...(configFile === undefined ? {} : { configFile }),
      ...(cacheDir === undefined ? {} : { cacheDir }),
      ...(hostEnv === undefined ? {} : { env: hostEnv }),
      ...(onEvent === undefined ? {} : { onEvent }),
      ...(registryOnly === undefined ? {} : { registryOnly }),
    };
  }
}
