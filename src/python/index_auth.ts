/**
 * Credentials for package indexes, from the three places pip, uv and poetry users keep them:
 * userinfo in the index URL (`https://user:token@host/simple/`), a `.netrc` file (`$NETRC` or
 * `~/.netrc`), and environment variables named after the index (`UV_INDEX_<NAME>_USERNAME` /
 * `_PASSWORD`, `POETRY_HTTP_BASIC_<NAME>_USERNAME` / `_PASSWORD`).
 *
 * Credentials are bound to an origin (scheme, host and port) and, for URL and index credentials,
 * to the index's path prefix. A request only gets an `Authorization` header when its URL is under
 * that prefix — files on a CDN on another host never see the index password, and redirects that
 * leave the host drop the header (see `src/registry/transport.ts`). Nothing here ever puts a
 * secret in a message.
 *
 * @module
 */

import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";

/** A username and password (or token). */
export interface BasicCredentials {
  /** User name (may be empty for token-only indexes such as `__token__` styles). */
  readonly username: string;
  /** Password or token. */
  readonly password: string;
}

/** One `.netrc` entry. */
export interface NetrcEntry extends BasicCredentials {
  /** Host name, or `undefined` for the `default` entry. */
  readonly machine: string | undefined;
}

/**
 * Parses a `.netrc` file (`machine`, `login`, `password`, `default`; `account` and `macdef` are
 * skipped).
 *
 * @param text The file content.
 * @returns The entries, in file order.
 *
 * @example
 * ```ts
 * import { parseNetrc } from "./index_auth.ts";
 * const [e] = parseNetrc("machine pypi.example.com login alice password s3cret");
 * console.assert(e!.machine === "pypi.example.com" && e!.username === "alice");
 * ```
 */
export function parseNetrc(text: string): NetrcEntry[] {
  const entries: NetrcEntry[] = [];
  const tokens = text.split("\n").filter((l) => !l.trimStart().startsWith("#")).join("\n")
    .match(/"[^"]*"|\S+/g) ?? [];
  let current: { machine: string | undefined; username: string; password: string } | undefined;
  const flush = () => {
    if (current) entries.push({ ...current });
    current = undefined;
  };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const next = () => (tokens[++i] ?? "").replace(/^"(.*)"$/, "$1");
    if (t === "machine") {
      flush();
      current = { machine: next().toLowerCase(), username: "", password: "" };
    } else if (t === "default") {
      flush();
      current = { machine: undefined, username: "", password: "" };
    } else if (t === "login" && current) current.username = next();
    else if (t === "password" && current) current.password = next();
    else if (t === "account") next();
    else if (t === "macdef") {
      flush();
      // A macro runs to the next blank line; tokens lose that structure, so stop here.
      break;
    }
  }
  flush();
  return entries;
}

/**
 * Reads the user's `.netrc` (`$NETRC`, else `~/.netrc`); a missing file gives no entries.
 *
 * @param env Environment variables.
 * @returns The entries.
 *
 * @example
 * ```ts
 * import { readNetrc } from "./index_auth.ts";
 * console.assert((await readNetrc({ NETRC: "/nonexistent/netrc" })).length === 0);
 * ```
 */
export async function readNetrc(
  env: Record<string, string | undefined>,
): Promise<NetrcEntry[]> {
  const path = env.NETRC || join(env.HOME || homedir(), ".netrc");
  try {
    return parseNetrc(await readFile(path, "utf8"));
  } catch {
    return [];
  }
}

/**
 * Splits the userinfo off a URL.
 *
 * @param url An absolute URL, possibly `https://user:pass@host/path`.
 * @returns The URL without userinfo, and the credentials if there were any.
 *
 * @example
 * ```ts
 * import { splitUserinfo } from "./index_auth.ts";
 * const s = splitUserinfo("https://al%40ice:pw@example.org/simple/");
 * console.assert(s.url === "https://example.org/simple/" && s.credentials?.username === "al@ice");
 * ```
 */
export function splitUserinfo(url: string): { url: string; credentials?: BasicCredentials } {
  const u = new URL(url);
  if (u.username === "" && u.password === "") return { url: u.toString() };
  const credentials = {
    username: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
  };
  u.username = "";
  u.password = "";
  return { url: u.toString(), credentials };
}

/**
 * The environment-variable form of an index name: uppercased, other characters as `_`.
 *
 * @param name The index name from pyproject (`[[tool.uv.index]] name`).
 * @returns E.g. `MY_INDEX` for `my-index`.
 *
 * @example
 * ```ts
 * import { envIndexName } from "./index_auth.ts";
 * console.assert(envIndexName("internal-proxy") === "INTERNAL_PROXY");
 * ```
 */
export function envIndexName(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]/g, "_");
}

/**
 * Credentials for a named index from uv's and poetry's environment variables.
 *
 * @param name The index name.
 * @param env Environment variables.
 * @returns The credentials, or undefined when neither a username nor a password is set.
 *
 * @example
 * ```ts
 * import { envCredentials } from "./index_auth.ts";
 * const c = envCredentials("internal", { UV_INDEX_INTERNAL_USERNAME: "u", UV_INDEX_INTERNAL_PASSWORD: "p" });
 * console.assert(c?.password === "p");
 * ```
 */
export function envCredentials(
  name: string,
  env: Record<string, string | undefined>,
): BasicCredentials | undefined {
  const n = envIndexName(name);
  for (const prefix of [`UV_INDEX_${n}_`, `POETRY_HTTP_BASIC_${n}_`]) {
    const username = env[`${prefix}USERNAME`];
    const password = env[`${prefix}PASSWORD`];
    if (username !== undefined || password !== undefined) {
      return { username: username ?? "", password: password ?? "" };
    }
  }
  return undefined;
}

/** Credentials bound to a URL prefix (origin plus path). */
interface _Scoped {
  readonly origin: string;
  readonly path: string;
  readonly credentials: BasicCredentials;
}

/**
 * Chooses the credentials for a request URL. Explicit credentials (URL userinfo, environment)
 * apply to URLs under their index's prefix on the same origin; `.netrc` entries apply to their
 * host (the `default` entry to any host only when explicitly enabled, as pip does not send it).
 *
 * @example
 * ```ts
 * import { CredentialStore } from "./index_auth.ts";
 * const store = new CredentialStore();
 * store.add("https://pkgs.example.com/simple/", { username: "u", password: "p" });
 * console.assert(store.lookup("https://pkgs.example.com/simple/x/") !== undefined);
 * console.assert(store.lookup("https://files.example.net/x.whl") === undefined);
 * ```
 */
export class CredentialStore {
  #scoped: _Scoped[] = [];
  #netrc: NetrcEntry[] = [];

  /**
   * Binds credentials to a URL prefix.
   *
   * @param prefix The index URL (its origin and path are the scope).
   * @param credentials The credentials.
   */
  add(prefix: string, credentials: BasicCredentials): void {
    const u = new URL(prefix);
    const path = u.pathname.endsWith("/") ? u.pathname : `${u.pathname}/`;
    this.#scoped.push({ origin: u.origin, path, credentials });
  }

  /**
   * Adds `.netrc` entries (host-scoped).
   *
   * @param entries Parsed entries.
   */
  addNetrc(entries: readonly NetrcEntry[]): void {
    this.#netrc.push(...entries.filter((e) => e.machine !== undefined));
  }

  /**
   * Finds the credentials for a URL.
   *
   * @param url The request URL.
   * @returns The credentials, or undefined.
   */
  lookup(url: string): BasicCredentials | undefined {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return undefined;
    }
    let best: _Scoped | undefined;
    for (const s of this.#scoped) {
      if (s.origin !== u.origin) continue;
      const path = u.pathname.endsWith("/") ? u.pathname : `${u.pathname}/`;
      if (!path.startsWith(s.path) && s.path !== "/") {
        // Files may live beside the index on the same host (e.g. /packages/ vs /simple/).
        if (!_sameIndexRoot(s.path, u.pathname)) continue;
      }
      if (best === undefined || s.path.length > best.path.length) best = s;
    }
    if (best) return best.credentials;
    const host = u.hostname.toLowerCase();
    const entry = this.#netrc.find((e) => e.machine === host);
    return entry ? { username: entry.username, password: entry.password } : undefined;
  }

  /**
   * The `Authorization` header value for a URL, if credentials apply.
   *
   * @param url The request URL.
   * @returns `Basic …`, or undefined.
   */
  authorization(url: string): string | undefined {
    const c = this.lookup(url);
    if (c === undefined) return undefined;
    const bytes = new TextEncoder().encode(`${c.username}:${c.password}`);
    let binary = "";
    for (const b of bytes) binary += String.fromCharCode(b);
    return `Basic ${btoa(binary)}`;
  }
}

/** Whether two paths share the segment before `simple/` (an index root like `/repo/pypi/`). */
function _sameIndexRoot(indexPath: string, filePath: string): boolean {
  const i = indexPath.search(/\/simple\/?$/);
  if (i < 0) return false;
  const root = indexPath.slice(0, i + 1);
  return filePath.startsWith(root);
}
