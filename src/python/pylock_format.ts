/**
 * Writing a resolution as a PEP 751 `pylock.toml`, so that `--write-lock` turns a one-off
 * resolution into an exact, hash-pinned install for the next build (and for pip, uv and PDM,
 * which read the same format). The file is written by hand rather than by a TOML serialiser to
 * follow the spec's recommendations: keys in the spec's order, packages sorted by name, small
 * tables inline, `upload-time` as a TOML datetime — so diffs between two locks stay small.
 *
 * One resolution is for one target, so the lock records that target in `environments`; installing
 * it elsewhere is refused by conforming installers instead of installing the wrong binaries.
 *
 * @module
 */

import type { MarkerEnvironment } from "./markers.ts";
import type { Resolution } from "./resolver.ts";

/** Options for {@linkcode formatPylock}. */
export interface PylockOptions {
  /** The project's `requires-python` (recorded as the lock's `requires-python`). */
  requiresPython?: string;
  /** The target environment, recorded as an `environments` marker. */
  markerEnv?: MarkerEnvironment;
  /** `created-by` (default `pycontainer`). */
  createdBy?: string;
  /** Extras of the project that were included. */
  extras?: readonly string[];
  /** Dependency groups that were included. */
  dependencyGroups?: readonly string[];
}

/** A TOML basic string (JSON escapes are valid TOML escapes). */
function _s(value: string): string {
  return JSON.stringify(value);
}

const _DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Renders a resolution as a `pylock.toml` document.
 *
 * @param resolution The resolver's result.
 * @param options Project facts and the target.
 * @returns The TOML text (ends with a newline).
 *
 * @example
 * ```ts
 * import { formatPylock } from "./pylock_format.ts";
 * const text = formatPylock({
 *   packages: [{
 *     name: "six", displayName: "six", version: "1.16.0", indexUrl: "https://pypi.org/simple/",
 *     wheel: { filename: "six-1.16.0-py2.py3-none-any.whl", url: "https://f/six.whl",
 *       hashes: { sha256: "8abb" }, requiresPython: undefined, yanked: false, size: 11053,
 *       uploadTime: undefined, coreMetadata: false },
 *     requires: [], dependencies: [], extras: [], requiredBy: ["<root>"], path: ["six"],
 *     requiresPython: undefined,
 *   }],
 *   requirements: ["six"], pythonFullVersion: "3.12.1", stats: { rounds: 1, backjumps: 0, metadata: 1 },
 * });
 * console.assert(text.startsWith('lock-version = "1.0"'));
 * console.assert(text.includes('name = "six"'));
 * ```
 */
export function formatPylock(resolution: Resolution, options: PylockOptions = {}): string {
  const lines: string[] = [];
  lines.push(`lock-version = "1.0"`);
  const env = options.markerEnv;
  if (env !== undefined) {
    const marker =
      `sys_platform == '${env.sys_platform}' and platform_machine == '${env.platform_machine}'` +
      ` and implementation_name == '${env.implementation_name}'` +
      ` and python_full_version == '${env.python_full_version}'`;
    lines.push(`environments = [${_s(marker)}]`);
  }
  if (options.requiresPython) lines.push(`requires-python = ${_s(options.requiresPython)}`);
  lines.push(`extras = [${(options.extras ?? []).map(_s).join(", ")}]`);
  lines.push(`dependency-groups = [${(options.dependencyGroups ?? []).map(_s).join(", ")}]`);
  lines.push(`default-groups = []`);
  lines.push(`created-by = ${_s(options.createdBy ?? "pycontainer")}`);
  const byName = new Map(resolution.packages.map((p) => [p.name, p]));
  const packages = [...resolution.packages].sort((a, b) => a.name < b.name ? -1 : 1);
  for (const p of packages) {
    lines.push("", "[[packages]]");
    lines.push(`name = ${_s(p.name)}`);
    lines.push(`version = ${_s(p.version)}`);
    if (p.requiresPython) lines.push(`requires-python = ${_s(p.requiresPython)}`);
    if (p.indexUrl) lines.push(`index = ${_s(p.indexUrl)}`);
    const deps = p.dependencies.filter((d) => byName.has(d)).map((d) =>
      `{ name = ${_s(d)}, version = ${_s(byName.get(d)!.version)} }`
    );
    if (deps.length > 0) lines.push(`dependencies = [${deps.join(", ")}]`);
    const w = p.wheel;
    const fields = [`name = ${_s(w.filename)}`];
    if (w.uploadTime && _DATETIME.test(w.uploadTime)) fields.push(`upload-time = ${w.uploadTime}`);
    fields.push(`url = ${_s(w.url)}`);
    if (w.size !== undefined) fields.push(`size = ${w.size}`);
    const hashes = Object.entries(w.hashes).sort(([a], [b]) => a < b ? -1 : 1)
      .map(([k, v]) => `${k} = ${_s(v)}`);
    fields.push(`hashes = { ${hashes.join(", ")} }`);
    lines.push(`wheels = [`, `  { ${fields.join(", ")} },`, `]`);
  }
  return `${lines.join("\n")}\n`;
}
