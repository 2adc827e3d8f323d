/**
 * Build configuration: reading `pycontainer.toml` and `[tool.pycontainer]`, merging them with CLI
 * flags and defaults by precedence, and validating the result.
 *
 * ```
 * const files = await loadFileConfig(context, { configFile });
 * const config = mergeConfig(context, { build: flagsBuild, registry: flagsRegistry }, files, {
 *   env: process.env,
 * });
 * ```
 *
 * @module
 */

export type { BuildConfig, BuildOptions, RegistryOptions } from "./types.ts";
export {
  type FileConfigLayer,
  type FileConfigLayers,
  loadFileConfig,
  type LoadFileConfigOptions,
} from "./load_file_config.ts";
export {
  type ConfigOverrides,
  mergeConfig,
  type MergeConfigOptions,
  MIRROR_ENV,
} from "./merge_config.ts";
export { KNOWN_PLATFORMS, normalizePlatform, validateConfig } from "./validate_config.ts";
export { parseKeyValue } from "./key_value.ts";
