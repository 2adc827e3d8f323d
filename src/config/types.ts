/**
 * The build configuration: what the user asked for, after merging CLI flags, `pycontainer.toml`,
 * `[tool.pycontainer]` and defaults. Everything optional here is "not said by the user", so that
 * what the project detection finds (python version, command, ports) can fill it in later;
 * explicit configuration always wins over detection.
 *
 * @module
 */

/** Options a user can set, by CLI flag, `pycontainer.toml` `[build]` or `[tool.pycontainer.build]`. */
export interface BuildOptions {
  /** Image references to tag the result with, e.g. `myapp:latest`. */
  tags?: string[];
  /** Base image reference, `oci-layout:PATH[:TAG]` or `scratch`. Default: `python:X.Y-slim`. */
  baseImage?: string;
  /** Working directory and app root in the image. Default `/app`. */
  workdir?: string;
  /** Environment variables for the image (merged over the base image's). */
  env?: Record<string, string>;
  /** Image labels (merged over the base image's). */
  labels?: Record<string, string>;
  /** Target platforms as `os/arch[/variant]`. Default `["linux/amd64"]`. */
  platforms?: string[];
  /** Entrypoint in exec form. Setting it clears the base image's Cmd. */
  entrypoint?: string[];
  /** Cmd in exec form. */
  cmd?: string[];
  /** User to run as, e.g. `1000:1000` or `app`. */
  user?: string;
  /** Ports to expose, e.g. `8000` or `53/udp`. */
  expose?: string[];
  /** Output OCI layout directory. Default `<context>/dist/image`. */
  output?: string;
  /** Python version `X.Y` to target (overrides detection). */
  pythonVersion?: string;
  /** Install the project's dependencies into a venv (issue 4). */
  includeDeps?: boolean;
  /** Package index replacing PyPI (`--index-url`), a PEP 503/691 simple URL. */
  indexUrl?: string;
  /** Further package indexes searched after the main one (`--extra-index-url`). */
  extraIndexUrls?: string[];
  /** Directories of wheels (and sdists) used besides the indexes (`--find-links`). */
  findLinks?: string[];
  /** Extras of the project to install (`--extra`, `[project.optional-dependencies]`). */
  extras?: string[];
  /** Dependency groups to install (`--group`, PEP 735 `[dependency-groups]`). */
  groups?: string[];
  /** The lock file to install from instead of discovering one (`--lock`). */
  lockFile?: string;
  /** Write the resolution as a PEP 751 lock to this file (`--write-lock`; CLI/API only). */
  writeLock?: string;
}

/** Options under `[registry]`: how to reach registries. */
export interface RegistryOptions {
  /** Host[:port] used instead of Docker Hub for pulls. */
  mirror?: string;
  /** Hosts (host[:port]) reached over plain HTTP / without TLS verification. */
  insecure?: string[];
}

/** The merged configuration of one build. */
export interface BuildConfig {
  /** Absolute path of the project directory. */
  context: string;
  /** Build options, merged by precedence. */
  build: BuildOptions;
  /** Registry options, merged by precedence. */
  registry: RegistryOptions;
  /** Where each set option came from, e.g. `{"build.workdir": "pycontainer.toml:4"}`, for `--verbose`. */
  sources: Record<string, string>;
}
