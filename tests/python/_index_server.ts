/**
 * A local Python package index for tests: a node:http server on 127.0.0.1 that serves real
 * wheels (downloaded once by `tests/fixtures/wheels_index/fetch.sh`) and wheels made in memory as
 * a PEP 691 JSON and PEP 503 HTML simple index, with sha256 hashes, `requires-python` taken from
 * each wheel's METADATA, PEP 658 `.metadata` files, HTTP range requests on files, and knobs for
 * the unhappy paths: wrong hashes, yanked files, 500s once, Basic auth, HTML only, no PEP 658,
 * files listed on (or redirected to) another host. Every request is recorded in `hits`.
 *
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { bytesSource } from "../../src/python/random_access.ts";
import { readZipDirectory } from "../../src/python/zip_reader.ts";
import { readEntryBytes } from "../../src/python/zip_entry_stream.ts";
import { normalizeName } from "../../src/python/names.ts";
import { writeZip } from "./_zip_writer.ts";

/** A file served from memory. */
export interface MemoryFile {
  filename: string;
  bytes: Uint8Array;
}

/** Options for {@linkcode startIndexServer}. */
export interface IndexServerOptions {
  /** Directories whose `*.whl` / `*.tar.gz` files are served. */
  dirs?: string[];
  /** Files served from memory (added to the directories' files). */
  files?: MemoryFile[];
  /** `json` only, `html` only, or `negotiate` by Accept (default). */
  format?: "json" | "html" | "negotiate";
  /** Serve PEP 658 metadata files (default true). */
  pep658?: boolean;
  /** Honour Range requests on files (default true). */
  ranges?: boolean;
  /** File name → yank reason. */
  yanked?: Record<string, string>;
  /** File names listed with a wrong sha256. */
  wrongHash?: string[];
  /** File names whose bytes are served corrupted (last byte flipped), same listed hash. */
  corrupt?: string[];
  /** Paths (e.g. `/simple/fastapi/`) answered 500 the first time. */
  failOnce?: string[];
  /** Require these Basic credentials on every request. */
  auth?: { username: string; password: string };
  /** List file URLs under this base instead of this server (e.g. another server's `/files/`). */
  filesBase?: string;
  /** Answer `/files/...` with a 302 to this base + file name. */
  redirectFilesTo?: string;
}

/** One recorded request. */
export interface Hit {
  method: string;
  path: string;
  authorization: string | undefined;
  range: string | undefined;
  status: number;
}

/** A running test index. */
export interface IndexServer {
  /** `http://127.0.0.1:PORT` */
  origin: string;
  /** `http://127.0.0.1:PORT/simple/` */
  url: string;
  /** Every request so far. */
  hits: Hit[];
  /** Filename → sha256 of what is served. */
  sha256: Map<string, string>;
  /** Stops the server. */
  close(): Promise<void>;
}

/** The directory fetch.sh fills. */
export function realIndexDir(): string {
  const base = process.env.PYCONTAINER_TEST_CACHE ?? join(homedir(), ".cache", "pycontainer-test");
  return join(base, "index");
}

/** Whether the real-wheel index fixture is present (fetch.sh has run to completion). */
export async function hasRealIndex(): Promise<boolean> {
  return await stat(join(realIndexDir(), ".complete")).then(() => true, () => false);
}

/** A minimal wheel with the given metadata, for synthetic resolver scenarios. */
export function syntheticWheel(spec: {
  name: string;
  version: string;
  requires?: string[];
  requiresPython?: string;
  extras?: string[];
  tag?: string;
}): MemoryFile {
  const dist = spec.name.replace(/[-_.]+/g, "_").toLowerCase();
  const tag = spec.tag ?? "py3-none-any";
  const info = `${dist}-${spec.version}.dist-info`;
  let md = `Metadata-Version: 2.1\nName: ${spec.name}\nVersion: ${spec.version}\n`;
  if (spec.requiresPython) md += `Requires-Python: ${spec.requiresPython}\n`;
  for (const e of spec.extras ?? []) md += `Provides-Extra: ${e}\n`;
  for (const r of spec.requires ?? []) md += `Requires-Dist: ${r}\n`;
  const bytes = writeZip([
    { name: `${dist}/__init__.py`, data: `__version__ = "${spec.version}"\n` },
    { name: `${info}/METADATA`, data: md },
    { name: `${info}/WHEEL`, data: `Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: ${tag}\n` },
    { name: `${info}/RECORD`, data: "" },
  ]);
  return { filename: `${dist}-${spec.version}-${tag}.whl`, bytes };
}

interface _Entry {
  filename: string;
  project: string;
  bytes: () => Promise<Uint8Array>;
  size: number;
  sha256: string;
  metadata: Uint8Array | undefined;
  requiresPython: string | undefined;
}

function _projectOf(filename: string): string | undefined {
  if (filename.endsWith(".whl")) return normalizeName(filename.split("-")[0]!);
  const m = /^(.+)-[^-]+\.(tar\.gz|zip)$/.exec(filename);
  return m ? normalizeName(m[1]!) : undefined;
}

async function _metadataOf(filename: string, bytes: Uint8Array): Promise<Uint8Array | undefined> {
  if (!filename.endsWith(".whl")) return undefined;
  const src = bytesSource(bytes);
  const dir = await readZipDirectory(src, { label: filename });
  const entry = dir.entries.find((e) => /^[^/]+\.dist-info\/METADATA$/.test(e.name));
  return entry ? await readEntryBytes(src, entry, { label: filename }) : undefined;
}

function _sha(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

const _metaCache = new Map<string, { sha256: string; size: number; metadata?: Uint8Array }>();

async function _load(options: IndexServerOptions): Promise<Map<string, _Entry>> {
  const entries = new Map<string, _Entry>();
  const add = async (filename: string, read: () => Promise<Uint8Array>, key: string) => {
    const project = _projectOf(filename);
    if (project === undefined) return;
    let info = _metaCache.get(key);
    if (info === undefined) {
      const bytes = await read();
      const metadata = await _metadataOf(filename, bytes);
      info = { sha256: _sha(bytes), size: bytes.length, ...(metadata ? { metadata } : {}) };
      _metaCache.set(key, info);
    }
    const text = info.metadata ? new TextDecoder().decode(info.metadata) : "";
    const rp = /^Requires-Python:\s*(.+)$/m.exec(text.split(/\r?\n\r?\n/)[0] ?? "")?.[1]?.trim();
    entries.set(filename, {
      filename,
      project,
      bytes: read,
      size: info.size,
      sha256: info.sha256,
      metadata: info.metadata,
      requiresPython: rp,
    });
  };
  for (const dir of options.dirs ?? []) {
    for (const name of (await readdir(dir)).sort()) {
      if (!name.endsWith(".whl") && !name.endsWith(".tar.gz")) continue;
      const path = join(dir, name);
      const st = await stat(path);
      await add(name, () => readFile(path), `${path}:${st.size}:${st.mtimeMs}`);
    }
  }
  for (const f of options.files ?? []) {
    await add(f.filename, () => Promise.resolve(f.bytes), `mem:${f.filename}:${_sha(f.bytes)}`);
  }
  return entries;
}

function _esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(
    /"/g,
    "&quot;",
  );
}

/**
 * Starts the index on a free loopback port.
 *
 * @param options What to serve and which faults to inject.
 * @returns The running server.
 */
export async function startIndexServer(options: IndexServerOptions = {}): Promise<IndexServer> {
  const entries = await _load(options);
  const hits: Hit[] = [];
  const failed = new Set<string>();
  const wrong = new Set(options.wrongHash ?? []);
  const corrupt = new Set(options.corrupt ?? []);
  let origin = "";

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://x");
    const path = decodeURIComponent(url.pathname);
    const hit: Hit = {
      method: req.method ?? "GET",
      path,
      authorization: req.headers.authorization,
      range: req.headers.range,
      status: 200,
    };
    hits.push(hit);
    const send = (status: number, type: string, body: string | Uint8Array, extra = {}) => {
      hit.status = status;
      res.writeHead(status, { "content-type": type, ...extra });
      res.end(body);
    };
    if (options.auth) {
      const want = `Basic ${
        Buffer.from(`${options.auth.username}:${options.auth.password}`).toString("base64")
      }`;
      if (req.headers.authorization !== want) {
        return send(401, "text/plain", "unauthorized", { "www-authenticate": 'Basic realm="x"' });
      }
    }
    if ((options.failOnce ?? []).includes(path) && !failed.has(path)) {
      failed.add(path);
      return send(500, "text/plain", "injected failure");
    }
    const filesBase = options.filesBase ?? `${origin}/files/`;
    const simple = /^\/simple\/(?:([^/]+)\/)?$/.exec(path);
    if (simple) {
      const accept = req.headers.accept ?? "";
      const json = options.format === "json" ||
        (options.format !== "html" && accept.includes("application/vnd.pypi.simple.v1+json"));
      if (simple[1] === undefined) {
        const projects = [...new Set([...entries.values()].map((e) => e.project))].sort();
        return json
          ? send(
            200,
            "application/vnd.pypi.simple.v1+json",
            JSON.stringify({
              meta: { "api-version": "1.1" },
              projects: projects.map((name) => ({ name })),
            }),
          )
          : send(
            200,
            "text/html",
            projects.map((p) => `<a href="${p}/">${p}</a>`).join("\n"),
          );
      }
      const name = normalizeName(simple[1]);
      if (name !== simple[1]) return send(301, "text/plain", "", { location: `/simple/${name}/` });
      const files = [...entries.values()].filter((e) => e.project === name);
      if (files.length === 0) return send(404, "text/plain", "not found");
      const hashOf = (e: _Entry) => wrong.has(e.filename) ? "0".repeat(64) : e.sha256;
      const pep658 = options.pep658 !== false;
      if (json) {
        const body = {
          meta: { "api-version": "1.1" },
          name,
          files: files.map((e) => ({
            filename: e.filename,
            url: `${filesBase}${encodeURIComponent(e.filename)}`,
            hashes: { sha256: hashOf(e) },
            "requires-python": e.requiresPython ?? null,
            "core-metadata": pep658 && e.metadata ? { sha256: _sha(e.metadata) } : false,
            "data-dist-info-metadata": pep658 && e.metadata ? { sha256: _sha(e.metadata) } : false,
            yanked: options.yanked?.[e.filename] ?? false,
            size: e.size,
            "upload-time": "2024-01-01T00:00:00.000000Z",
          })),
          versions: [],
        };
        return send(200, "application/vnd.pypi.simple.v1+json", JSON.stringify(body));
      }
      const links = files.map((e) => {
        let a = `<a href="${_esc(`${filesBase}${encodeURIComponent(e.filename)}`)}#sha256=${
          hashOf(e)
        }"`;
        if (e.requiresPython) a += ` data-requires-python="${_esc(e.requiresPython)}"`;
        if (options.yanked?.[e.filename] !== undefined) {
          a += ` data-yanked="${_esc(options.yanked[e.filename]!)}"`;
        }
        if (pep658 && e.metadata) a += ` data-core-metadata="sha256=${_sha(e.metadata)}"`;
        return `${a}>${_esc(e.filename)}</a><br/>`;
      });
      return send(
        200,
        "text/html",
        `<!DOCTYPE html><html><body><h1>Links for ${name}</h1>\n${
          links.join("\n")
        }\n</body></html>`,
      );
    }
    const file = /^\/files\/(.+?)(\.metadata)?$/.exec(path);
    if (file) {
      if (options.redirectFilesTo) {
        return send(302, "text/plain", "", { location: `${options.redirectFilesTo}${file[1]}` });
      }
      const entry = entries.get(file[1]!);
      if (!entry) return send(404, "text/plain", "not found");
      if (file[2]) {
        if (options.pep658 === false || !entry.metadata) return send(404, "text/plain", "none");
        return send(200, "application/octet-stream", entry.metadata);
      }
      let bytes = await entry.bytes();
      if (corrupt.has(entry.filename)) {
        bytes = new Uint8Array(bytes);
        bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
      }
      const range = req.headers.range;
      if (range && options.ranges !== false) {
        const m = /^bytes=(\d*)-(\d*)$/.exec(range);
        if (m) {
          let start: number, end: number;
          if (m[1] === "") {
            start = Math.max(0, bytes.length - Number(m[2]));
            end = bytes.length - 1;
          } else {
            start = Number(m[1]);
            end = m[2] === "" ? bytes.length - 1 : Math.min(Number(m[2]), bytes.length - 1);
          }
          return send(206, "application/octet-stream", bytes.subarray(start, end + 1), {
            "content-range": `bytes ${start}-${end}/${bytes.length}`,
          });
        }
      }
      return send(200, "application/octet-stream", bytes, { "content-length": bytes.length });
    }
    return send(404, "text/plain", "not found");
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e) => {
      res.writeHead(500);
      res.end(String(e));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    url: `${origin}/simple/`,
    hits,
    sha256: new Map([...entries.values()].map((e) => [e.filename, e.sha256])),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
