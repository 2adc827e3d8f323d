/**
 * Merges the configuration layers of one build into a {@linkcode BuildConfig}:
 *
 * ```
 * CLI flags  >  pycontainer.toml (or --config)  >  [tool.pycontainer]  >  (detection, later)  >  defaults
 * ```
 *
 * A flag that was not given (`undefined`) never overrides a file. Lists (`tags`, `platforms`,
 * `expose`, `entrypoint`, `cmd`, `registry.insecure`) are replaced as a whole by a higher layer;
 * maps (`env`, `labels`) merge key by key with the same precedence. The registry mirror also
 * comes from the `PYCONTAINER_REGISTRY_MIRROR` environment variable, between the CLI and the
 * files. `sources` records where every set value came from (`--tag`, `pycontainer.toml:4`,
 * `pyproject.toml [tool.pycontainer]:12`, `PYCONTAINER_REGISTRY_MIRROR`, `default`), for
 * `--verbose` and for error messages. The result is validated with
 * {@linkcode validateConfig}.
 *
 * Defaults set here: workdir `/app`, platforms `["linux/amd64"]`, output `<context>/dist/image`.
 * Everything else that is unset stays unset, for project detection to fill in.
 *
 * @module
 */

import { join, resolve } from "node:path";
import type { BuildConfig, BuildOptions, RegistryOptions } from "./types.ts";
import type { FileConfigLayer, FileConfigLayers } from "./load_file_config.ts";
import { validateConfig } from "./validate_config.ts";

/** Options given on the command line (or through the API); unset fields were not given. */
export interface ConfigOverrides {
  /** Build options from flags (`--tag`, `--workdir`, `--env`, ...). */
  build?: BuildOptions;
  /** Registry options from flags (`--registry-mirror`, `--insecure-registry`). */
  registry?: RegistryOptions;
}

/** Options for {@linkcode mergeConfig}. */
export interface MergeConfigOptions {
  /** The process environment (pass `process.env`); read for `PYCONTAINER_REGISTRY_MIRROR`. */
  env?: Record<string, string | undefined>;
  /** Who set the overrides, for `sources`: `"cli"` names the flag (default), `"api"` says `api`. */
  origin?: "cli" | "api";
}

/** The flag that sets each option, for `sources` of CLI values. */
const _flags: Record<string, string> = {
  "build.tags": "--tag",
  "build.baseImage": "--base-image",
  "build.workdir": "--workdir",
  "build.env": "--env",
  "build.labels": "--label",
  "build.platforms": "--platform",
  "build.entrypoint": "--entrypoint",
  "build.cmd": "--cmd",
  "build.user": "--user",
  "build.expose": "--expose",
  "build.output": "--output",
  "build.pythonVersion": "--python-version",
  "build.includeDeps": "--include-deps",
  "registry.mirror": "--registry-mirror",
  "registry.insecure": "--insecure-registry",
};

/** The environment variable that can set the registry mirror. */
export const MIRROR_ENV = "PYCONTAINER_REGISTRY_MIRROR";

/** One source of values, highest precedence first. */
interface _Layer {
  build: BuildOptions;
  registry: RegistryOptions;
  source: (key: string) => string;
}

/**
 * Merges CLI options, the file layers and defaults, then validates the result.
 *
 * @param context The project directory (made absolute).
 * @param cli Options from flags; relative `output` is resolved against the current directory.
 * @param files Layers from {@linkcode loadFileConfig}.
 * @param options `env` for `PYCONTAINER_REGISTRY_MIRROR`; `origin` for source names.
 * @returns The merged, validated configuration with `sources`.
 * @throws {PycontainerError} exit code 2 when a merged value is invalid.
 *
 * @example CLI beats file, file beats default
 * ```ts
 * import { mergeConfig } from "./merge_config.ts";
 * const config = mergeConfig("/src/app", { build: { tags: ["app:dev"] } }, {
 *   pycontainerToml: {
 *     path: "/src/app/pycontainer.toml", display: "pycontainer.toml", label: "pycontainer.toml",
 *     build: { tags: ["app:1"], user: "app" }, registry: {},
 *     lines: { "build.tags": 2, "build.user": 3 },
 *   },
 * });
 * console.assert(config.build.tags?.[0] === "app:dev" && config.sources["build.tags"] === "--tag");
 * console.assert(config.sources["build.user"] === "pycontainer.toml:3");
 * console.assert(config.build.workdir === "/app" && config.sources["build.workdir"] === "default");
 * ```
 */
export function mergeConfig(
  context: string,
  cli: ConfigOverrides,
  files: FileConfigLayers,
  options: MergeConfigOptions = {},
): BuildConfig {
  const root = resolve(context);
  const cliBuild: BuildOptions = { ...cli.build };
  if (cliBuild.output !== undefined) cliBuild.output = resolve(cliBuild.output);
  const origin = options.origin ?? "cli";
  const layers: _Layer[] = [{
    build: cliBuild,
    registry: cli.registry ?? {},
    source: (key) => origin === "api" ? "api" : _flags[key] ?? _flags[_mapKey(key)] ?? "cli",
  }];
  const mirror = options.env?.[MIRROR_ENV];
  if (mirror !== undefined && mirror.trim() !== "") {
    layers.push({ build: {}, registry: { mirror: mirror.trim() }, source: () => MIRROR_ENV });
  }
  for (const file of [files.pycontainerToml, files.pyproject]) {
    if (file !== undefined) layers.push(_fileLayer(file));
  }
  layers.push({
    build: { workdir: "/app", platforms: ["linux/amd64"], output: join(root, "dist", "image") },
    registry: {},
    source: () => "default",
  });

  const build: Record<string, unknown> = {};
  const registry: Record<string, unknown> = {};
  const sources: Record<string, string> = {};
  for (const [section, target] of [["build", build], ["registry", registry]] as const) {
    const keys = new Set(layers.flatMap((layer) => Object.keys(layer[section])));
    for (const key of keys) {
      if (section === "build" && (key === "env" || key === "labels")) {
        const merged = _mergeMap(layers, key, sources);
        if (merged !== undefined) target[key] = merged;
        continue;
      }
      const from = layers.find((layer) =>
        (layer[section] as Record<string, unknown>)[key] !== undefined
      );
      if (from === undefined) continue;
      const value = (from[section] as Record<string, unknown>)[key];
      target[key] = Array.isArray(value) ? [...value] : value;
      sources[`${section}.${key}`] = from.source(`${section}.${key}`);
    }
  }
  return validateConfig({
    context: root,
    build: build as BuildOptions,
    registry: registry as RegistryOptions,
    sources,
  });
}

/** Merges `env` or `labels` key by key, lowest layer first so higher layers win. */
function _mergeMap(
  layers: _Layer[],
  field: "env" | "labels",
  sources: Record<string, string>,
): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  for (const layer of [...layers].reverse()) {
    const map = layer.build[field];
    if (map === undefined) continue;
    out ??= {};
    for (const [key, value] of Object.entries(map)) {
      out[key] = value;
      sources[`build.${field}.${key}`] = layer.source(`build.${field}.${key}`);
    }
  }
  return out;
}

/** `build.env.PORT` → `build.env`, for looking up the flag of a map entry. */
function _mapKey(key: string): string {
  return key.split(".").slice(0, 2).join(".");
}

function _fileLayer(file: FileConfigLayer): _Layer {
  return {
    build: file.build,
    registry: file.registry,
    source: (key) => {
      const line = file.lines[key];
      return line === undefined ? file.label : `${file.label}:${line}`;
    },
  };
}
