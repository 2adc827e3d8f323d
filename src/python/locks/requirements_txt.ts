/**
 * Reads pip requirements files as a lock: `name==version` pins with `--hash=sha256:…` (as
 * `uv export`, `pip-compile --generate-hashes` and `poetry export` write them), `-r`/`-c` includes
 * (relative to the including file; constraints only restrict, they never add packages), index
 * options (`-i`, `--extra-index-url`, `--no-index`, `-f`), direct references (`pkg @ https://…whl`,
 * or a bare path/URL to a wheel) and markers after `;`.
 *
 * A file with unpinned requirements is not a lock: those are returned in `unpinned` for the
 * resolver. Once any requirement has a `--hash` (or `--require-hashes` is given), every one must
 * be pinned and hashed, as in pip's hash-checking mode.
 *
 * Editable requirements: `-e .` (or `-e` of the project directory) is skipped with a warning,
 * because the project itself is always installed from the build context; any other `-e` is an
 * error, since an image cannot hold a link to a directory outside it.
 *
 * Pins carry no file names: the index client lists the release's files and keeps those whose
 * hash is in {@linkcode LockedPackage.hashes}.
 *
 * @module
 */

import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import process from "node:process";
import { PycontainerError } from "../../errors.ts";
import { normalizeName } from "../names.ts";
import { parseRequirement, type Requirement } from "../requirement.ts";
import { parseWheelFilename } from "../wheel_name.ts";
import { fileNameOf, lockError, readLockText } from "./lock_toml.ts";
import { type RequirementsLine, splitRequirementsLines } from "./requirements_lines.ts";
import type { LockedPackage, LockedSet, LockedSource } from "./types.ts";

/** The default index used when only `--extra-index-url` is given. */
export const PYPI_SIMPLE = "https://pypi.org/simple";

/** Options for {@linkcode readRequirementsTxt}. */
export interface RequirementsOptions {
  /** Variables for `${VAR}` expansion (default: the process environment). */
  env?: Record<string, string | undefined>;
  /** The project directory, for recognising `-e .` (default: the file's directory). */
  context?: string;
}

interface _Entry {
  req: Requirement;
  file: string;
  line: number;
  hashes: string[];
}

interface _State {
  requirements: _Entry[];
  constraints: _Entry[];
  index: string | undefined;
  extra: string[];
  findLinks: string[];
  noIndex: boolean;
  requireHashes: boolean;
  warnings: string[];
  visiting: Set<string>;
  options: RequirementsOptions;
  context: string;
}

function _isPinned(r: Requirement): boolean {
  if (r.url !== undefined) return true;
  const s = r.specifier.specifiers;
  return s.length === 1 && (s[0]?.operator === "===" ||
    (s[0]?.operator === "==" && s[0].wildcard !== true));
}

function _bareReference(text: string, file: string, line: number): Requirement | undefined {
  const named = /^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[|@|[<>=!~;]|$)/.exec(text);
  if (named !== null && !(named[1] === "" && /\.whl$/i.test(text))) return undefined;
  const name = fileNameOf(text);
  if (!name.toLowerCase().endsWith(".whl")) {
    throw lockError(
      { file, line },
      `cannot tell the package name of ${JSON.stringify(text)}`,
      "write it as `name @ URL`",
    );
  }
  const w = parseWheelFilename(name);
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `file:${text}`;
  return parseRequirement(`${w.name} @ ${url}`);
}

async function _readFile(path: string, constraint: boolean, state: _State): Promise<void> {
  const key = resolve(path);
  if (state.visiting.has(key)) {
    throw new PycontainerError(`${path}: includes itself (through -r/-c)`, {
      hint: "remove the circular -r/-c include",
      exitCode: 2,
    });
  }
  state.visiting.add(key);
  const text = await readLockText(path);
  const env = state.options.env ?? process.env;
  for (const l of splitRequirementsLines(text, path, env)) await _line(l, path, constraint, state);
  state.visiting.delete(key);
}

async function _line(l: RequirementsLine, file: string, constraint: boolean, s: _State) {
  const where = `${file}:${l.line}`;
  const hashes: string[] = [];
  for (const { name, value = "" } of l.options) {
    const rel = (p: string) =>
      isAbsolute(p) || /^[a-z]+:\/\//i.test(p) ? p : join(dirname(file), p);
    switch (name) {
      case "--requirement":
        await _readFile(rel(value), constraint, s);
        break;
      case "--constraint":
        await _readFile(rel(value), true, s);
        break;
      case "--index-url":
        s.index = value;
        break;
      case "--extra-index-url":
        if (!s.extra.includes(value)) s.extra.push(value);
        break;
      case "--find-links":
        s.findLinks.push(rel(value));
        break;
      case "--no-index":
        s.noIndex = true;
        break;
      case "--require-hashes":
        s.requireHashes = true;
        break;
      case "--hash": {
        const m = /^(sha256|sha384|sha512):([0-9a-fA-F]+)$/.exec(value);
        if (m === null) {
          throw lockError(
            { file, line: l.line },
            `invalid --hash ${value}`,
            "write --hash=sha256:<hex digest>",
          );
        }
        hashes.push(`${m[1]}:${(m[2] as string).toLowerCase()}`);
        break;
      }
      case "--editable":
        _editable(value, file, l.line, s);
        break;
      default:
        break;
    }
  }
  if (l.requirement === "") {
    if (hashes.length > 0) {
      throw lockError(
        { file, line: l.line },
        "--hash without a requirement",
        "put --hash on a requirement's line",
      );
    }
    return;
  }
  const req = _bareReference(l.requirement, file, l.line) ?? parseRequirement(l.requirement, where);
  (constraint ? s.constraints : s.requirements).push({ req, file, line: l.line, hashes });
}

function _editable(value: string, file: string, line: number, s: _State): void {
  const local = !/^[a-z+]+:/i.test(value);
  const target = local ? resolve(dirname(file), value.replace(/\[.*\]$/, "")) : undefined;
  if (
    target !== undefined && (target === resolve(s.context) || relative(s.context, target) === "")
  ) {
    s.warnings.push(
      `${file}:${line}: skipped "-e ${value}": the project is installed from the build context`,
    );
    return;
  }
  throw lockError(
    { file, line },
    `editable requirement "-e ${value}" cannot be installed into an image`,
    "replace it with a pinned requirement (name==version), a wheel, or `name @ URL`",
  );
}

function _applyConstraints(s: _State): void {
  const pins = new Map<string, _Entry>();
  for (const c of s.constraints) {
    if (_isPinned(c.req) && c.req.url === undefined) pins.set(c.req.normalizedName, c);
  }
  for (const [i, r] of s.requirements.entries()) {
    const c = pins.get(r.req.normalizedName);
    if (c === undefined) continue;
    const want = c.req.specifier.specifiers[0]?.version;
    if (_isPinned(r.req)) {
      const have = r.req.specifier.specifiers[0]?.version;
      if (r.req.url === undefined && have !== want) {
        throw lockError(
          { file: r.file, line: r.line },
          `${r.req.name}==${have} conflicts with the constraint ${c.req.name}==${want} (${c.file}:${c.line})`,
          "make the requirement and the constraint agree",
        );
      }
      continue;
    }
    const marker = r.req.marker === undefined ? "" : ` ; ${r.req.marker.source}`;
    const extras = r.req.extras.length === 0 ? "" : `[${r.req.extras.join(",")}]`;
    s.requirements[i] = {
      ...r,
      req: parseRequirement(`${r.req.name}${extras}==${want}${marker}`),
      hashes: r.hashes.length > 0 ? r.hashes : c.hashes,
    };
  }
}

function _gitSource(url: string): LockedSource {
  const m = /^git\+(.*?)(?:@([^/@#]+))?(?:#(.*))?$/.exec(url) as RegExpExecArray;
  const sub = /(?:^|&)subdirectory=([^&]+)/.exec(m[3] ?? "")?.[1];
  return {
    kind: "git",
    url: m[1] as string,
    ...(m[2] === undefined ? {} : { requested: m[2] }),
    ...(sub === undefined ? {} : { subdirectory: sub }),
  };
}

function _package(e: _Entry): LockedPackage {
  const r = e.req;
  const sha256 = e.hashes.find((h) => h.startsWith("sha256:"))?.slice(7);
  let pkg: LockedPackage;
  if (r.url !== undefined) {
    const git = /^git\+/.test(r.url);
    const filename = fileNameOf(r.url);
    const isFile = !git && /\.(whl|tar\.gz|zip)$/i.test(filename);
    pkg = {
      name: r.normalizedName,
      source: git
        ? _gitSource(r.url)
        : r.url.startsWith("file:")
        ? { kind: "path", path: r.url.replace(/^file:(\/\/)?/, "") }
        : { kind: "url", url: r.url },
      files: isFile
        ? [{ filename, url: r.url, hashes: sha256 === undefined ? {} : { sha256 } }]
        : [],
    };
    if (filename.endsWith(".whl")) pkg.version = parseWheelFilename(filename).version;
  } else {
    pkg = {
      name: r.normalizedName,
      version: r.specifier.specifiers[0]?.version as string,
      source: { kind: "index" },
      files: [],
    };
  }
  if (e.hashes.length > 0) pkg.hashes = e.hashes;
  if (r.marker !== undefined) pkg.marker = r.marker.source;
  pkg.line = e.line;
  if (e.file !== "") pkg.file = e.file;
  return pkg;
}

function _checkHashMode(s: _State, top: string): void {
  const hashing = s.requireHashes || s.requirements.some((r) => r.hashes.length > 0);
  if (!hashing) return;
  for (const r of s.requirements) {
    if (!_isPinned(r.req)) {
      throw lockError(
        { file: r.file, line: r.line },
        `${r.req.name} is not pinned with == but ${top} uses hashes, so every requirement must be`,
        "pin it (name==version) with its --hash values, e.g. regenerate with `uv export` or `pip-compile --generate-hashes`",
      );
    }
    if (r.hashes.length === 0) {
      throw lockError(
        { file: r.file, line: r.line },
        `${r.req.name} has no --hash but ${top} uses hashes, so every requirement needs one`,
        "add --hash=sha256:<digest> for its files, or regenerate the file with hashes",
      );
    }
  }
}

function _checkDuplicates(s: _State): void {
  const seen = new Map<string, _Entry>();
  for (const r of s.requirements) {
    const other = seen.get(r.req.normalizedName);
    if (other !== undefined && (other.req.marker === undefined || r.req.marker === undefined)) {
      throw lockError(
        { file: r.file, line: r.line },
        `${r.req.name} is required twice (also at ${other.file}:${other.line})`,
        "keep one line per package, or give each a marker so only one applies",
      );
    }
    seen.set(r.req.normalizedName, r);
  }
}

/**
 * Reads a requirements file (and the files it includes) as a {@linkcode LockedSet}.
 *
 * @param path The top-level file, e.g. `requirements.txt`.
 * @param options Environment for `${VAR}` and the project directory.
 * @returns Pinned requirements as packages (no file names; `hashes` lists the allowed digests),
 *   unpinned ones in `unpinned`, non-pinning constraints in `constraints`, index options in
 *   `indexUrls` (PyPI first when only `--extra-index-url` is given), `findLinks`, `noIndex`, and
 *   warnings for skipped `-e .` lines.
 * @throws {PycontainerError} `file:line: ...` for a syntax error, an unknown option, an include
 *   cycle, a non-project editable, an unpinned or unhashed requirement in hash-checking mode, a
 *   duplicate requirement, or a pin that contradicts a constraint.
 *
 * @example
 * ```ts ignore
 * import { readRequirementsTxt } from "./requirements_txt.ts";
 * const lock = await readRequirementsTxt("requirements.txt");
 * console.log(lock.packages.map((p) => `${p.name}==${p.version}`), lock.unpinned);
 * ```
 */
export async function readRequirementsTxt(
  path: string,
  options: RequirementsOptions = {},
): Promise<LockedSet> {
  const state: _State = {
    requirements: [],
    constraints: [],
    index: undefined,
    extra: [],
    findLinks: [],
    noIndex: false,
    requireHashes: false,
    warnings: [],
    visiting: new Set(),
    options,
    context: resolve(options.context ?? dirname(path)),
  };
  await _readFile(path, false, state);
  _applyConstraints(state);
  _checkDuplicates(state);
  _checkHashMode(state, path);
  const pinned = state.requirements.filter((r) => _isPinned(r.req));
  const unpinned = state.requirements.filter((r) => !_isPinned(r.req)).map((r) => r.req.source);
  const constraints = state.constraints.map((c) => c.req.source);
  const indexUrls = state.noIndex
    ? []
    : state.index !== undefined
    ? [state.index, ...state.extra]
    : state.extra.length > 0
    ? [PYPI_SIMPLE, ...state.extra]
    : [];
  return {
    kind: "requirements.txt",
    path,
    packages: pinned.map((e) => ({ ..._package(e), name: normalizeName(e.req.name) })),
    indexUrls,
    ...(state.noIndex ? { noIndex: true } : {}),
    ...(state.findLinks.length === 0 ? {} : { findLinks: state.findLinks }),
    ...(unpinned.length === 0 ? {} : { unpinned }),
    ...(constraints.length === 0 ? {} : { constraints }),
    ...(state.warnings.length === 0 ? {} : { warnings: state.warnings }),
  };
}
