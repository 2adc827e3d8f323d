/**
 * The schema of the configuration tables, shared by `pycontainer.toml` and
 * `[tool.pycontainer]` in pyproject.toml: which keys exist under `[build]`, `[build.env]`,
 * `[build.labels]` and `[registry]`, what type each must have, and how a parsed TOML table becomes
 * {@linkcode BuildOptions} and {@linkcode RegistryOptions}.
 *
 * Key spelling: kebab-case is canonical (`base-image`, `python-version`, `include-deps`), as in
 * uv and ruff; snake_case (`base_image`, `include_deps`) is accepted too because the original
 * pycontainer-build tool used it. Writing both spellings of one key in a table is an error.
 * `tag` and `platform` are accepted as aliases of `tags` and `platforms`. A list key (`tags`,
 * `platforms`, `expose`, `insecure`) also accepts a single value. Keys under `[build.env]` and
 * `[build.labels]` are the user's own names and are taken verbatim.
 *
 * Every error names the file, the line, the key and its table, e.g.
 * `pycontainer.toml:4: unknown key "bsae-image" in [build]` with the hint
 * `did you mean "base-image"?`.
 *
 * @module
 */

import { resolve } from "node:path";
import { PycontainerError } from "../errors.ts";
import type { BuildOptions, RegistryOptions } from "./types.ts";
import { closestMatch } from "./did_you_mean.ts";
import { shellSplit } from "../project/shell_split.ts";
import type { TomlLocator } from "./toml_locator.ts";

/** Options read from one configuration file, with the line each one was written on. */
export interface FileConfigLayer {
  /** Absolute path of the file. */
  path: string;
  /** Short name for error messages, e.g. `pycontainer.toml` (relative to the context if inside). */
  display: string;
  /** Name for `BuildConfig.sources`, e.g. `pycontainer.toml` or `pyproject.toml [tool.pycontainer]`. */
  label: string;
  /** Build options set in this file (relative `output` already resolved against the context). */
  build: BuildOptions;
  /** Registry options set in this file. */
  registry: RegistryOptions;
  /** Line of each set option, keyed like `sources`: `build.workdir`, `build.env.PORT`, `registry.mirror`. */
  lines: Record<string, number>;
}

/** What a raw TOML value is converted with; returns the value or a problem to report. */
type _Convert = (value: unknown) => { ok: unknown } | { problem: string; hint?: string };

const _buildKeys: Record<string, { field: keyof BuildOptions; convert: _Convert }> = {
  "tags": { field: "tags", convert: (v) => _stringList(v, "tags") },
  "base-image": { field: "baseImage", convert: (v) => _string(v, "base-image") },
  "workdir": { field: "workdir", convert: (v) => _string(v, "workdir") },
  "platforms": { field: "platforms", convert: (v) => _stringList(v, "platforms") },
  "entrypoint": { field: "entrypoint", convert: (v) => _command(v, "entrypoint") },
  "cmd": { field: "cmd", convert: (v) => _command(v, "cmd") },
  "user": { field: "user", convert: _user },
  "expose": { field: "expose", convert: _ports },
  "output": { field: "output", convert: (v) => _string(v, "output") },
  "python-version": { field: "pythonVersion", convert: _pythonVersion },
  "include-deps": { field: "includeDeps", convert: (v) => _boolean(v, "include-deps") },
  "index-url": { field: "indexUrl", convert: (v) => _string(v, "index-url") },
  "extra-index-urls": {
    field: "extraIndexUrls",
    convert: (v) => _stringList(v, "extra-index-urls"),
  },
  "find-links": { field: "findLinks", convert: (v) => _stringList(v, "find-links") },
  "extras": { field: "extras", convert: (v) => _stringList(v, "extras") },
  "groups": { field: "groups", convert: (v) => _stringList(v, "groups") },
  "lock": { field: "lockFile", convert: (v) => _string(v, "lock") },
};
const _buildAliases: Record<string, string> = {
  tag: "tags",
  platform: "platforms",
  "extra-index-url": "extra-index-urls",
  extra: "extras",
  group: "groups",
};
const _buildTables = ["env", "labels"] as const;
const _registryKeys: Record<string, { field: keyof RegistryOptions; convert: _Convert }> = {
  "mirror": { field: "mirror", convert: (v) => _string(v, "mirror") },
  "insecure": { field: "insecure", convert: (v) => _stringList(v, "insecure") },
};

/** Where a configuration root sits in its file, for messages and line lookups. */
export interface ConfigTableLocation {
  /** File name for messages, e.g. `pycontainer.toml`. */
  display: string;
  /** Key-line index of the file. */
  locator: TomlLocator;
  /** Key path of the config root in the file: `[]` or `["tool", "pycontainer"]`. */
  root: string[];
}

/**
 * Converts the configuration root of a parsed file (the whole `pycontainer.toml`, or the
 * `[tool.pycontainer]` table) into options, checking every key and type.
 *
 * @param table The parsed root table.
 * @param where File name for messages, its key locator and the root's key path in the file.
 * @param context Absolute project directory; relative `output` paths are resolved against it.
 * @returns The options and the line of each.
 * @throws {PycontainerError} exit code 2 for unknown keys and wrong types.
 *
 * @example
 * ```ts
 * import { parse } from "smol-toml";
 * import { readConfigTable } from "./file_schema.ts";
 * import { TomlLocator } from "./toml_locator.ts";
 * const text = '[build]\nbase_image = "python:3.12-slim"\n';
 * const got = readConfigTable(parse(text), {
 *   display: "pycontainer.toml", locator: new TomlLocator(text), root: [],
 * }, "/src/app");
 * console.assert(got.build.baseImage === "python:3.12-slim" && got.lines["build.baseImage"] === 2);
 * ```
 */
export function readConfigTable(
  table: Record<string, unknown>,
  where: ConfigTableLocation,
  context: string,
): Pick<FileConfigLayer, "build" | "registry" | "lines"> {
  const build: BuildOptions = {};
  const registry: RegistryOptions = {};
  const lines: Record<string, number> = {};
  for (const [key, value] of Object.entries(table)) {
    if (key !== "build" && key !== "registry") {
      _misplacedKey(where, key);
      _unknownKey(where, [], key, ["build", "registry"]);
    }
    if (!_isTable(value)) {
      throw _error(
        where,
        [key],
        `"${key}" must be a table, not ${_typeName(value)}`,
        `write [${_tableName(where, [key])}]`,
      );
    }
    if (key === "build") _readBuild(value, where, context, build, lines);
    else _readRegistry(value, where, registry, lines);
  }
  return { build, registry, lines };
}

function _readBuild(
  table: Record<string, unknown>,
  where: ConfigTableLocation,
  context: string,
  build: BuildOptions,
  lines: Record<string, number>,
): void {
  const seen = new Map<string, string>();
  for (const [key, value] of Object.entries(table)) {
    const canonical = _canonical(key);
    const name = _own(_buildAliases, canonical) ?? canonical;
    if ((_buildTables as readonly string[]).includes(name)) {
      _noDuplicate(where, ["build"], seen, name, key);
      const field = name as "env" | "labels";
      build[field] = _readStringMap(value, where, ["build", key], field, lines);
      continue;
    }
    const spec = _own(_buildKeys, name);
    if (spec === undefined) {
      _unknownKey(where, ["build"], key, [...Object.keys(_buildKeys), ..._buildTables]);
    }
    _noDuplicate(where, ["build"], seen, name, key);
    const converted = spec.convert(value);
    if ("problem" in converted) {
      throw _error(
        where,
        ["build", key],
        `"${key}" in [${_tableName(where, ["build"])}] ${converted.problem}`,
        converted.hint,
      );
    }
    let result = converted.ok;
    if (spec.field === "output") result = resolve(context, result as string);
    (build as Record<string, unknown>)[spec.field] = result;
    lines[`build.${spec.field}`] = _line(where, ["build", key]);
  }
}

function _readRegistry(
  table: Record<string, unknown>,
  where: ConfigTableLocation,
  registry: RegistryOptions,
  lines: Record<string, number>,
): void {
  const seen = new Map<string, string>();
  for (const [key, value] of Object.entries(table)) {
    const name = _canonical(key);
    const spec = _own(_registryKeys, name);
    if (spec === undefined) _unknownKey(where, ["registry"], key, Object.keys(_registryKeys));
    _noDuplicate(where, ["registry"], seen, name, key);
    const converted = spec.convert(value);
    if ("problem" in converted) {
      throw _error(
        where,
        ["registry", key],
        `"${key}" in [${_tableName(where, ["registry"])}] ${converted.problem}`,
        converted.hint,
      );
    }
    (registry as Record<string, unknown>)[spec.field] = converted.ok;
    lines[`registry.${spec.field}`] = _line(where, ["registry", key]);
  }
}

function _readStringMap(
  value: unknown,
  where: ConfigTableLocation,
  path: string[],
  field: "env" | "labels",
  lines: Record<string, number>,
): Record<string, string> {
  const table = _tableName(where, path);
  if (!_isTable(value)) {
    throw _error(
      where,
      path,
      `"${path.at(-1)}" in [${_tableName(where, ["build"])}] must be a table of strings, not ${
        _typeName(value)
      }`,
      `write [${table}] with one KEY = "value" per line`,
    );
  }
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== "string") {
      const shown = typeof v === "number" || typeof v === "boolean" ? String(v) : "value";
      throw _error(
        where,
        [...path, key],
        `value of "${key}" in [${table}] must be a string, not ${_typeName(v)}`,
        `quote it: ${_tomlKey(key)} = "${shown}"`,
      );
    }
    out[key] = v;
    lines[`build.${field}.${key}`] = _line(where, [...path, key]);
  }
  return out;
}

function _noDuplicate(
  where: ConfigTableLocation,
  table: string[],
  seen: Map<string, string>,
  name: string,
  key: string,
): void {
  const earlier = seen.get(name);
  if (earlier !== undefined) {
    throw _error(
      where,
      [...table, key],
      `"${key}" and "${earlier}" in [${_tableName(where, table)}] set the same option`,
      "keep only one of them",
    );
  }
  seen.set(name, key);
}

function _unknownKey(
  where: ConfigTableLocation,
  table: string[],
  key: string,
  known: string[],
): never {
  const suggestion = closestMatch(_canonical(key), known);
  const tableText = table.length === 0
    ? (where.root.length === 0 ? "the top level" : `[${where.root.join(".")}]`)
    : `[${_tableName(where, table)}]`;
  const hint = suggestion !== undefined
    ? `did you mean "${suggestion}"?`
    : `known keys in ${tableText}: ${known.join(", ")}`;
  throw _error(where, [...table, key], `unknown key "${key}" in ${tableText}`, hint);
}

/** A build or registry key written at the top level (as pycontainer-build's plugins did). */
function _misplacedKey(where: ConfigTableLocation, key: string): void {
  const name = _canonical(key);
  const table = Object.hasOwn(_buildKeys, name) || Object.hasOwn(_buildAliases, name) ||
      name === "env" || name === "labels"
    ? "build"
    : Object.hasOwn(_registryKeys, name)
    ? "registry"
    : undefined;
  if (table === undefined) return;
  const here = where.root.length === 0 ? "the top level" : `[${where.root.join(".")}]`;
  throw _error(
    where,
    [key],
    `key "${key}" belongs in [${_tableName(where, [table])}], not ${here}`,
    `move it under [${_tableName(where, [table])}]`,
  );
}

function _error(
  where: ConfigTableLocation,
  path: string[],
  message: string,
  hint?: string,
): PycontainerError {
  const line = _line(where, path);
  const at = line === undefined ? where.display : `${where.display}:${line}`;
  return new PycontainerError(
    `${at}: ${message}`,
    hint === undefined ? { exitCode: 2 } : { hint, exitCode: 2 },
  );
}

function _line(where: ConfigTableLocation, path: string[]): number {
  return where.locator.lineOf([...where.root, ...path]) ?? 1;
}

function _tableName(where: ConfigTableLocation, path: string[]): string {
  return [...where.root, ...path].map(_tomlKey).join(".");
}

function _tomlKey(key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key);
}

/** `table[key]` for own properties only, so a key like `constructor` is simply unknown. */
function _own<T>(table: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

function _canonical(key: string): string {
  return key.replaceAll("_", "-");
}

function _isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Date);
}

/** "a string", "an integer", ... — the TOML type of a parsed value, for messages. */
function _typeName(value: unknown): string {
  if (typeof value === "string") return "a string";
  if (typeof value === "boolean") return "a boolean";
  if (typeof value === "bigint") return "an integer";
  if (typeof value === "number") return Number.isInteger(value) ? "an integer" : "a float";
  if (Array.isArray(value)) return "an array";
  if (_isTable(value)) return "a table";
  return "a date";
}

function _string(value: unknown, key: string): ReturnType<_Convert> {
  if (typeof value === "string") return { ok: value };
  return {
    problem: `must be a string, not ${_typeName(value)}`,
    hint: `quote the value: ${key} = "..."`,
  };
}

function _boolean(value: unknown, key: string): ReturnType<_Convert> {
  if (typeof value === "boolean") return { ok: value };
  return {
    problem: `must be a boolean, not ${_typeName(value)}`,
    hint: `write ${key} = true or ${key} = false`,
  };
}

function _stringList(value: unknown, key: string): ReturnType<_Convert> {
  if (typeof value === "string") return { ok: [value] };
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return { ok: [...value] };
  return {
    problem: `must be a string or an array of strings, not ${_typeName(value)}${
      Array.isArray(value) ? " with non-string items" : ""
    }`,
    hint: `write ${key} = ["..."]`,
  };
}

function _command(value: unknown, key: string): ReturnType<_Convert> {
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return { ok: [...value] };
  if (typeof value === "string") {
    try {
      return { ok: shellSplit(value, key) };
    } catch (err) {
      if (!(err instanceof PycontainerError)) throw err;
      return {
        problem: `cannot be split into words: ${err.message}`,
        hint: `close the quote, or write ${key} = ["prog", "arg"]`,
      };
    }
  }
  return {
    problem: `must be a string or an array of strings, not ${_typeName(value)}`,
    hint: `write ${key} = ["prog", "arg"] (exec form) or ${key} = "prog arg"`,
  };
}

function _user(value: unknown): ReturnType<_Convert> {
  if (typeof value === "string") return { ok: value };
  if (typeof value === "number" && Number.isInteger(value) && value >= 0) {
    return { ok: String(value) };
  }
  return {
    problem: `must be a string, not ${_typeName(value)}`,
    hint: `write user = "1000:1000" or user = "app"`,
  };
}

function _ports(value: unknown): ReturnType<_Convert> {
  const items = Array.isArray(value) ? value : [value];
  const ok = items.every((v) =>
    typeof v === "string" || (typeof v === "number" && Number.isInteger(v))
  );
  if (ok) return { ok: items.map((v) => String(v)) };
  return {
    problem: `must be a port or an array of ports, not ${_typeName(value)}`,
    hint: `write expose = [8000, "53/udp"]`,
  };
}

function _pythonVersion(value: unknown): ReturnType<_Convert> {
  if (typeof value === "string") return { ok: value };
  if (typeof value === "number") {
    return {
      problem: `must be a string, not ${_typeName(value)}`,
      hint: `quote it: python-version = "3.Y" (as a number, 3.10 would read as 3.1)`,
    };
  }
  return {
    problem: `must be a string, not ${_typeName(value)}`,
    hint: `write python-version = "3.12"`,
  };
}
