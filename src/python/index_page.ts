/**
 * Project pages of a Python package index, in both forms the "simple repository API" has: the
 * PEP 691 JSON form (`application/vnd.pypi.simple.v1+json`) and the PEP 503 HTML form that older
 * and self-hosted indexes (devpi, Artifactory, `python -m http.server` over a directory) still
 * serve. Both are turned into the same list of {@linkcode IndexFile}s with absolute URLs, hashes,
 * `requires-python`, yanked status, size, upload time and whether a PEP 658/714 metadata file is
 * available — everything the resolver needs to pick a file without downloading it.
 *
 * @module
 */

import { PycontainerError } from "../errors.ts";

/** One file listed on a project page. */
export interface IndexFile {
  /** File name, e.g. `fastapi-0.115.0-py3-none-any.whl`. */
  readonly filename: string;
  /** Absolute download URL, without the `#sha256=` fragment. */
  readonly url: string;
  /** Known hashes, algorithm (lowercase) → lowercase hex digest. */
  readonly hashes: Readonly<Record<string, string>>;
  /** The `requires-python` specifier the index lists for this file, if any. */
  readonly requiresPython: string | undefined;
  /** `false`, or the yank reason (`""` when the index gave none). */
  readonly yanked: false | string;
  /** Size in bytes, when the index says (PEP 700, JSON only). */
  readonly size: number | undefined;
  /** Upload time as an ISO 8601 string, when the index says (PEP 700). */
  readonly uploadTime: string | undefined;
  /**
   * PEP 658/714: `false` when no metadata file is served; otherwise the hashes of
   * `<url>.metadata` (empty when the index did not give any).
   */
  readonly coreMetadata: false | Readonly<Record<string, string>>;
}

/** A parsed project page. */
export interface ProjectPage {
  /** The project name as the page gives it (JSON), or as requested (HTML). */
  readonly name: string;
  /** The URL the page was read from. */
  readonly url: string;
  /** Listed files, in page order. */
  readonly files: readonly IndexFile[];
}

/** The PEP 691 JSON media type, version 1. */
export const SIMPLE_JSON_TYPE = "application/vnd.pypi.simple.v1+json";
/** The PEP 691 HTML media type, version 1. */
export const SIMPLE_HTML_TYPE = "application/vnd.pypi.simple.v1+html";

function _bad(pageUrl: string, why: string): PycontainerError {
  return new PycontainerError(`invalid project page ${_redact(pageUrl)}: ${why}`, {
    hint:
      "check that the index URL points at a PEP 503/691 simple index (e.g. https://pypi.org/simple/)",
  });
}

/** Removes userinfo from a URL for messages. */
function _redact(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    return u.toString();
  } catch {
    return url.replace(/\/\/[^/@]*@/, "//");
  }
}

function _hashes(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (value === null || typeof value !== "object") return out;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v === "string" && /^[0-9a-fA-F]+$/.test(v)) out[k.toLowerCase()] = v.toLowerCase();
  }
  return out;
}

function _metadataField(value: unknown): false | Record<string, string> {
  if (value === true) return {};
  if (value !== null && typeof value === "object") return _hashes(value);
  return false;
}

/** Splits `url#sha256=abc` into the URL and the fragment hash. */
function _splitFragment(
  href: string,
  base: string,
): { url: string; hashes: Record<string, string> } {
  const u = new URL(href, base);
  const hashes: Record<string, string> = {};
  const m = /^#?([a-z0-9]+)=([0-9a-fA-F]+)$/i.exec(u.hash);
  if (m) hashes[m[1]!.toLowerCase()] = m[2]!.toLowerCase();
  u.hash = "";
  return { url: u.toString(), hashes };
}

/**
 * Parses a PEP 691 JSON project page.
 *
 * @param json The decoded JSON body.
 * @param pageUrl The URL it came from (relative file URLs are resolved against it).
 * @returns The page.
 * @throws {PycontainerError} When the body is not a project page.
 *
 * @example
 * ```ts
 * import { parseJsonProjectPage } from "./index_page.ts";
 * const page = parseJsonProjectPage({
 *   meta: { "api-version": "1.1" }, name: "demo",
 *   files: [{ filename: "demo-1.0-py3-none-any.whl", url: "../../f/demo-1.0-py3-none-any.whl",
 *     hashes: { sha256: "AB12" }, "core-metadata": { sha256: "cd34" }, yanked: false }],
 * }, "https://example.org/simple/demo/");
 * console.assert(page.files[0]!.url === "https://example.org/f/demo-1.0-py3-none-any.whl");
 * console.assert(page.files[0]!.hashes.sha256 === "ab12");
 * ```
 */
export function parseJsonProjectPage(json: unknown, pageUrl: string): ProjectPage {
  if (json === null || typeof json !== "object") throw _bad(pageUrl, "not a JSON object");
  const page = json as Record<string, unknown>;
  const files = page.files;
  if (!Array.isArray(files)) throw _bad(pageUrl, `no "files" list`);
  const major = String((page.meta as Record<string, unknown> | undefined)?.["api-version"] ?? "1")
    .split(".")[0];
  if (major !== "1") throw _bad(pageUrl, `unsupported simple API version ${major}`);
  const out: IndexFile[] = [];
  for (const f of files as unknown[]) {
    if (f === null || typeof f !== "object") continue;
    const r = f as Record<string, unknown>;
    if (typeof r.filename !== "string" || typeof r.url !== "string") continue;
    const { url, hashes: fragment } = _splitFragment(r.url, pageUrl);
    const yanked = r.yanked === true ? "" : typeof r.yanked === "string" ? r.yanked : false;
    out.push({
      filename: r.filename,
      url,
      hashes: { ...fragment, ..._hashes(r.hashes) },
      requiresPython: typeof r["requires-python"] === "string" && r["requires-python"] !== ""
        ? r["requires-python"]
        : undefined,
      yanked,
      size: typeof r.size === "number" ? r.size : undefined,
      uploadTime: typeof r["upload-time"] === "string" ? r["upload-time"] : undefined,
      coreMetadata: _metadataField(r["core-metadata"] ?? r["dist-info-metadata"]),
    });
  }
  return { name: typeof page.name === "string" ? page.name : "", url: pageUrl, files: out };
}

const _ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: "\u00a0",
};

/**
 * Decodes HTML character references (`&gt;=3.8`, `&#62;`, `&#x3e;`).
 *
 * @param text Attribute or text content.
 * @returns The decoded text.
 *
 * @example
 * ```ts
 * import { decodeHtmlEntities } from "./index_page.ts";
 * console.assert(decodeHtmlEntities("&gt;=3.8,&#60;4") === ">=3.8,<4");
 * ```
 */
export function decodeHtmlEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (all, ref: string) => {
    if (ref[0] === "#") {
      const code = ref[1] === "x" || ref[1] === "X"
        ? parseInt(ref.slice(2), 16)
        : parseInt(ref.slice(1), 10);
      return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : all;
    }
    return _ENTITIES[ref.toLowerCase()] ?? all;
  });
}

function _attributes(tag: string): Map<string, string> {
  const attrs = new Map<string, string>();
  const re = /([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
  const body = tag.replace(/^<a\b/i, "").replace(/\/?>$/, "");
  for (const m of body.matchAll(re)) {
    const value = m[2] ?? m[3] ?? m[4] ?? "";
    const key = m[1]!.toLowerCase();
    if (!attrs.has(key)) attrs.set(key, decodeHtmlEntities(value));
  }
  return attrs;
}

/**
 * Parses a PEP 503 HTML project page (anchors with `data-requires-python`, `data-yanked`,
 * `data-core-metadata` / `data-dist-info-metadata`, hash fragments; a `<base href>` is honoured).
 *
 * @param html The page.
 * @param pageUrl The URL it came from.
 * @param name The project name requested (HTML pages don't state it reliably).
 * @returns The page.
 *
 * @example
 * ```ts
 * import { parseHtmlProjectPage } from "./index_page.ts";
 * const page = parseHtmlProjectPage(
 *   '<a href="/f/demo-1.0.tar.gz#sha256=ab" data-requires-python="&gt;=3.8" data-yanked="">demo-1.0.tar.gz</a>',
 *   "https://example.org/simple/demo/", "demo");
 * console.assert(page.files[0]!.requiresPython === ">=3.8" && page.files[0]!.yanked === "");
 * ```
 */
export function parseHtmlProjectPage(html: string, pageUrl: string, name: string): ProjectPage {
  let base = pageUrl;
  const baseTag = /<base\b[^>]*>/i.exec(html);
  if (baseTag) {
    const href = _attributes(baseTag[0].replace(/^<base\b/i, "<a")).get("href");
    if (href) base = new URL(href, pageUrl).toString();
  }
  const files: IndexFile[] = [];
  for (const m of html.matchAll(/<a\b[^>]*>([\s\S]*?)<\/a\s*>/gi)) {
    const openTag = /^<a\b[^>]*>/i.exec(m[0])![0];
    const attrs = _attributes(openTag);
    const href = attrs.get("href");
    if (!href) continue;
    let parsed: { url: string; hashes: Record<string, string> };
    try {
      parsed = _splitFragment(href, base);
    } catch {
      continue;
    }
    const text = decodeHtmlEntities(m[1]!.replace(/<[^>]*>/g, "")).trim();
    const filename = text || decodeURIComponent(new URL(parsed.url).pathname.split("/").pop()!);
    const yanked = attrs.get("data-yanked");
    const meta = attrs.get("data-core-metadata") ?? attrs.get("data-dist-info-metadata");
    let coreMetadata: false | Record<string, string> = false;
    if (meta !== undefined && meta !== "false") {
      const hm = /^([a-z0-9]+)=([0-9a-f]+)$/i.exec(meta.trim());
      coreMetadata = hm ? { [hm[1]!.toLowerCase()]: hm[2]!.toLowerCase() } : {};
    }
    const rp = attrs.get("data-requires-python");
    files.push({
      filename,
      url: parsed.url,
      hashes: parsed.hashes,
      requiresPython: rp === undefined || rp.trim() === "" ? undefined : rp.trim(),
      yanked: yanked === undefined ? false : yanked,
      size: undefined,
      uploadTime: undefined,
      coreMetadata,
    });
  }
  return { name, url: pageUrl, files };
}
