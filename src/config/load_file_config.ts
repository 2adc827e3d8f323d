/**
 * Reads the two configuration files of a project: `pycontainer.toml` in the context (or the file
 * named by `--config`) and the `[tool.pycontainer]` table of `<context>/pyproject.toml`. Both use
 * the same tables (`[build]`, `[build.env]`, `[build.labels]`, `[registry]`, see
 * {@link ./file_schema.ts}); each becomes one {@linkcode FileConfigLayer} for the merge.
 *
 * This is the I/O edge of the configuration module: it reads and parses files, and turns
 * smol-toml's errors into one-line messages (`Cannot parse pycontainer.toml: invalid string at
 * line 3, column 14`). A missing pyproject.toml is not an error here (project introspection
 * reports it); a missing `--config` file is.
 *
 * @module
 */

import { readFile } from "node:fs/promises";
import { isAbsolute, join, relative, resolve } from "node:path";
import { parse, TomlError } from "smol-toml";
import { PycontainerError } from "../errors.ts";
import { type FileConfigLayer, readConfigTable } from "./file_schema.ts";
import { TomlLocator } from "./toml_locator.ts";

export type { FileConfigLayer } from "./file_schema.ts";

/** The configuration found in files, lowest precedence last. */
export interface FileConfigLayers {
  /** `pycontainer.toml` in the context, or the `--config` file; absent when there is none. */
  pycontainerToml?: FileConfigLayer;
  /** `[tool.pycontainer]` of `<context>/pyproject.toml`; absent when there is no such table. */
  pyproject?: FileConfigLayer;
}

/** Options for {@linkcode loadFileConfig}. */
export interface LoadFileConfigOptions {
  /** Explicit config file (`--config FILE`), used instead of `<context>/pycontainer.toml`; must exist. Relative paths are relative to the current directory. */
  configFile?: string;
}

/**
 * Reads `pycontainer.toml` (or `options.configFile`) and `[tool.pycontainer]` from
 * `<context>/pyproject.toml`.
 *
 * @param context The project directory.
 * @param options `configFile`: an explicit config file that must exist.
 * @returns One layer per file that holds configuration.
 * @throws {PycontainerError} exit code 2 for a missing `--config` file, unreadable files,
 *   malformed TOML, unknown keys and wrong types.
 *
 * @example Reading a project's configuration
 * ```ts
 * import { mkdtemp, writeFile, rm } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { loadFileConfig } from "./load_file_config.ts";
 * const dir = await mkdtemp(join(tmpdir(), "pc-"));
 * await writeFile(join(dir, "pycontainer.toml"), '[build]\nworkdir = "/srv"\n');
 * const layers = await loadFileConfig(dir);
 * console.assert(layers.pycontainerToml?.build.workdir === "/srv");
 * console.assert(layers.pycontainerToml?.lines["build.workdir"] === 2);
 * await rm(dir, { recursive: true });
 * ```
 */
export async function loadFileConfig(
  context: string,
  options: LoadFileConfigOptions = {},
): Promise<FileConfigLayers> {
  const root = resolve(context);
  const layers: FileConfigLayers = {};

  const explicit = options.configFile;
  const configPath = explicit === undefined ? join(root, "pycontainer.toml") : resolve(explicit);
  const display = _display(root, configPath, explicit);
  const configText = await _read(configPath, display, explicit !== undefined);
  if (configText !== undefined) {
    const table = _parse(configText, display);
    const locator = new TomlLocator(configText);
    const read = readConfigTable(table, { display, locator, root: [] }, root);
    layers.pycontainerToml = { path: configPath, display, label: display, ...read };
  }

  const pyprojectPath = join(root, "pyproject.toml");
  const pyprojectText = await _read(pyprojectPath, "pyproject.toml", false);
  if (pyprojectText !== undefined) {
    const doc = _parse(pyprojectText, "pyproject.toml");
    const tool = doc["tool"];
    const section = _isRecord(tool) ? tool["pycontainer"] : undefined;
    if (section !== undefined) {
      const locator = new TomlLocator(pyprojectText);
      if (!_isRecord(section)) {
        const line = locator.lineOf(["tool", "pycontainer"]) ?? 1;
        throw new PycontainerError(`pyproject.toml:${line}: "tool.pycontainer" must be a table`, {
          hint: "write [tool.pycontainer.build] and [tool.pycontainer.registry] tables",
          exitCode: 2,
        });
      }
      const where = { display: "pyproject.toml", locator, root: ["tool", "pycontainer"] };
      const read = readConfigTable(section, where, root);
      layers.pyproject = {
        path: pyprojectPath,
        display: "pyproject.toml",
        label: "pyproject.toml [tool.pycontainer]",
        ...read,
      };
    }
  }
  return layers;
}

/** The file's name for messages: relative to the context when inside it, else as the user wrote it. */
function _display(root: string, path: string, given: string | undefined): string {
  const rel = relative(root, path);
  if (rel !== "" && !rel.startsWith("..") && !isAbsolute(rel)) return rel;
  return given ?? path;
}

/** Reads a file as UTF-8; `undefined` when it does not exist and is optional. */
async function _read(
  path: string,
  display: string,
  required: boolean,
): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "ENOENT" && !required) return undefined;
    if (code === "ENOENT") {
      throw new PycontainerError(`config file ${display} not found`, {
        hint: "check the --config path, or drop --config to use pycontainer.toml in the context",
        exitCode: 2,
        cause: err,
      });
    }
    throw new PycontainerError(`Cannot read ${display}: ${code ?? String(err)}`, {
      hint: code === "EISDIR" ? "name a file, not a directory" : "check the file's permissions",
      exitCode: 2,
      cause: err,
    });
  }
}

/** Parses TOML, turning smol-toml's multi-line error into one line with line and column. */
function _parse(text: string, display: string): Record<string, unknown> {
  try {
    return parse(text) as Record<string, unknown>;
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    const reason = (err.message.split("\n")[0] ?? "").replace(/^Invalid TOML document: /, "");
    const source = text.split(/\r?\n/)[err.line - 1]?.trim() ?? "";
    throw new PycontainerError(
      `Cannot parse ${display}: ${reason} at line ${err.line}, column ${err.column}`,
      {
        hint: source === ""
          ? "fix the TOML syntax (https://toml.io)"
          : `fix the TOML syntax of line ${err.line}: ${source.slice(0, 80)}`,
        exitCode: 2,
        cause: err,
      },
    );
  }
}

function _isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Date);
}
