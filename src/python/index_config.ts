/**
 * Which package indexes to ask, in which order, gathered from where users already configure
 * them: the command line (`--index-url`, `--extra-index-url`), the environment (`PIP_INDEX_URL`,
 * `PIP_EXTRA_INDEX_URL`, `UV_INDEX_URL`, `UV_DEFAULT_INDEX`, `UV_EXTRA_INDEX_URL`, `UV_INDEX`),
 * uv's `[[tool.uv.index]]` and poetry's `[[tool.poetry.source]]` in pyproject.toml.
 *
 * Precedence: command line over environment over pyproject. Search order follows uv: extra
 * indexes first, in the order given, then the default index (PyPI unless replaced), and the
 * first index that knows a project wins ("first-index" — a public index can't shadow a private
 * package). Explicit indexes (uv `explicit = true`, poetry `priority = "explicit"`) are only
 * used for the packages pinned to them (`[tool.uv.sources]`, poetry `source = "…"`).
 *
 * @module
 */

import { PycontainerError } from "../errors.ts";
import { type BasicCredentials, envCredentials, splitUserinfo } from "./index_auth.ts";
import { normalizeName } from "./names.ts";

/** PyPI's simple index. */
export const PYPI_SIMPLE_URL = "https://pypi.org/simple/";

/** One configured index. */
export interface IndexSource {
  /** Name from the configuration (uv/poetry), if any. */
  readonly name: string | undefined;
  /** The simple index URL, without userinfo, ending in `/`. */
  readonly url: string;
  /** Only for packages pinned to it. */
  readonly explicit: boolean;
  /** Credentials from the URL userinfo or from name-based environment variables. */
  readonly credentials: BasicCredentials | undefined;
  /** Where it was configured (for messages), e.g. `PIP_INDEX_URL` or `[[tool.uv.index]]`. */
  readonly from: string;
}

/** The indexes to use. */
export interface IndexList {
  /** Searched in this order (explicit ones are skipped unless pinned). */
  readonly indexes: readonly IndexSource[];
  /** Normalised package name → index name it must come from. */
  readonly packageIndexes: Readonly<Record<string, string>>;
}

/** Command-line overrides for {@linkcode indexesFromConfig}. */
export interface IndexOverrides {
  /** Replaces the default index. */
  indexUrl?: string;
  /** Searched before the default index. */
  extraIndexUrls?: readonly string[];
}

type Env = Record<string, string | undefined>;

/**
 * Builds one index entry, moving URL userinfo into `credentials`.
 *
 * @param url The index URL (userinfo allowed).
 * @param from Where it was configured.
 * @param extra Name, explicit flag and environment for name-based credentials.
 * @returns The entry.
 * @throws {PycontainerError} When the URL is not http(s).
 *
 * @example
 * ```ts
 * import { indexSource } from "./index_config.ts";
 * const s = indexSource("https://u:p@pkgs.example.com/simple", "--index-url");
 * console.assert(s.url === "https://pkgs.example.com/simple/" && s.credentials?.username === "u");
 * ```
 */
export function indexSource(
  url: string,
  from: string,
  extra: { name?: string | undefined; explicit?: boolean; env?: Env } = {},
): IndexSource {
  let split: ReturnType<typeof splitUserinfo>;
  try {
    split = splitUserinfo(url.trim());
  } catch {
    throw new PycontainerError(`invalid index URL in ${from}: ${_redact(url)}`, {
      hint: "give the simple index URL, e.g. https://pypi.org/simple/",
      exitCode: 2,
    });
  }
  const u = new URL(split.url);
  if (u.protocol !== "https:" && u.protocol !== "http:") {
    throw new PycontainerError(`unsupported index URL scheme ${u.protocol} in ${from}`, {
      hint: "use an http:// or https:// simple index URL (for local wheels use --find-links)",
      exitCode: 2,
    });
  }
  if (!u.pathname.endsWith("/")) u.pathname += "/";
  const named = extra.name !== undefined && extra.env
    ? envCredentials(extra.name, extra.env)
    : undefined;
  return {
    name: extra.name,
    url: u.toString(),
    explicit: extra.explicit ?? false,
    credentials: named ?? split.credentials,
    from,
  };
}

function _redact(url: string): string {
  return url.replace(/\/\/[^/@]*@/, "//***@");
}

function _words(value: string | undefined): string[] {
  return (value ?? "").split(/\s+/).filter((w) => w !== "");
}

function _table(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? value as Record<string, unknown>
    : undefined;
}

/**
 * Works out the indexes from pyproject's `[tool]` table, the environment and command-line
 * overrides.
 *
 * @param tool The `[tool]` table of pyproject.toml (or undefined).
 * @param env Environment variables.
 * @param overrides `--index-url` / `--extra-index-url`.
 * @returns The indexes in search order and the per-package pins.
 * @throws {PycontainerError} On an invalid URL or a malformed table.
 *
 * @example
 * ```ts
 * import { indexesFromConfig } from "./index_config.ts";
 * const list = indexesFromConfig(
 *   { uv: { index: [{ name: "corp", url: "https://pkgs.corp.example/simple" }] } },
 *   { PIP_EXTRA_INDEX_URL: "https://extra.example/simple/" },
 * );
 * console.assert(list.indexes.map((i) => i.url).join(" ") ===
 *   "https://extra.example/simple/ https://pkgs.corp.example/simple/ https://pypi.org/simple/");
 * ```
 */
export function indexesFromConfig(
  tool: unknown,
  env: Env,
  overrides: IndexOverrides = {},
): IndexList {
  const extras: IndexSource[] = [];
  let defaultIndex: IndexSource | undefined;
  const packageIndexes: Record<string, string> = {};
  let pypiDisabled = false;

  const t = _table(tool);
  // uv: [[tool.uv.index]] name/url/default/explicit, and [tool.uv.sources] pkg = { index = "name" }.
  const uv = _table(t?.uv);
  if (uv?.index !== undefined) {
    if (!Array.isArray(uv.index)) {
      throw _badTable("[[tool.uv.index]]", "must be an array of tables");
    }
    for (const [i, raw] of (uv.index as unknown[]).entries()) {
      const e = _table(raw);
      if (!e || typeof e.url !== "string") {
        throw _badTable(`[[tool.uv.index]] entry ${i + 1}`, 'needs a url = "..."');
      }
      const name = typeof e.name === "string" ? e.name : undefined;
      const src = indexSource(e.url, "[[tool.uv.index]]", {
        name,
        explicit: e.explicit === true,
        env,
      });
      if (e.default === true) defaultIndex = src;
      else extras.push(src);
    }
  }
  for (const [pkg, raw] of Object.entries(_table(uv?.sources) ?? {})) {
    const s = _table(raw);
    if (s && typeof s.index === "string") packageIndexes[normalizeName(pkg)] = s.index;
  }
  // poetry: [[tool.poetry.source]] name/url/priority (primary, supplemental, explicit; legacy
  // default/secondary), dependencies `pkg = { version = "...", source = "name" }`.
  const poetry = _table(t?.poetry);
  if (poetry?.source !== undefined) {
    if (!Array.isArray(poetry.source)) {
      throw _badTable("[[tool.poetry.source]]", "must be an array of tables");
    }
    const supplemental: IndexSource[] = [];
    for (const [i, raw] of (poetry.source as unknown[]).entries()) {
      const e = _table(raw);
      const name = typeof e?.name === "string" ? e.name : undefined;
      if (e && normalizeName(name ?? "") === "pypi" && e.url === undefined) continue;
      if (!e || typeof e.url !== "string") {
        throw _badTable(`[[tool.poetry.source]] entry ${i + 1}`, 'needs a url = "..."');
      }
      const priority = typeof e.priority === "string"
        ? e.priority
        : e.default === true
        ? "default"
        : e.secondary === true
        ? "secondary"
        : "primary";
      const src = indexSource(e.url, "[[tool.poetry.source]]", {
        name,
        explicit: priority === "explicit",
        env,
      });
      if (priority === "supplemental" || priority === "secondary") supplemental.push(src);
      else if (priority === "default") defaultIndex = src;
      else {
        extras.push(src);
        if (priority === "primary") pypiDisabled = true;
      }
    }
    if (pypiDisabled && defaultIndex === undefined) {
      // Poetry: with a primary source, PyPI is only used when declared; supplemental stay last.
      const last = supplemental.shift();
      if (last) defaultIndex = last;
    }
    extras.push(...supplemental);
  }
  for (const group of [poetry?.dependencies, _table(_table(poetry?.group)?.dev)?.dependencies]) {
    for (const [pkg, raw] of Object.entries(_table(group) ?? {})) {
      const s = _table(raw);
      if (s && typeof s.source === "string") packageIndexes[normalizeName(pkg)] = s.source;
    }
  }

  // Environment over pyproject.
  const envDefault = env.UV_DEFAULT_INDEX || env.UV_INDEX_URL || env.PIP_INDEX_URL;
  const envDefaultFrom = env.UV_DEFAULT_INDEX
    ? "UV_DEFAULT_INDEX"
    : env.UV_INDEX_URL
    ? "UV_INDEX_URL"
    : "PIP_INDEX_URL";
  if (envDefault) defaultIndex = indexSource(envDefault, envDefaultFrom);
  const envExtras = [
    ..._words(env.UV_INDEX).map((u) => indexSource(u, "UV_INDEX")),
    ..._words(env.UV_EXTRA_INDEX_URL).map((u) => indexSource(u, "UV_EXTRA_INDEX_URL")),
    ..._words(env.PIP_EXTRA_INDEX_URL).map((u) => indexSource(u, "PIP_EXTRA_INDEX_URL")),
  ];
  // Command line over everything.
  if (overrides.indexUrl) defaultIndex = indexSource(overrides.indexUrl, "--index-url");
  const cliExtras = (overrides.extraIndexUrls ?? []).map((u) =>
    indexSource(u, "--extra-index-url")
  );

  const ordered = [...cliExtras, ...envExtras, ...extras];
  if (defaultIndex === undefined && !pypiDisabled) {
    defaultIndex = indexSource(PYPI_SIMPLE_URL, "default");
  }
  if (defaultIndex) ordered.push(defaultIndex);
  const seen = new Set<string>();
  const indexes = ordered.filter((i) => !seen.has(i.url) && seen.add(i.url) !== undefined);
  return { indexes, packageIndexes };
}

function _badTable(where: string, why: string): PycontainerError {
  return new PycontainerError(`pyproject.toml: ${where} ${why}`, {
    hint: 'declare indexes as [[tool.uv.index]] name = "x" url = "https://.../simple/"',
    exitCode: 2,
  });
}
