/**
 * `--write-lock FILE`: the resolution of a build written as a PEP 751 `pylock.toml`, so the next
 * build (which discovers `pylock.toml` before resolving) installs exactly the same files, and so
 * pip, uv and PDM can install the same set. The file is replaced atomically (temporary sibling +
 * rename): an interrupted build never leaves half a lock that the next build would trust.
 *
 * A multi-platform build resolves once per platform; the lock then holds every platform (see
 * {@linkcode writeLockFile}), so one file serves the whole image index.
 *
 * A `--find-links` wheel or a wheel built from an sdist has a `file:` URL that only exists on
 * this machine; it is written with its `path` instead so the lock says honestly where it came
 * from.
 *
 * @module
 */
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { PycontainerError } from "../errors.ts";
import type { MarkerEnvironment } from "../python/markers.ts";
import { formatPylock } from "../python/pylock_format.ts";
import type { IndexFile } from "../python/index_page.ts";
import type { Resolution, ResolvedPackage } from "../python/resolver_types.ts";
import { writeFileAtomic } from "../store/atomic.ts";

/** One resolved target of a build. */
export interface LockedTarget {
  /** The resolver's result for that target. */
  resolution: Resolution;
  /** The target's marker environment. */
  markerEnv: MarkerEnvironment;
}

/** What {@linkcode writeLockFile} records besides the packages. */
export interface WriteLockOptions {
  /** The project's `requires-python`. */
  requiresPython?: string | undefined;
  /** Extras that were included. */
  extras?: readonly string[];
  /** Dependency groups that were included. */
  groups?: readonly string[];
}

/**
 * Writes the resolution of one or more targets as a `pylock.toml`, atomically. One target is
 * written by `formatPylock`; several (a multi-platform build) become one lock whose
 * `environments` lists every target, whose packages list the wheels of every target, and where
 * a package needed by only some targets carries a `marker` naming them.
 *
 * @param path Absolute path of the lock file to write.
 * @param targets The resolution and marker environment of each target, in build order.
 * @param options The project facts to record.
 * @returns The number of `[[packages]]` entries written.
 * @throws {PycontainerError} when the file cannot be written (naming it).
 *
 * @example
 * ```ts ignore
 * await writeLockFile("/src/myapi/pylock.toml", [{ resolution, markerEnv: target.markerEnv }], {});
 * ```
 */
export async function writeLockFile(
  path: string,
  targets: readonly LockedTarget[],
  options: WriteLockOptions = {},
): Promise<number> {
  const common = {
    ...(options.requiresPython ? { requiresPython: options.requiresPython } : {}),
    extras: options.extras ?? [],
    dependencyGroups: options.groups ?? [],
  };
  let text: string;
  let count: number;
  if (targets.length === 1) {
    text = formatPylock(targets[0]!.resolution, { ...common, markerEnv: targets[0]!.markerEnv });
    count = targets[0]!.resolution.packages.length;
  } else {
    ({ text, count } = _mergedPylock(targets, common));
  }
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFileAtomic(path, localUrlsAsPaths(text));
  } catch (cause) {
    throw new PycontainerError(`cannot write the lock file ${path}: ${(cause as Error).message}`, {
      hint: "check that the directory exists and is writable, or choose another --write-lock path",
      cause,
    });
  }
  return count;
}

/** The `environments` marker of one target (the same text `formatPylock` writes). */
function _envMarker(env: MarkerEnvironment): string {
  return `sys_platform == '${env.sys_platform}' and platform_machine == '${env.platform_machine}'` +
    ` and implementation_name == '${env.implementation_name}'` +
    ` and python_full_version == '${env.python_full_version}'`;
}

const _DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function _mergedPylock(
  targets: readonly LockedTarget[],
  common: {
    requiresPython?: string;
    extras: readonly string[];
    dependencyGroups: readonly string[];
  },
): { text: string; count: number } {
  const s = (v: string) => JSON.stringify(v);
  const envs = targets.map((t) => _envMarker(t.markerEnv));
  const lines = [
    `lock-version = "1.0"`,
    `environments = [${envs.map(s).join(", ")}]`,
  ];
  if (common.requiresPython) lines.push(`requires-python = ${s(common.requiresPython)}`);
  lines.push(`extras = [${common.extras.map(s).join(", ")}]`);
  lines.push(`dependency-groups = [${common.dependencyGroups.map(s).join(", ")}]`);
  lines.push(`default-groups = []`, `created-by = "pycontainer"`);
  type Entry = { pkg: ResolvedPackage; targets: Set<number>; wheels: Map<string, IndexFile> };
  const entries = new Map<string, Entry>();
  targets.forEach((t, i) => {
    for (const p of t.resolution.packages) {
      const key = `${p.name}==${p.version}`;
      const e = entries.get(key) ?? { pkg: p, targets: new Set(), wheels: new Map() };
      e.targets.add(i);
      e.wheels.set(p.wheel.filename, p.wheel);
      entries.set(key, e);
    }
  });
  const sorted = [...entries.entries()].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0);
  for (const [, e] of sorted) {
    const p = e.pkg;
    lines.push("", "[[packages]]", `name = ${s(p.name)}`, `version = ${s(p.version)}`);
    if (e.targets.size < targets.length) {
      const marker = [...e.targets].map((i) => `(${envs[i]})`).join(" or ");
      lines.push(`marker = ${s(marker)}`);
    }
    if (p.requiresPython) lines.push(`requires-python = ${s(p.requiresPython)}`);
    if (p.indexUrl) lines.push(`index = ${s(p.indexUrl)}`);
    lines.push(`wheels = [`);
    for (const w of [...e.wheels.values()].sort((a, b) => a.filename < b.filename ? -1 : 1)) {
      const fields = [`name = ${s(w.filename)}`];
      if (w.uploadTime && _DATETIME.test(w.uploadTime)) {
        fields.push(`upload-time = ${w.uploadTime}`);
      }
      fields.push(`url = ${s(w.url)}`);
      if (w.size !== undefined) fields.push(`size = ${w.size}`);
      const hashes = Object.entries(w.hashes).sort(([a], [b]) => a < b ? -1 : 1)
        .map(([k, v]) => `${k} = ${s(v)}`);
      fields.push(`hashes = { ${hashes.join(", ")} }`);
      lines.push(`  { ${fields.join(", ")} },`);
    }
    lines.push(`]`);
  }
  return { text: `${lines.join("\n")}\n`, count: entries.size };
}

/**
 * Rewrites `url = "file:///…"` entries of a pylock text as `path = "/…"` (PEP 751 `path`).
 *
 * @param text pylock.toml text.
 * @returns The text with local files as paths.
 *
 * @example
 * ```ts
 * import { localUrlsAsPaths } from "./write_lock.ts";
 * const t = localUrlsAsPaths('{ name = "a.whl", url = "file:///w/a.whl", size = 1 }');
 * console.assert(t === '{ name = "a.whl", path = "/w/a.whl", size = 1 }');
 * ```
 */
export function localUrlsAsPaths(text: string): string {
  return text.replace(
    /url = "file:\/\/([^"]*)"/g,
    (_, p: string) => `path = ${JSON.stringify(decodeURIComponent(p))}`,
  );
}
