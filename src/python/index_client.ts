/**
 * A client for Python package indexes (the "simple repository API"). It asks for the PEP 691
 * JSON form and falls back to PEP 503 HTML when that is what the index serves, caches project
 * pages for the run, and gets a wheel's core metadata without downloading the wheel: the PEP 658
 * `<url>.metadata` file when the index has one, else HTTP range requests for the wheel's ZIP
 * central directory and its `METADATA` entry, else (the server ignores ranges) the whole file.
 *
 * Requests go through the registry client's transport and retry policy: redirects followed by
 * hand with `Authorization` dropped when they leave the host, retries with backoff on 408/429/5xx
 * and reset connections. Credentials (URL userinfo, `.netrc`, uv/poetry environment variables;
 * see `index_auth.ts`) are only sent to URLs under the index they belong to.
 *
 * @module
 */

import process from "node:process";
import { PycontainerError } from "../errors.ts";
import { describeNetworkError, networkErrorKind } from "../registry/network_error.ts";
import { isRetryableStatus, retry, retryAfterMs } from "../registry/retry.ts";
import { type FetchFn, sendRequest } from "../registry/transport.ts";
import { sha256Hex } from "../runtime/sha256.ts";
import { type CoreMetadata, parseCoreMetadataFor } from "./core_metadata.ts";
import { CredentialStore, type NetrcEntry, readNetrc } from "./index_auth.ts";
import { indexesFromConfig, type IndexList, type IndexSource } from "./index_config.ts";
import {
  type IndexFile,
  parseHtmlProjectPage,
  parseJsonProjectPage,
  SIMPLE_JSON_TYPE,
} from "./index_page.ts";
import { normalizeName } from "./names.ts";
import { bytesSource, type RandomAccessSource } from "./random_access.ts";
import { readEntryBytes } from "./zip_entry_stream.ts";
import { readZipDirectory } from "./zip_reader.ts";

/** The files of one project, from the index that had it. */
export interface ProjectFiles {
  /** PEP 503-normalised name. */
  readonly name: string;
  /** The index the files come from. */
  readonly index: IndexSource;
  /** The files listed. */
  readonly files: readonly IndexFile[];
}

/** Something the client did, for progress output and tests. */
export type IndexEvent =
  | { kind: "page"; name: string; host: string; format: "json" | "html" }
  | { kind: "metadata"; filename: string; via: "pep658" | "range" | "download" }
  | { kind: "retry"; url: string; attempt: number; delayMs: number; reason: string };

/** Options for {@linkcode IndexClient}. */
export interface IndexClientOptions {
  /**
   * Indexes to use. Default: {@linkcode indexesFromConfig} over `tool`, `env`, `indexUrl` and
   * `extraIndexUrls` (PyPI when nothing is configured).
   */
  indexes?: IndexList;
  /** `--index-url` (replaces the default index), when `indexes` is not given. */
  indexUrl?: string;
  /** `--extra-index-url`s, when `indexes` is not given. */
  extraIndexUrls?: readonly string[];
  /** pyproject's `[tool]` table (uv/poetry indexes), when `indexes` is not given. */
  tool?: unknown;
  /** Environment (NETRC, HOME); default the process environment. */
  env?: Record<string, string | undefined>;
  /** `.netrc` entries to use; default read from `$NETRC` or `~/.netrc`; `false` for none. */
  netrc?: readonly NetrcEntry[] | false;
  /** Fetch implementation (default global `fetch`). */
  fetch?: FetchFn;
  /** Attempts per request, including the first (default 4). */
  attempts?: number;
  /** First retry delay in ms (default 250). */
  baseDelayMs?: number;
  /** Timeout for headers and for each body chunk, ms (default 30 000). */
  timeoutMs?: number;
  /** Progress callback. */
  onEvent?: (event: IndexEvent) => void;
}

const ACCEPT = `${SIMPLE_JSON_TYPE}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01`;
const TAIL_BYTES = 128 * 1024;

/**
 * Reads project pages and metadata from the configured indexes.
 *
 * @example Listing a project's files
 * ```ts ignore
 * import { IndexClient } from "./index_client.ts";
 * const client = new IndexClient();
 * const project = await client.projectFiles("fastapi");
 * console.log(project?.files.length, project?.index.url);
 * ```
 */
export class IndexClient {
  /** The indexes in search order. */
  readonly indexes: IndexList;
  /** Counters, for tests and `--verbose`. */
  readonly stats = { pages: 0, metadataFiles: 0, rangeRequests: 0, fullDownloads: 0 };
  #options: IndexClientOptions;
  #credentials: Promise<CredentialStore> | undefined;
  #pages = new Map<string, Promise<ProjectFiles | undefined>>();
  #metadata = new Map<string, Promise<CoreMetadata>>();

  /**
   * @param options Indexes, credentials, transport and retry settings.
   */
  constructor(options: IndexClientOptions = {}) {
    this.#options = options;
    this.indexes = options.indexes ??
      indexesFromConfig(options.tool, options.env ?? process.env, {
        ...(options.indexUrl === undefined ? {} : { indexUrl: options.indexUrl }),
        ...(options.extraIndexUrls === undefined ? {} : { extraIndexUrls: options.extraIndexUrls }),
      });
  }

  /**
   * The files of a project, from the first index that lists it (or the index it is pinned to).
   * Cached for the life of the client.
   *
   * @param project The project name (any spelling).
   * @returns The files, or undefined when no index has the project.
   * @throws {PycontainerError} When an index fails (naming the host and the package).
   */
  projectFiles(project: string): Promise<ProjectFiles | undefined> {
    const name = normalizeName(project);
    let page = this.#pages.get(name);
    if (page === undefined) {
      page = this.#loadProject(name);
      this.#pages.set(name, page);
    }
    return page;
  }

  async #loadProject(name: string): Promise<ProjectFiles | undefined> {
    const pinned = this.indexes.packageIndexes[name];
    const candidates = pinned !== undefined
      ? this.indexes.indexes.filter((i) => i.name === pinned)
      : this.indexes.indexes.filter((i) => !i.explicit);
    if (pinned !== undefined && candidates.length === 0) {
      throw new PycontainerError(`${name} is pinned to index "${pinned}", which is not defined`, {
        hint: `add [[tool.uv.index]] name = "${pinned}" (or a poetry source) with its URL`,
        exitCode: 2,
      });
    }
    for (const index of candidates) {
      const pageUrl = new URL(`${name}/`, index.url).toString();
      const res = await this.#get(pageUrl, { accept: ACCEPT }, `the project page for ${name}`);
      if (res.response.status === 404 || res.response.status === 410) {
        await res.response.body?.cancel();
        continue;
      }
      if (!res.response.ok) {
        await res.response.body?.cancel();
        throw _httpError(res.response.status, `the project page for ${name}`, pageUrl);
      }
      const type = (res.response.headers.get("content-type") ?? "").toLowerCase();
      this.stats.pages++;
      const host = new URL(pageUrl).host;
      try {
        if (type.includes("json")) {
          const page = parseJsonProjectPage(await res.response.json(), res.url);
          this.#options.onEvent?.({ kind: "page", name, host, format: "json" });
          return { name, index, files: page.files };
        }
        const page = parseHtmlProjectPage(await res.response.text(), res.url, name);
        this.#options.onEvent?.({ kind: "page", name, host, format: "html" });
        return { name, index, files: page.files };
      } catch (cause) {
        if (cause instanceof PycontainerError) throw cause;
        throw new PycontainerError(`cannot read the project page for ${name} from ${host}`, {
          hint: "the index sent a malformed page; check the index URL or retry later",
          cause,
        });
      }
    }
    return undefined;
  }

  /**
   * The core metadata of a wheel, without downloading the wheel when the index allows: PEP 658
   * metadata file (hash-checked), else range requests into the zip, else a full download.
   *
   * @param file The wheel, as listed.
   * @param expected The project name and version it is listed as (checked against the file).
   * @returns The parsed metadata. Cached per URL.
   * @throws {PycontainerError} On HTTP errors, hash mismatches or broken metadata.
   */
  coreMetadata(
    file: IndexFile,
    expected: { name: string; version: string },
  ): Promise<CoreMetadata> {
    let md = this.#metadata.get(file.url);
    if (md === undefined) {
      md = this.#loadMetadata(file, expected);
      this.#metadata.set(file.url, md);
      md.catch(() => this.#metadata.delete(file.url));
    }
    return md;
  }

  async #loadMetadata(
    file: IndexFile,
    expected: { name: string; version: string },
  ): Promise<CoreMetadata> {
    const where = `${file.filename}.metadata`;
    if (file.coreMetadata !== false) {
      const url = `${file.url}.metadata`;
      const res = await this.#get(url, {}, `the metadata of ${file.filename}`);
      if (res.response.ok) {
        const bytes = new Uint8Array(await res.response.arrayBuffer());
        const want = file.coreMetadata.sha256;
        if (want !== undefined && sha256Hex(bytes) !== want) {
          throw new PycontainerError(
            `metadata of ${expected.name} ${expected.version} from ${
              _redact(url)
            } has the wrong sha256`,
            { hint: "the index serves inconsistent files; retry later or report it to the index" },
          );
        }
        this.stats.metadataFiles++;
        this.#options.onEvent?.({ kind: "metadata", filename: file.filename, via: "pep658" });
        return parseCoreMetadataFor(bytes, expected, where);
      }
      await res.response.body?.cancel();
      if (res.response.status !== 404) {
        throw _httpError(res.response.status, `the metadata of ${file.filename}`, url);
      }
    }
    if (!file.filename.endsWith(".whl")) {
      throw new PycontainerError(`${file.filename} is not a wheel; its metadata can't be read`, {
        hint: "only wheels are installed; pin a version that has a wheel for the target",
      });
    }
    const source = await this.#remoteZip(file);
    const dir = await readZipDirectory(source, { label: file.filename });
    const entries = dir.entries.filter((e) => /^[^/]+\.dist-info\/METADATA$/.test(e.name));
    const entry =
      entries.find((e) =>
        normalizeName(e.name.split("-")[0] ?? "") === normalizeName(expected.name)
      ) ?? entries[0];
    if (entry === undefined) {
      throw new PycontainerError(`${file.filename} has no .dist-info/METADATA`, {
        hint: "the wheel is broken; pin another version or report it to the package's maintainers",
      });
    }
    const bytes = await readEntryBytes(source, entry, {
      label: file.filename,
      archiveSize: dir.archiveSize,
    });
    return parseCoreMetadataFor(bytes, expected, `${file.filename}/${entry.name}`);
  }

  /** A random-access view of a remote wheel, by range requests when the server supports them. */
  async #remoteZip(file: IndexFile): Promise<RandomAccessSource> {
    const what = `${file.filename}`;
    const res = await this.#get(file.url, { range: `bytes=-${TAIL_BYTES}` }, what);
    if (res.response.status === 206) {
      const total = /\/(\d+)\s*$/.exec(res.response.headers.get("content-range") ?? "")?.[1];
      const tail = new Uint8Array(await res.response.arrayBuffer());
      if (total !== undefined) {
        this.stats.rangeRequests++;
        this.#options.onEvent?.({ kind: "metadata", filename: file.filename, via: "range" });
        return this.#rangeSource(file, Number(total), tail);
      }
    } else if (res.response.ok) {
      this.stats.fullDownloads++;
      this.#options.onEvent?.({ kind: "metadata", filename: file.filename, via: "download" });
      return bytesSource(new Uint8Array(await res.response.arrayBuffer()));
    } else {
      await res.response.body?.cancel();
      throw _httpError(res.response.status, `the wheel ${file.filename}`, file.url);
    }
    // A 206 without a usable Content-Range: download the whole file.
    const full = await this.#get(file.url, {}, what);
    if (!full.response.ok) throw _httpError(full.response.status, `the wheel ${what}`, file.url);
    this.stats.fullDownloads++;
    return bytesSource(new Uint8Array(await full.response.arrayBuffer()));
  }

  #rangeSource(file: IndexFile, size: number, tail: Uint8Array): RandomAccessSource {
    const tailStart = size - tail.length;
    return {
      size,
      read: async (offset, length) => {
        if (offset >= tailStart && offset + length <= size) {
          return tail.slice(offset - tailStart, offset - tailStart + length);
        }
        if (length === 0) return new Uint8Array(0);
        const range = `bytes=${offset}-${offset + length - 1}`;
        const res = await this.#get(file.url, { range }, file.filename);
        if (res.response.status !== 206) {
          await res.response.body?.cancel();
          throw _httpError(res.response.status, `a range of ${file.filename}`, file.url);
        }
        this.stats.rangeRequests++;
        const bytes = new Uint8Array(await res.response.arrayBuffer());
        if (bytes.length !== length) {
          throw new PycontainerError(`${_host(file.url)} sent ${bytes.length} bytes for ${range}`, {
            hint: "the server's range support is broken; retry later",
          });
        }
        return bytes;
      },
    };
  }

  /**
   * An authorised GET with retries, for downloads (the body is the caller's to consume).
   *
   * @param url The file URL.
   * @param headers Extra request headers.
   * @returns The response (any status) and the final URL after redirects.
   * @throws {PycontainerError} On network failures (after retries).
   */
  openUrl(
    url: string,
    headers: Record<string, string> = {},
  ): Promise<{ response: Response; url: string }> {
    return this.#get(url, headers, _fileName(url));
  }

  async #get(
    url: string,
    headers: Record<string, string>,
    what: string,
  ): Promise<{ response: Response; url: string }> {
    const store = await this.#store();
    const auth = store.authorization(url);
    const h: Record<string, string> = { ...headers };
    if (auth !== undefined) h.authorization = auth;
    try {
      return await retry(
        () =>
          sendRequest(
            { url, headers: h, timeoutMs: this.#options.timeoutMs ?? 30_000 },
            this.#options.fetch,
          ),
        {
          attempts: this.#options.attempts ?? 4,
          baseDelayMs: this.#options.baseDelayMs ?? 250,
          retryable: (o) => {
            if (!o.ok) {
              const kind = networkErrorKind(o.error);
              return kind === "reset" || kind === "timeout";
            }
            if (!isRetryableStatus(o.value.response.status)) return false;
            o.value.response.body?.cancel().catch(() => {});
            return retryAfterMs(o.value.response.headers.get("retry-after")) ?? true;
          },
          onRetry: ({ attempt, delayMs, outcome }) =>
            this.#options.onEvent?.({
              kind: "retry",
              url: _redact(url),
              attempt,
              delayMs,
              reason: outcome.ok
                ? `HTTP ${outcome.value.response.status}`
                : describeNetworkError(outcome.error),
            }),
        },
      );
    } catch (cause) {
      if (cause instanceof PycontainerError) throw cause;
      throw new PycontainerError(
        `cannot fetch ${what} from ${_host(url)}: ${describeNetworkError(cause)}`,
        {
          hint: networkErrorKind(cause) === "dns"
            ? "check the index URL's host name and your network/proxy settings"
            : "check your network connection and the index URL, then retry",
          cause,
        },
      );
    }
  }

  #store(): Promise<CredentialStore> {
    if (this.#credentials === undefined) {
      this.#credentials = (async () => {
        const store = new CredentialStore();
        for (const index of this.indexes.indexes) {
          if (index.credentials) store.add(index.url, index.credentials);
        }
        const netrc = this.#options.netrc;
        if (netrc !== false) {
          store.addNetrc(netrc ?? await readNetrc(this.#options.env ?? process.env));
        }
        return store;
      })();
    }
    return this.#credentials;
  }
}

function _host(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "the index";
  }
}

function _fileName(url: string): string {
  try {
    return decodeURIComponent(new URL(url).pathname.split("/").pop() || url);
  } catch {
    return url;
  }
}

function _redact(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    return u.toString();
  } catch {
    return url;
  }
}

function _httpError(status: number, what: string, url: string): PycontainerError {
  const host = _host(url);
  const hint = status === 401 || status === 403
    ? `the index needs credentials: put them in the index URL, in ~/.netrc (machine ${
      new URL(url).hostname
    }) or in UV_INDEX_<NAME>_USERNAME/_PASSWORD`
    : status === 404
    ? "check the index URL (it should end in /simple/) and the package name"
    : "the index failed; retry later or check its status";
  return new PycontainerError(`cannot fetch ${what} from ${host}: HTTP ${status}`, { hint });
}
