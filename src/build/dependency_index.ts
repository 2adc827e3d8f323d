/**
 * The package source of one `--include-deps` build: the configured indexes (an
 * {@linkcode IndexClient}) plus `--find-links` directories, plus wheels built from sdists for
 * projects that have no wheel the target can use. It is what the resolver reads and what the
 * wheel cache downloads from, so local files go through the same hash-verified path as index
 * files (`file:` URLs, opened here).
 *
 * Files in a `--find-links` directory are listed with their sha256 (hashed once per build) next
 * to the index's files for the same project. Building an sdist happens only when a project has
 * no fitting wheel at all (from any source); the newest sdist is then downloaded (verified),
 * built with uv or pip (see `sdist_build.ts`) into `<cache>/built-wheels/<sdist sha256>/` so the
 * next build reuses the same bytes, and offered to the resolver as one more wheel.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { CoreMetadata } from "../python/core_metadata.ts";
import { parseCoreMetadataFor } from "../python/core_metadata.ts";
import type { IndexClient, ProjectFiles } from "../python/index_client.ts";
import type { IndexFile } from "../python/index_page.ts";
import { normalizeName } from "../python/names.ts";
import { compareVersions } from "../python/pep440_version.ts";
import { openFileSource } from "../python/random_access.ts";
import type { ResolverIndex } from "../python/resolver_types.ts";
import { wheelTagPriority } from "../python/tags.ts";
import { downloadWheels } from "../python/wheel_cache.ts";
import { parseSdistFilename, parseWheelFilename } from "../python/wheel_name.ts";
import { readEntryBytes } from "../python/zip_entry_stream.ts";
import { readZipDirectory } from "../python/zip_reader.ts";
import { openFileStream } from "../store/_file_stream.ts";
import {
  buildWheelFromSdist,
  checkBuiltWheel,
  findSdistBuilder,
  type SdistBuilder,
  sdistError,
} from "./sdist_build.ts";
import type { BuildEventSink } from "./events.ts";
import { directReferenceFile } from "./direct_reference.ts";

/** Options of {@linkcode DependencyIndex}. */
export interface DependencyIndexOptions {
  /** The configured indexes. */
  index: IndexClient;
  /** Absolute `--find-links` directories. */
  findLinks: readonly string[];
  /** The target's compatible tags, best first. */
  tags: readonly string[];
  /** How to name the target in messages. */
  targetName: string;
  /** Cache root (`wheels/`, `built-wheels/`). */
  cacheDir: string;
  /** Host environment (PATH for uv/pip). */
  env: Record<string, string | undefined>;
  /** Progress. */
  emit: BuildEventSink;
}

/** An sdist to build: name, version, and where to get it with its hash. */
export interface SdistFile {
  /** Project name. */
  name: string;
  /** Version. */
  version: string;
  /** File name. */
  filename: string;
  /** Download URL (`file:` for local files). */
  url: string;
  /** Expected sha256. */
  sha256: string;
}

/**
 * Indexes + find-links + sdist builds, as one {@linkcode ResolverIndex}.
 *
 * @example
 * ```ts ignore
 * const source = new DependencyIndex({ index, findLinks: [], tags, targetName, cacheDir, env, emit });
 * const files = await source.projectFiles("fastapi");
 * ```
 */
export class DependencyIndex implements ResolverIndex {
  #o: DependencyIndexOptions;
  #local: Promise<Map<string, IndexFile[]>> | undefined;
  #pages = new Map<string, Promise<ProjectFiles | undefined>>();
  #builder: Promise<SdistBuilder | undefined> | undefined;

  /** @param options Indexes, find-links directories, target tags, cache and environment. */
  constructor(options: DependencyIndexOptions) {
    this.#o = options;
  }

  /** The target's compatible tags, best first. */
  get tags(): readonly string[] {
    return this.#o.tags;
  }

  /**
   * A project's files from the indexes and the find-links directories, plus a wheel built from
   * the newest sdist when nothing else fits the target.
   *
   * @param project Project name (any spelling).
   * @returns The files, or undefined when no source has the project.
   */
  projectFiles(project: string): Promise<ProjectFiles | undefined> {
    const name = normalizeName(project);
    let page = this.#pages.get(name);
    if (page === undefined) {
      page = this.#load(name);
      this.#pages.set(name, page);
    }
    return page;
  }

  async #load(name: string): Promise<ProjectFiles | undefined> {
    const local = (await this.#localFiles()).get(name) ?? [];
    const remote = await this.#o.index.projectFiles(name);
    if (remote === undefined && local.length === 0) return undefined;
    const files = [...local, ...(remote?.files ?? [])];
    const index = remote?.index ?? this.#o.index.indexes.indexes[0]!;
    const fits = files.some((f) => {
      if (!f.filename.endsWith(".whl") || f.yanked !== false) return false;
      try {
        return wheelTagPriority(this.#o.tags, parseWheelFilename(f.filename).tags) !== undefined;
      } catch {
        return false;
      }
    });
    if (fits) return { name, index, files };
    const sdist = _newestSdist(files);
    if (sdist === undefined) return { name, index, files };
    const built = await this.buildSdist({ ...sdist, name });
    return { name, index, files: [built, ...files] };
  }

  /**
   * The file of a direct reference (`name @ URL`): a wheel, or a wheel built from an sdist.
   *
   * @param name The project name.
   * @param url The URL (an optional `#sha256=` fragment is checked on download).
   * @returns The wheel, listed like an index file, with its sha256.
   */
  directFile(name: string, url: string): Promise<IndexFile> {
    return directReferenceFile(name, url, {
      open: (u) => this.openUrl(u),
      buildSdist: (s) => this.buildSdist(s),
    });
  }

  /**
   * Downloads (verified) and builds an sdist, returning the wheel as an index file (`file:` URL).
   *
   * @param sdist The sdist and its expected hash.
   * @returns The built wheel, listed like an index file.
   * @throws {PycontainerError} when there is no builder, the build fails, or the wheel does not
   *   fit the target.
   */
  async buildSdist(sdist: SdistFile): Promise<IndexFile> {
    const what = `${sdist.name} ${sdist.version}`;
    this.#builder ??= findSdistBuilder(this.#o.env);
    const builder = await this.#builder;
    if (builder === undefined) {
      throw sdistError(what, "neither uv nor pip is on PATH to build a wheel from it");
    }
    const dir = join(this.#o.cacheDir, "built-wheels", sdist.sha256);
    let wheel = (await readdir(dir).catch(() => [] as string[])).find((f) => f.endsWith(".whl"));
    if (wheel === undefined) {
      const [cached] = await downloadWheels([{ ...sdist }], {
        cacheDir: this.#o.cacheDir,
        open: (url) => this.openUrl(url),
      });
      this.#o.emit({
        type: "info",
        message: `building ${what} from ${sdist.filename} with ${builder.tool}`,
      });
      await mkdir(join(this.#o.cacheDir, "built-wheels"), { recursive: true });
      const out = await mkdtemp(join(this.#o.cacheDir, "built-wheels", ".build-"));
      try {
        const path = await buildWheelFromSdist(cached!.path, what, {
          builder,
          outDir: out,
          env: this.#o.env,
          indexUrl: this.#o.index.indexes.indexes[0]?.url,
        });
        checkBuiltWheel(basename(path), what, this.#o.tags, this.#o.targetName);
        await rename(out, dir).catch((e) => {
          if (
            (e as { code?: string }).code !== "ENOTEMPTY" &&
            (e as { code?: string }).code !== "EEXIST"
          ) throw e;
        });
        wheel = basename(path);
      } finally {
        await rm(out, { recursive: true, force: true });
      }
    } else {
      checkBuiltWheel(wheel, what, this.#o.tags, this.#o.targetName);
    }
    return await _localFile(join(dir, wheel));
  }

  /**
   * Core metadata of a wheel: read from the file for local (`file:`) wheels, else from the index.
   *
   * @param file The wheel.
   * @param expected Name and version it is listed as.
   * @returns The metadata.
   */
  async coreMetadata(
    file: IndexFile,
    expected: { name: string; version: string },
  ): Promise<CoreMetadata> {
    if (!file.url.startsWith("file:")) return await this.#o.index.coreMetadata(file, expected);
    const source = await openFileSource(fileURLToPath(file.url));
    try {
      const dir = await readZipDirectory(source, { label: file.filename });
      const entry = dir.entries.find((e) => /^[^/]+\.dist-info\/METADATA$/.test(e.name));
      if (entry === undefined) {
        throw sdistError(
          `${expected.name} ${expected.version}`,
          `${file.filename} has no METADATA`,
        );
      }
      const bytes = await readEntryBytes(source, entry, { label: file.filename });
      return parseCoreMetadataFor(bytes, expected, `${file.filename}/${entry.name}`);
    } finally {
      await source.close();
    }
  }

  /**
   * Opens a URL for the wheel cache: local files directly, everything else through the index
   * client (credentials, retries).
   *
   * @param url The URL.
   * @returns The response and the final URL.
   */
  async openUrl(url: string): Promise<{ response: Response; url: string }> {
    if (!url.startsWith("file:")) return await this.#o.index.openUrl(url);
    const path = fileURLToPath(url);
    const exists = await stat(path).then((s) => s.isFile(), () => false);
    if (!exists) return { response: new Response("not found", { status: 404 }), url };
    return { response: new Response(await openFileStream(path)), url };
  }

  #localFiles(): Promise<Map<string, IndexFile[]>> {
    this.#local ??= (async () => {
      const byName = new Map<string, IndexFile[]>();
      for (const dir of this.#o.findLinks) {
        const names = await readdir(dir).catch((cause) => {
          throw sdistError("--find-links", `cannot read ${dir}: ${(cause as Error).message}`);
        });
        for (const f of names.sort()) {
          const project = _projectOf(f);
          if (project === undefined) continue;
          const list = byName.get(project) ?? [];
          list.push(await _localFile(join(dir, f)));
          byName.set(project, list);
        }
      }
      return byName;
    })();
    return this.#local;
  }
}

function _projectOf(filename: string): string | undefined {
  try {
    if (filename.endsWith(".whl")) return parseWheelFilename(filename).name;
    if (/\.(tar\.gz|zip)$/.test(filename)) return parseSdistFilename(filename).name;
  } catch {
    // not a distribution
  }
  return undefined;
}

async function _localFile(path: string): Promise<IndexFile> {
  const bytes = await readFile(path);
  return {
    filename: basename(path),
    url: pathToFileURL(path).toString(),
    hashes: { sha256: createHash("sha256").update(bytes).digest("hex") },
    requiresPython: undefined,
    yanked: false,
    size: bytes.length,
    uploadTime: undefined,
    coreMetadata: false,
  };
}

function _newestSdist(files: readonly IndexFile[]):
  | { filename: string; url: string; sha256: string; version: string }
  | undefined {
  let best: { filename: string; url: string; sha256: string; version: string } | undefined;
  for (const f of files) {
    if (f.yanked !== false || f.hashes["sha256"] === undefined) continue;
    let version: string;
    try {
      version = parseSdistFilename(f.filename).version;
    } catch {
      continue;
    }
    if (best === undefined || compareVersions(version, best.version) > 0) {
      best = { filename: f.filename, url: f.url, sha256: f.hashes["sha256"]!, version };
    }
  }
  return best;
}
