/**
 * Deciding the target interpreter and C library of a base image from what its config says and
 * what {@linkcode scanLayers} finds in its layers. Sources, best first:
 *
 * - interpreter: an override path; the official images' `ENV PYTHON_VERSION=3.Y.Z` together
 *   with `/usr/local/bin/python3.Y`; else every `/usr/local/bin/python3.Y` and
 *   `/usr/bin/python3.Y` present, the highest `Y` winning (`/usr/local/bin` on a tie);
 * - full version: an override, `PYTHON_VERSION`, Debian's `python3.Y-minimal` package, Alpine's
 *   `python3` package, the `PY_VERSION` string in the interpreter or its `libpython3.Y.so.1.0`;
 *   failing all of those `3.Y` (taken as `3.Y.0` by the marker environment);
 * - C library: an override; dpkg's `libc6` (status file or distroless `status.d/`) → glibc; apk's
 *   `musl` → musl; the `release version 2.NN` banner in `libc.so.6`; a `libc-2.NN.so` name.
 *   RPM databases (RHEL/UBI) are not read — the `libc.so.6` banner usually covers them, and the
 *   `libc` override is the way out otherwise.
 *
 * @module
 */
import { PycontainerError } from "../errors.ts";
import type { ImageConfig } from "../oci/types.ts";
import type { BaseImage } from "../registry/base_image.ts";
import {
  INTERPRETER_DIRS,
  interpreterCandidate,
  libcPathKind,
  libcVersionFromName,
  libpythonMinor,
  majorMinor,
  parseApkInstalled,
  parseDpkgStatus,
  targetProbe,
  upstreamVersion,
} from "./_base_facts.ts";
import { type Observation, scanLayers } from "./_base_scan.ts";
import type { Libc } from "./tags.ts";

/** Overrides after validation: each given one replaces a detection. */
export interface CheckedOverrides {
  /** Absolute interpreter path in the image. */
  pythonPath?: string;
  /** `3.Y` or `3.Y.Z`. */
  pythonVersion?: string;
  /** The C library. */
  libc?: Libc;
}

/** What was decided about a base image, and from where (for `--verbose`). */
export interface TargetFacts {
  /** Absolute interpreter path, e.g. `/usr/bin/python3.11`. */
  pythonPath: string;
  /** `3.Y.Z` when known, else `3.Y`. */
  pythonFullVersion: string;
  /** The C library. */
  libc: Libc;
  /** Where each fact came from, e.g. `{ libc: "/var/lib/dpkg/status (libc6 2.36-9)" }`. */
  sources: { python: string; version: string; libc: string };
}

const _HINT_PYTHON =
  "use a Python base image (e.g. python:3.12-slim), or set python-interpreter and python-version for this base in the configuration";
const _HINT_LIBC =
  'set libc for this base in the configuration, e.g. libc = "glibc 2.36" or libc = "musl 1.2"';
const _HINT_LAYERS =
  "set python-interpreter, python-version and libc for this base in the configuration so its layers need not be read";

/**
 * Detects the interpreter and C library of a base image, reading as few layers as possible.
 *
 * @param base The resolved base image.
 * @param overrides Facts given by the user (not detected).
 * @returns The facts, with their sources, and how many layers were read.
 * @throws {PycontainerError} For scratch, a base without Python, or an undetectable libc.
 *
 * @example
 * ```ts
 * import { detectTargetFacts } from "./_target_detect.ts";
 * import { resolveBaseImage } from "../registry/base_image.ts";
 * const base = await resolveBaseImage("scratch", { os: "linux", architecture: "amd64" });
 * await detectTargetFacts(base, {}).catch((e) => console.assert(e.message.includes("scratch")));
 * ```
 */
export async function detectTargetFacts(
  base: BaseImage,
  overrides: CheckedOverrides,
): Promise<TargetFacts & { layersRead: number }> {
  const name = base.reference;
  if (base.kind === "scratch") {
    throw new PycontainerError(`base image scratch has no Python to install dependencies for`, {
      hint: "use a Python base image, e.g. --base-image python:3.12-slim",
      exitCode: 2,
    });
  }
  const envVersion = configPythonVersion(base.config.value);
  const envMinor = envVersion === undefined ? undefined : _minor(envVersion);
  const ovMinor = overrides.pythonVersion === undefined
    ? undefined
    : _minor(overrides.pythonVersion);
  const pathMinor = overrides.pythonPath === undefined
    ? undefined
    : _minor(/python(3\.\d+)$/.exec(overrides.pythonPath)?.[1] ?? "");
  const known = new Set<number>();
  if (envMinor !== undefined) known.add(envMinor);
  if (overrides.pythonVersion?.split(".").length === 3 && ovMinor !== undefined) known.add(ovMinor);

  const pythonSettled = (found: ReadonlyMap<string, Observation>): boolean => {
    if (overrides.pythonPath !== undefined) {
      const minor = ovMinor ?? pathMinor;
      return minor !== undefined && (known.has(minor) || minor === envMinor);
    }
    if (envMinor === undefined || (ovMinor !== undefined && ovMinor !== envMinor)) return false;
    return found.has(`usr/local/bin/python3.${envMinor}`);
  };
  const settled = (found: ReadonlyMap<string, Observation>) =>
    pythonSettled(found) && (overrides.libc !== undefined || _libcFrom(found) !== undefined);
  const empty = new Map<string, Observation>();
  const scan = settled(empty) ? { found: empty, layersRead: 0 } : await scanLayers(
    base.layers,
    base.blobSource,
    { probe: targetProbe(known), settled, what: name },
  ).catch((e) => {
    if (e instanceof PycontainerError && e.hint === undefined) {
      throw new PycontainerError(e.message, { cause: e, hint: _HINT_LAYERS });
    }
    throw e;
  });
  const found = scan.found;

  const interpreter = _interpreter(found, name, overrides, envVersion, ovMinor, pathMinor);
  const version = _fullVersion(found, interpreter, overrides, envVersion);
  const libc = overrides.libc === undefined
    ? _libcFrom(found) ?? _libcError(found, name)
    : { libc: overrides.libc, source: "override" };
  return {
    pythonPath: interpreter.path,
    pythonFullVersion: version.version,
    libc: libc.libc,
    sources: { python: interpreter.source, version: version.source, libc: libc.source },
    layersRead: scan.layersRead,
  };
}

/**
 * The `PYTHON_VERSION` the official python images set in their config (`3.Y.Z`), if any.
 *
 * @param config The base image config.
 * @returns The version, or undefined when unset or not a CPython 3 version.
 *
 * @example
 * ```ts
 * import { configPythonVersion } from "./_target_detect.ts";
 * const config = { architecture: "amd64", os: "linux", rootfs: { type: "layers" as const, diff_ids: [] },
 *   config: { Env: ["PYTHON_VERSION=3.12.7"] } };
 * console.assert(configPythonVersion(config) === "3.12.7");
 * ```
 */
export function configPythonVersion(config: ImageConfig): string | undefined {
  for (const kv of config.config?.Env ?? []) {
    if (!kv.startsWith("PYTHON_VERSION=")) continue;
    const v = kv.slice("PYTHON_VERSION=".length).trim();
    return /^3\.\d+\.\d+(?:(?:a|b|rc)\d+)?$/.test(v) ? v : undefined;
  }
  return undefined;
}

function _minor(version: string): number | undefined {
  const m = /^3\.(\d+)(?:\.|$)/.exec(version);
  return m === null ? undefined : Number(m[1]);
}

interface _Interpreter {
  path: string;
  minor: number;
  source: string;
}

function _interpreter(
  found: ReadonlyMap<string, Observation>,
  name: string,
  overrides: CheckedOverrides,
  envVersion: string | undefined,
  ovMinor: number | undefined,
  pathMinor: number | undefined,
): _Interpreter {
  const all = [...found.keys()]
    .map(interpreterCandidate)
    .filter((c) => c !== undefined)
    .map((c) => c as NonNullable<typeof c>);
  const candidates = all
    .filter((c) => ovMinor === undefined || c.minor === ovMinor)
    .sort((a, b) =>
      b.minor - a.minor ||
      INTERPRETER_DIRS.indexOf(_dir(a.path)) - INTERPRETER_DIRS.indexOf(_dir(b.path))
    );
  if (overrides.pythonPath !== undefined) {
    const minor = ovMinor ?? pathMinor ?? _minor(envVersion ?? "") ?? candidates[0]?.minor;
    if (minor === undefined) {
      throw new PycontainerError(
        `cannot tell the Python version of ${overrides.pythonPath} in base image ${name}`,
        { hint: 'set python-version for this base too, e.g. python-version = "3.12"', exitCode: 2 },
      );
    }
    return { path: overrides.pythonPath, minor, source: "override" };
  }
  const envMinor = envVersion === undefined ? undefined : _minor(envVersion);
  if (envMinor !== undefined && (ovMinor === undefined || ovMinor === envMinor)) {
    const path = `usr/local/bin/python3.${envMinor}`;
    if (found.has(path)) {
      return { path: `/${path}`, minor: envMinor, source: `config PYTHON_VERSION + /${path}` };
    }
  }
  const best = candidates[0];
  if (best === undefined && all.length > 0) {
    const have = all.map((c) => c.path).sort().join(", ");
    throw new PycontainerError(
      `base image ${name} has ${have}, not the Python 3.${ovMinor} asked for by python-version`,
      {
        hint:
          `set python-version to match the base image, or use a base image with Python 3.${ovMinor}`,
        exitCode: 2,
      },
    );
  }
  if (best === undefined) {
    const y = ovMinor === undefined ? "Y" : String(ovMinor);
    const checked = INTERPRETER_DIRS.map((d) => `/${d}/python3.${y}`).join(", ");
    const env = envVersion === undefined ? "" : ` (its config says PYTHON_VERSION=${envVersion})`;
    throw new PycontainerError(
      `no Python interpreter in base image ${name}${env}: checked ${checked}`,
      { hint: _HINT_PYTHON, exitCode: 2 },
    );
  }
  return { ...best, source: `${best.path} in the base layers` };
}

function _dir(path: string): string {
  return path.slice(1, path.lastIndexOf("/"));
}

function _fullVersion(
  found: ReadonlyMap<string, Observation>,
  interpreter: _Interpreter,
  overrides: CheckedOverrides,
  envVersion: string | undefined,
): { version: string; source: string } {
  const minor = interpreter.minor;
  const fits = (v: string | undefined) => v !== undefined && _minor(v) === minor;
  const ov = overrides.pythonVersion;
  if (ov !== undefined && ov.split(".").length === 3 && fits(ov)) {
    return { version: ov, source: "override" };
  }
  const official = interpreter.path.startsWith("/usr/local/") || overrides.pythonPath !== undefined;
  if (official && fits(envVersion)) {
    return { version: envVersion as string, source: "config PYTHON_VERSION" };
  }
  if (interpreter.path.startsWith("/usr/bin/")) {
    const dpkg = _dpkgPackages(found);
    for (const pkg of [`python3.${minor}-minimal`, `libpython3.${minor}-minimal`]) {
      const v = dpkg.get(pkg);
      if (v !== undefined && fits(upstreamVersion(v))) {
        return { version: upstreamVersion(v), source: `dpkg ${pkg} ${v}` };
      }
    }
    const apk = _apkPackages(found).get("python3");
    if (apk !== undefined && fits(upstreamVersion(apk))) {
      return { version: upstreamVersion(apk), source: `apk python3 ${apk}` };
    }
  }
  const banner = found.get(interpreter.path.slice(1))?.match;
  if (fits(banner)) return { version: banner as string, source: `${interpreter.path} (banner)` };
  for (const o of found.values()) {
    if (libpythonMinor(o.path) === minor && fits(o.match)) {
      return { version: o.match as string, source: `/${o.path} (banner)` };
    }
  }
  return { version: `3.${minor}`, source: "assumed 3.Y.0 (no micro version found)" };
}

const _dpkgCache = new WeakMap<Observation, Map<string, string>>();
const _apkCache = new WeakMap<Observation, Map<string, string>>();

function _parsed(
  found: ReadonlyMap<string, Observation>,
  kind: "dpkg" | "apk",
): { path: string; packages: Map<string, string> }[] {
  const cache = kind === "dpkg" ? _dpkgCache : _apkCache;
  const parse = kind === "dpkg" ? parseDpkgStatus : parseApkInstalled;
  const out: { path: string; packages: Map<string, string> }[] = [];
  for (const o of found.values()) {
    if (o.text === undefined || libcPathKind(o.path) !== kind) continue;
    let packages = cache.get(o);
    if (packages === undefined) cache.set(o, packages = parse(o.text));
    out.push({ path: o.path, packages });
  }
  return out.sort((a, b) => a.path.length - b.path.length || (a.path < b.path ? -1 : 1));
}

function _dpkgPackages(found: ReadonlyMap<string, Observation>): Map<string, string> {
  const all = new Map<string, string>();
  for (const { packages } of _parsed(found, "dpkg")) {
    for (const [k, v] of packages) if (!all.has(k)) all.set(k, v);
  }
  return all;
}

function _apkPackages(found: ReadonlyMap<string, Observation>): Map<string, string> {
  return _parsed(found, "apk")[0]?.packages ?? new Map();
}

function _libcFrom(
  found: ReadonlyMap<string, Observation>,
): { libc: Libc; source: string } | undefined {
  for (const { path, packages } of _parsed(found, "dpkg")) {
    const v = packages.get("libc6");
    const mm = v === undefined ? undefined : majorMinor(upstreamVersion(v));
    if (mm !== undefined) {
      return { libc: { family: "glibc", version: mm }, source: `/${path} (libc6 ${v})` };
    }
  }
  for (const { path, packages } of _parsed(found, "apk")) {
    const v = packages.get("musl");
    const mm = v === undefined ? undefined : majorMinor(upstreamVersion(v));
    if (mm !== undefined) {
      return { libc: { family: "musl", version: mm }, source: `/${path} (musl ${v})` };
    }
  }
  for (const o of found.values()) {
    const kind = libcPathKind(o.path);
    const version = kind === "libc.so.6"
      ? o.match
      : kind === "libc-named"
      ? libcVersionFromName(o.path)
      : undefined;
    if (version !== undefined) {
      return { libc: { family: "glibc", version }, source: `/${o.path}` };
    }
  }
  return undefined;
}

function _libcError(found: ReadonlyMap<string, Observation>, name: string): never {
  const kinds = new Map([...found.values()].map((o) => [libcPathKind(o.path), o.path]));
  const musl = kinds.get("ld-musl");
  const glibc = kinds.get("ld-linux") ?? kinds.get("libc.so.6");
  const message = musl !== undefined
    ? `base image ${name} uses musl (/${musl}) but has no apk database to tell its version`
    : glibc !== undefined
    ? `base image ${name} uses glibc (/${glibc}) but its version could not be read`
    : `cannot find the C library of base image ${name}: looked for /var/lib/dpkg/status, /lib/apk/db/installed, libc.so.6 and ld-musl-*.so.1`;
  throw new PycontainerError(message, { hint: _HINT_LIBC, exitCode: 2 });
}
