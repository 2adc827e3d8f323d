/**
 * From a package selected out of a lock file to the one file to download and its sha256. Most
 * locks name the file with its URL and hash; `poetry.lock` names files without URLs and a hashed
 * `requirements.txt` names only the version and the allowed hashes, so those are looked up on
 * the index (a file is accepted only when its hash is one the lock allows). A locked sdist is
 * built into a wheel (see `dependency_index.ts`), and a pylock.toml `path` entry becomes a
 * `file:` URL relative to the lock.
 *
 * @module
 */
import { dirname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { PycontainerError } from "../errors.ts";
import { chooseWheel } from "../python/locks/select.ts";
import type { LockedFile, LockedPackage } from "../python/locks/types.ts";
import { compareVersions } from "../python/pep440_version.ts";
import type { WheelDownload } from "../python/wheel_cache.ts";
import { parseSdistFilename, parseWheelFilename } from "../python/wheel_name.ts";
import type { DependencyIndex } from "./dependency_index.ts";

/** What reading a locked wheel needs of the dependency source. */
export type LockedWheelSource = Pick<DependencyIndex, "tags" | "projectFiles" | "buildSdist">;

/**
 * The file to install for a locked package: its wheel, or a wheel built from its sdist.
 *
 * @param pkg The locked package.
 * @param wheel The wheel the lock selected for the target, if any.
 * @param sdist The sdist the lock selected when no wheel fits, if any.
 * @param source Indexes, find-links and sdist builds.
 * @param lockPath The lock file, for messages and relative paths.
 * @returns What to download (URL, hash, size).
 * @throws {PycontainerError} when the file is not on the index or cannot be built.
 *
 * @example
 * ```ts ignore
 * const w = await lockedWheel(pkg, selected.wheel, selected.sdist, source, "/p/pylock.toml");
 * ```
 */
export async function lockedWheel(
  pkg: LockedPackage,
  wheel: LockedFile | undefined,
  sdist: LockedFile | undefined,
  source: LockedWheelSource,
  lockPath: string,
): Promise<WheelDownload> {
  const version = pkg.version ?? "";
  if (!wheel && !sdist && pkg.files.length === 0) {
    // requirements.txt pins: the lock names a version and hashes, the index has the files.
    ({ wheel, sdist } = await _filesFromIndex(pkg, source));
  }
  const file = wheel ?? sdist;
  if (!file) {
    throw new PycontainerError(
      `${pkg.name} ${version} in ${lockPath} has no wheel pycontainer can install`,
      {
        hint: "pin a version that publishes wheels, or provide the wheel's URL in the lock",
      },
    );
  }
  const found = await _lockedFileLocation(pkg, file, source, lockPath);
  if (wheel) return { name: pkg.name, version, ...found };
  const built = await source.buildSdist({
    name: pkg.name,
    version,
    filename: found.filename,
    url: found.url,
    sha256: found.sha256,
  });
  return {
    name: pkg.name,
    version,
    filename: built.filename,
    url: built.url,
    sha256: built.hashes["sha256"]!,
    size: built.size,
  };
}

/** The index's files of a pinned package (allowed by its hashes): the best wheel, else an sdist. */
async function _filesFromIndex(
  pkg: LockedPackage,
  source: LockedWheelSource,
): Promise<{ wheel?: LockedFile; sdist?: LockedFile }> {
  const page = await source.projectFiles(pkg.name);
  const hashes = new Set((pkg.hashes ?? []).map((h) => h.replace(/^sha256:/, "")));
  const files: LockedFile[] = [];
  for (const f of page?.files ?? []) {
    const sha = f.hashes["sha256"];
    if (hashes.size > 0 && (sha === undefined || !hashes.has(sha))) continue;
    let version: string;
    try {
      version = f.filename.endsWith(".whl")
        ? parseWheelFilename(f.filename).version
        : parseSdistFilename(f.filename).version;
    } catch {
      continue;
    }
    if (pkg.version !== undefined && compareVersions(version, pkg.version) !== 0) continue;
    files.push({
      filename: f.filename,
      url: f.url,
      hashes: sha === undefined ? {} : { sha256: sha },
      ...(f.size === undefined ? {} : { size: f.size }),
    });
  }
  const wheel = chooseWheel(files, source.tags);
  if (wheel !== undefined) return { wheel };
  const sdist = files.find((f) => !f.filename.endsWith(".whl"));
  return sdist === undefined ? {} : { sdist };
}

/** Where a locked file is and its hash: from the lock, or looked up on the index. */
async function _lockedFileLocation(
  pkg: LockedPackage,
  file: LockedFile,
  source: LockedWheelSource,
  lockPath: string,
): Promise<{ filename: string; url: string; sha256: string; size: number | undefined }> {
  const version = pkg.version ?? "";
  const sha256 = file.hashes.sha256 ?? pkg.hashes?.find((h) => h.startsWith("sha256:"))?.slice(7);
  const url = file.url ??
    (file.path === undefined
      ? undefined
      : pathToFileURL(resolve(dirname(lockPath), file.path)).toString());
  if (url && sha256) return { filename: file.filename, url, sha256, size: file.size };
  // poetry.lock and requirements.txt name files (and hashes) but not URLs: ask the index.
  const page = await source.projectFiles(pkg.name);
  const hashes = new Set(
    [sha256, ...(pkg.hashes ?? []).map((h) => h.replace(/^sha256:/, ""))].filter(Boolean),
  );
  const ext = file.filename.endsWith(".whl") ? ".whl" : "";
  const listed =
    page?.files.find((f) =>
      f.filename === file.filename && (!hashes.size || hashes.has(f.hashes["sha256"] ?? ""))
    ) ??
      page?.files.find((f) => hashes.has(f.hashes["sha256"] ?? "") && f.filename.endsWith(ext));
  const fileSha = listed?.hashes["sha256"];
  if (!listed || !fileSha) {
    throw new PycontainerError(
      `${pkg.name} ${version}: ${file.filename} from ${lockPath} is not on the index`,
      {
        hint: "check the lock's index (--index-url / PIP_INDEX_URL) or regenerate the lock",
      },
    );
  }
  return { filename: listed.filename, url: listed.url, sha256: fileSha, size: listed.size };
}
