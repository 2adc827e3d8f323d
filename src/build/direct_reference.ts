/**
 * Direct references in the project's own requirements (PEP 508 `name @ URL`): a wheel or an
 * sdist at an `https:`, `http:` or `file:` URL, used instead of the indexes for that package —
 * what pip and uv accept for a fork, a private build or a wheel attached to a release.
 *
 * The file is turned into one index-like file for the resolver: its sha256 comes from the URL's
 * `#sha256=` fragment (then the download is verified against it, as for index files), else from
 * reading the file once now, so the lock written with `--write-lock` pins the exact bytes. An
 * sdist is built into a wheel like an index sdist (pure-Python only, see `sdist_build.ts`).
 * Version-control URLs (`git+https://…`) would need a checkout and a build on the host: they are
 * refused with a hint to lock them with uv.
 *
 * @module
 */
import { PycontainerError } from "../errors.ts";
import type { IndexFile } from "../python/index_page.ts";
import { normalizeName } from "../python/names.ts";
import { parseSdistFilename, parseWheelFilename } from "../python/wheel_name.ts";
import type { UrlOpener } from "../python/wheel_cache.ts";
import { createSha256 } from "../runtime/sha256.ts";
import type { SdistFile } from "./dependency_index.ts";

/** What {@linkcode directReferenceFile} needs from the dependency source. */
export interface DirectReferenceIo {
  /** Opens a URL (`file:` included). */
  open: UrlOpener;
  /** Builds an sdist into a wheel; returns the wheel as an index-like file. */
  buildSdist(sdist: SdistFile): Promise<IndexFile>;
}

/**
 * The file a direct reference names, listed like an index file (a built wheel for an sdist).
 *
 * @param name The requirement's project name (any spelling).
 * @param url The URL after `@`, possibly with a `#sha256=` fragment.
 * @param io How to open URLs and build sdists.
 * @returns The wheel as an index file with its sha256.
 * @throws {PycontainerError} For a VCS or unsupported URL, a file that is neither a wheel nor an
 *   sdist or is for another project, or a URL that can't be read.
 *
 * @example
 * ```ts ignore
 * const file = await directReferenceFile("six", "https://example.org/six-1.16.0-py2.py3-none-any.whl", io);
 * console.log(file.hashes.sha256);
 * ```
 */
export async function directReferenceFile(
  name: string,
  url: string,
  io: DirectReferenceIo,
): Promise<IndexFile> {
  const what = `${name} @ ${redact(url)}`;
  const parsed = parseDirectUrl(url, what);
  const filename = decodeURIComponent(parsed.pathname.split("/").pop() ?? "");
  const location = `${parsed.protocol}//${parsed.host}${parsed.pathname}${parsed.search}`;
  const kind = fileKind(name, filename, what);
  const sha256 = parsed.hash.match(/^#sha256=([0-9a-fA-F]{64})$/)?.[1]?.toLowerCase() ??
    await hashUrl(location, what, io.open);
  if (kind.wheel) return indexFile(filename, location, sha256);
  return await io.buildSdist({ name, version: kind.version, filename, url: location, sha256 });
}

/** Whether the file is a wheel or an sdist of the named project (and the sdist's version). */
function fileKind(
  name: string,
  filename: string,
  what: string,
): { wheel: true } | { wheel: false; version: string } {
  const other = (kind: string, project: string) =>
    new PycontainerError(`${what}: ${filename} is ${kind} of ${project}, not ${name}`, {
      hint: "fix the URL or the name before the @ in your requirements",
      exitCode: 2,
    });
  if (filename.endsWith(".whl")) {
    const wheel = wheelNamed(filename, what);
    if (normalizeName(wheel.name) !== normalizeName(name)) throw other("a wheel", wheel.name);
    return { wheel: true };
  }
  let sdist: { name: string; version: string };
  try {
    sdist = parseSdistFilename(filename);
  } catch {
    throw new PycontainerError(
      `${what}: ${filename || "the URL"} is neither a wheel nor an sdist`,
      {
        hint: "point the URL at a .whl, .tar.gz or .zip file",
        exitCode: 2,
      },
    );
  }
  if (normalizeName(sdist.name) !== normalizeName(name)) throw other("an sdist", sdist.name);
  return { wheel: false, version: sdist.version };
}

/**
 * Hides URL credentials (`https://user:token@host/…` → `https://host/…`) for messages.
 *
 * @param url A URL.
 * @returns The URL without its userinfo.
 *
 * @example
 * ```ts
 * import { redact } from "./direct_reference.ts";
 * console.assert(redact("https://u:secret@h.example/x.whl") === "https://h.example/x.whl");
 * ```
 */
export function redact(url: string): string {
  return url.replace(/\/\/[^/@]*@/, "//");
}

function parseDirectUrl(url: string, what: string): URL {
  if (/^(git|hg|svn|bzr)\+/.test(url)) {
    throw new PycontainerError(`${what}: version-control references can't be installed here`, {
      hint:
        "lock the dependencies with uv (`uv lock`, or `uv export --format pylock.toml`) and build with that lock, or reference a wheel URL",
      exitCode: 2,
    });
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new PycontainerError(`${what}: not a valid URL`, {
      hint: "write it as name @ https://host/path/file.whl (or file:///path/file.whl)",
      exitCode: 2,
    });
  }
  if (parsed.username || parsed.password) {
    // The URL would end up in the lock file and in messages.
    throw new PycontainerError(`${what}: credentials in a direct reference URL are not used`, {
      hint: `remove them from the URL and put them in ~/.netrc (machine ${parsed.hostname})`,
      exitCode: 2,
    });
  }
  if (!["https:", "http:", "file:"].includes(parsed.protocol)) {
    throw new PycontainerError(`${what}: ${parsed.protocol} URLs are not supported`, {
      hint: "use an https:, http: or file: URL of a wheel or sdist",
      exitCode: 2,
    });
  }
  return parsed;
}

function wheelNamed(filename: string, what: string): { name: string } {
  try {
    return parseWheelFilename(filename);
  } catch (e) {
    throw new PycontainerError(`${what}: ${filename} is not a valid wheel file name`, {
      hint: "wheel names look like name-1.0-py3-none-any.whl",
      exitCode: 2,
      cause: e,
    });
  }
}

async function hashUrl(url: string, what: string, open: UrlOpener): Promise<string> {
  let response: Response;
  try {
    response = (await open(url)).response;
  } catch (e) {
    if (e instanceof PycontainerError) throw e;
    throw new PycontainerError(`${what}: cannot download it: ${(e as Error).message}`, {
      hint: "check the URL and your network, or add #sha256=<hash> and a reachable mirror",
      cause: e,
    });
  }
  if (!response.ok || response.body === null) {
    await response.body?.cancel().catch(() => {});
    throw new PycontainerError(`${what}: cannot download it (HTTP ${response.status})`, {
      hint: "check the URL (and credentials for its host in ~/.netrc)",
    });
  }
  const hash = createSha256();
  for await (const chunk of response.body) hash.update(chunk);
  return hash.digestHex();
}

function indexFile(filename: string, url: string, sha256: string): IndexFile {
  return {
    filename,
    url,
    hashes: { sha256 },
    requiresPython: undefined,
    yanked: false,
    size: undefined,
    uploadTime: undefined,
    coreMetadata: false,
  };
}
