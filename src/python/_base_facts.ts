/**
 * The pure half of target detection: which paths of a base image are worth looking at, and how
 * to read what was found there — Debian's dpkg status (the whole file, or distroless images'
 * `status.d/` one-package files), Alpine's apk database, the glibc banner in `libc.so.6`, the
 * CPython version string compiled into the interpreter, and distribution version strings
 * (`2.36-9+deb12u4`, `1.2.4-r2`, `3.13.0~rc1-1`) cut down to upstream versions.
 *
 * @module
 */
import type { Probe } from "./_base_scan.ts";

/** Where interpreters are looked for, in order of preference when two have the same version. */
export const INTERPRETER_DIRS: readonly string[] = ["usr/local/bin", "usr/bin"];

const _PYTHON = /^(usr\/local\/bin|usr\/bin)\/python3\.(\d+)$/;
const _LIBPYTHON =
  /^(?:usr\/local\/lib|usr\/lib(?:64)?(?:\/[a-z0-9_]+-linux-[a-z0-9_]+)?)\/libpython3\.(\d+)\.so\.1\.0$/;
const _LIBDIR = String.raw`^(?:usr\/)?lib(?:64|32|x32)?\/(?:[a-z0-9_]+-linux-gnu[a-z0-9_]*\/)?`;
const _LIBC_SO = new RegExp(`${_LIBDIR}libc\\.so\\.6$`);
const _LIBC_NAMED = new RegExp(`${_LIBDIR}libc-(2\\.\\d+)\\.so$`);
const _LD_LINUX = new RegExp(`${_LIBDIR}ld-linux[a-z0-9_.-]*\\.so\\.[12]$`);
const _LD_MUSL = /^(?:usr\/)?lib\/ld-musl-[a-z0-9_]+\.so\.1$/;
const _DPKG_STATUS_D = /^var\/lib\/dpkg\/status\.d\/[^/]+$/;
const _APK_DB = /^(?:usr\/)?lib\/apk\/db\/installed$/;

/** A CPython interpreter found in the base: where, and which minor version its name says. */
export interface InterpreterCandidate {
  /** Absolute path in the image, e.g. `/usr/bin/python3.11`. */
  path: string;
  /** Minor version, e.g. 11. */
  minor: number;
}

/**
 * Recognises an interpreter path (`usr/bin/python3.Y`, `usr/local/bin/python3.Y`).
 *
 * @param path A path without a leading slash.
 * @returns The candidate, or undefined.
 *
 * @example
 * ```ts
 * import { interpreterCandidate } from "./_base_facts.ts";
 * console.assert(interpreterCandidate("usr/bin/python3.11")?.minor === 11);
 * console.assert(interpreterCandidate("usr/bin/python3.11-config") === undefined);
 * ```
 */
export function interpreterCandidate(path: string): InterpreterCandidate | undefined {
  const m = _PYTHON.exec(path);
  return m === null ? undefined : { path: `/${path}`, minor: Number(m[2]) };
}

/**
 * The regular expression that finds CPython 3.`minor`'s `PY_VERSION` string in its binary.
 *
 * @param minor The minor version the file name promises.
 * @returns A pattern whose group 1 is the full version, e.g. `3.11.2`.
 *
 * @example
 * ```ts
 * import { pythonBannerPattern } from "./_base_facts.ts";
 * console.assert(pythonBannerPattern(11).exec("x\x003.11.2\x00y")?.[1] === "3.11.2");
 * ```
 */
export function pythonBannerPattern(minor: number): RegExp {
  return new RegExp(`\\x00(3\\.${minor}\\.\\d+(?:(?:a|b|rc)\\d+)?)\\+?\\x00`);
}

/**
 * Decides which base-image paths the detector looks at, and how.
 *
 * @param knownMinors Minor versions whose full version is already known (no banner needed).
 * @returns The probe for {@linkcode scanLayers} (in `_base_scan.ts`).
 *
 * @example
 * ```ts
 * import { targetProbe } from "./_base_facts.ts";
 * const probe = targetProbe(new Set());
 * console.assert(probe("var/lib/dpkg/status")?.kind === "text");
 * console.assert(probe("usr/share/doc/README") === undefined);
 * ```
 */
export function targetProbe(knownMinors: ReadonlySet<number>): (path: string) => Probe | undefined {
  return (path) => {
    if (path === "var/lib/dpkg/status" || _APK_DB.test(path)) return { kind: "text" };
    if (_DPKG_STATUS_D.test(path) && !path.endsWith(".md5sums")) {
      return { kind: "text", maxBytes: 1024 * 1024 };
    }
    const py = _PYTHON.exec(path) ?? _LIBPYTHON.exec(path);
    if (py !== null) {
      const minor = Number(py[py.length - 1]);
      return knownMinors.has(minor)
        ? { kind: "exists" }
        : { kind: "banner", pattern: pythonBannerPattern(minor) };
    }
    if (_LIBC_SO.test(path)) return { kind: "banner", pattern: /release version (2\.\d+)/ };
    if (_LIBC_NAMED.test(path) || _LD_LINUX.test(path) || _LD_MUSL.test(path)) {
      return { kind: "exists" };
    }
    return undefined;
  };
}

/**
 * Classifies a found path for the C library decision.
 *
 * @param path A path without a leading slash.
 * @returns What kind of libc evidence the path is, or undefined.
 *
 * @example
 * ```ts
 * import { libcPathKind } from "./_base_facts.ts";
 * console.assert(libcPathKind("lib/ld-musl-aarch64.so.1") === "ld-musl");
 * console.assert(libcPathKind("usr/lib/x86_64-linux-gnu/libc.so.6") === "libc.so.6");
 * ```
 */
export function libcPathKind(
  path: string,
): "libc.so.6" | "libc-named" | "ld-linux" | "ld-musl" | "dpkg" | "apk" | undefined {
  if (path === "var/lib/dpkg/status" || _DPKG_STATUS_D.test(path)) return "dpkg";
  if (_APK_DB.test(path)) return "apk";
  if (_LIBC_SO.test(path)) return "libc.so.6";
  if (_LIBC_NAMED.test(path)) return "libc-named";
  if (_LD_LINUX.test(path)) return "ld-linux";
  if (_LD_MUSL.test(path)) return "ld-musl";
  return undefined;
}

/**
 * The glibc version in a `libc-2.NN.so` file name (pre-2.34 distributions).
 *
 * @param path The file's path.
 * @returns `2.NN`, or undefined.
 *
 * @example
 * ```ts
 * import { libcVersionFromName } from "./_base_facts.ts";
 * console.assert(libcVersionFromName("lib/x86_64-linux-gnu/libc-2.31.so") === "2.31");
 * ```
 */
export function libcVersionFromName(path: string): string | undefined {
  return _LIBC_NAMED.exec(path)?.[1];
}

/**
 * The minor version a `libpython3.Y.so.1.0` path is for.
 *
 * @param path The path (no leading slash).
 * @returns Y, or undefined when the path is not a libpython.
 *
 * @example
 * ```ts
 * import { libpythonMinor } from "./_base_facts.ts";
 * console.assert(libpythonMinor("usr/local/lib/libpython3.12.so.1.0") === 12);
 * ```
 */
export function libpythonMinor(path: string): number | undefined {
  const m = _LIBPYTHON.exec(path);
  return m === null ? undefined : Number(m[1]);
}

/**
 * Installed packages in a dpkg status file (or a distroless `status.d/` file): name → version.
 * Packages whose `Status` is not "installed" are left out; the first stanza of a name wins.
 *
 * @param text The file's content.
 * @returns Package name → Debian version string.
 *
 * @example
 * ```ts
 * import { parseDpkgStatus } from "./_base_facts.ts";
 * const t = "Package: libc6\nStatus: install ok installed\nVersion: 2.36-9+deb12u4\n";
 * console.assert(parseDpkgStatus(t).get("libc6") === "2.36-9+deb12u4");
 * ```
 */
export function parseDpkgStatus(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const stanza of text.split(/\n\s*\n/)) {
    const name = /^Package:\s*(\S+)/m.exec(stanza)?.[1];
    const version = /^Version:\s*(\S+)/m.exec(stanza)?.[1];
    const status = /^Status:\s*(.*)$/m.exec(stanza)?.[1];
    if (name === undefined || version === undefined || out.has(name)) continue;
    if (status !== undefined && !/\binstalled\s*$/.test(status)) continue;
    if (status !== undefined && /not-installed|config-files/.test(status)) continue;
    out.set(name, version);
  }
  return out;
}

/**
 * Installed packages in Alpine's `/lib/apk/db/installed`: name (`P:`) → version (`V:`).
 *
 * @param text The database's content.
 * @returns Package name → apk version string.
 *
 * @example
 * ```ts
 * import { parseApkInstalled } from "./_base_facts.ts";
 * console.assert(parseApkInstalled("C:x\nP:musl\nV:1.2.4-r2\n\n").get("musl") === "1.2.4-r2");
 * ```
 */
export function parseApkInstalled(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const stanza of text.split(/\n\s*\n/)) {
    const name = /^P:(.+)$/m.exec(stanza)?.[1]?.trim();
    const version = /^V:(.+)$/m.exec(stanza)?.[1]?.trim();
    if (name !== undefined && version !== undefined && !out.has(name)) out.set(name, version);
  }
  return out;
}

/**
 * The upstream part of a Debian or Alpine package version: no epoch, no revision, `~rc1` as `rc1`.
 *
 * @param version E.g. `2.36-9+deb12u4`, `1:3.11.2-6`, `3.13.0~rc1-1`, `1.2.4-r2`.
 * @returns E.g. `2.36`, `3.11.2`, `3.13.0rc1`, `1.2.4`.
 *
 * @example
 * ```ts
 * import { upstreamVersion } from "./_base_facts.ts";
 * console.assert(upstreamVersion("2.36-9+deb12u4") === "2.36");
 * console.assert(upstreamVersion("3.13.0~rc1-1") === "3.13.0rc1");
 * ```
 */
export function upstreamVersion(version: string): string {
  let v = version.trim().replace(/^\d+:/, "");
  const dash = v.lastIndexOf("-");
  if (dash > 0) v = v.slice(0, dash);
  v = v.replace(/[+].*$/, "");
  return v.replace(/~(a|b|rc)(\d+).*$/, "$1$2").replace(/~.*$/, "");
}

/**
 * Cuts a version to `major.minor`.
 *
 * @param version E.g. `2.36.1`, `1.2.4`.
 * @returns E.g. `2.36`, or undefined when there is no `N.N` prefix.
 *
 * @example
 * ```ts
 * import { majorMinor } from "./_base_facts.ts";
 * console.assert(majorMinor("1.2.4") === "1.2");
 * ```
 */
export function majorMinor(version: string): string | undefined {
  const m = /^(\d+)\.(\d+)/.exec(version);
  return m === null ? undefined : `${m[1]}.${m[2]}`;
}
