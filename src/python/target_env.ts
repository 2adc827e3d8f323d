/**
 * The target environment: everything dependency installation needs to know about the Python in
 * the *base image* (never the host's) — interpreter path and version, C library, architecture,
 * the PEP 508 marker environment and the ordered list of wheel tags the interpreter accepts.
 *
 * Detection reads the base image's config and, when that is not enough, streams its layers
 * top → bottom and stops as soon as every question is answered (see `_base_scan.ts` and
 * `_target_detect.ts`). The answer is cached per base manifest digest and platform in
 * `<cache>/target-env/`, so the next build of the same base reads no layer at all. Only the
 * detected facts are cached; the marker environment and tags are derived again each time, so a
 * fix to the tag rules never meets a stale cache entry.
 *
 * Overrides (interpreter path, Python version, libc) replace the matching detection, for bases
 * that keep Python somewhere unusual or whose C library cannot be read (RPM-only images).
 *
 * @module
 */
import { mkdir, readFile } from "node:fs/promises";
import { markUsed } from "../store/use_time.ts";
import { dirname, join, posix } from "node:path";
import { PycontainerError } from "../errors.ts";
import { digestHex, digestOf } from "../oci/digest.ts";
import { normalizePlatform } from "../oci/platform.ts";
import type { Platform } from "../oci/types.ts";
import type { BaseImage } from "../registry/base_image.ts";
import { writeFileAtomic } from "../store/atomic.ts";
import { BlobStore } from "../store/blob_store.ts";
import type { CheckedOverrides, TargetFacts } from "./_target_detect.ts";
import { type MarkerEnvironment, markerEnvironmentFor } from "./marker_environment.ts";
import { compatibleTags, type Libc } from "./tags.ts";

/** Facts the user states instead of having them detected. */
export interface TargetOverrides {
  /** Absolute interpreter path in the image, e.g. `/opt/python/bin/python3.12`. */
  pythonPath?: string;
  /** `3.Y` or `3.Y.Z`. */
  pythonVersion?: string;
  /** The C library, as a {@linkcode Libc} or text like `glibc 2.36` / `musl 1.2`. */
  libc?: Libc | string;
}

/** Options for {@linkcode detectTargetEnvironment}. */
export interface DetectTargetOptions {
  /** Facts that replace detection. */
  overrides?: TargetOverrides;
  /** Cache root (a {@linkcode BlobStore} or its directory); `false` disables the cache. */
  cache?: BlobStore | string | false;
}

/** The Python environment inside the target image. */
export interface TargetEnvironment {
  /** Absolute interpreter path, e.g. `/usr/local/bin/python3.12`. */
  pythonPath: string;
  /** The interpreter's directory (a venv's `home`), e.g. `/usr/local/bin`. */
  pythonHome: string;
  /** `3.Y`. */
  pythonVersion: string;
  /** `3.Y.Z` (`3.Y.0` when the base did not reveal the micro version). */
  pythonFullVersion: string;
  /** Only CPython is supported. */
  implementation: "cpython";
  /** The C library. */
  libc: Libc;
  /** OCI architecture, e.g. `amd64`. */
  arch: string;
  /** OCI variant, e.g. `v7` (when the platform has one). */
  variant?: string;
  /** Python's `platform.machine()`, e.g. `x86_64`. */
  platformMachine: string;
  /** PEP 508 marker values. */
  markerEnv: MarkerEnvironment;
  /** Compatible wheel tags, best first. */
  tags: string[];
  /** `lib/python3.Y/site-packages` (relative to a venv or prefix). */
  sitePackagesRel: string;
  /** Where each fact came from, for `--verbose`. */
  sources: { python: string; version: string; libc: string };
  /** True when the facts came from the cache (no layer was read). */
  cached: boolean;
}

const _FORMAT = 1;

/**
 * Parses a C library given as text: `glibc 2.36`, `glibc-2.36`, `musl 1.2`, `musl-1.2.4`.
 *
 * @param text The library family and version.
 * @returns The libc, version cut to `major.minor`.
 * @throws {PycontainerError} (exit 2) For anything else.
 *
 * @example
 * ```ts
 * import { parseLibc } from "./target_env.ts";
 * console.assert(parseLibc("musl-1.2.4").version === "1.2");
 * ```
 */
export function parseLibc(text: string): Libc {
  const m = /^\s*(glibc|musl)[\s:_-]*(\d+)\.(\d+)(?:\.\d+)?\s*$/i.exec(text);
  if (m === null) {
    throw new PycontainerError(`invalid libc ${JSON.stringify(text)}`, {
      hint: 'write it as "glibc 2.36" or "musl 1.2"',
      exitCode: 2,
    });
  }
  return { family: (m[1] as string).toLowerCase() as Libc["family"], version: `${m[2]}.${m[3]}` };
}

/**
 * Detects the Python environment of a base image for one platform (cached per base digest).
 *
 * @param base The resolved base image ({@linkcode resolveBaseImage} in `registry/base_image.ts`).
 * @param platform The platform being built (its architecture and variant drive tags and markers).
 * @param options Overrides and the cache location.
 * @returns The target environment.
 * @throws {PycontainerError} For scratch, a base without Python, an undetectable C library,
 *   a malformed override, or an unreadable layer.
 *
 * @example Everything given, nothing read
 * ```ts
 * import { detectTargetEnvironment } from "./target_env.ts";
 * import { resolveBaseImage } from "../registry/base_image.ts";
 * const platform = { os: "linux", architecture: "arm64" };
 * const base = await resolveBaseImage("scratch", platform);
 * const env = await detectTargetEnvironment({ ...base, kind: "oci-layout" }, platform, {
 *   overrides: { pythonPath: "/opt/py/bin/python3.12", pythonVersion: "3.12.7", libc: "glibc 2.36" },
 *   cache: false,
 * });
 * console.assert(env.tags[1] === "cp312-cp312-manylinux_2_36_aarch64");
 * ```
 */
export async function detectTargetEnvironment(
  base: BaseImage,
  platform: Platform,
  options: DetectTargetOptions = {},
): Promise<TargetEnvironment> {
  const overrides = _checkOverrides(options.overrides ?? {});
  const wanted = normalizePlatform(platform);
  const file = options.cache === false ? undefined : _cacheFile(
    typeof options.cache === "string" ? options.cache : (options.cache ?? BlobStore.default()).root,
    base,
    wanted,
    overrides,
  );
  if (file !== undefined) {
    const hit = await _readCache(file, base.manifestDigest);
    if (hit !== undefined) return { ...targetEnvironmentFrom(hit, wanted), cached: true };
  }
  // Scanning the base's layers is needed once per base; its modules load only then.
  const { detectTargetFacts } = await import("./_target_detect.ts");
  const { layersRead: _, ...facts } = await detectTargetFacts(base, overrides);
  if (file !== undefined) await _writeCache(file, base, wanted, facts);
  return { ...targetEnvironmentFrom(facts, wanted), cached: false };
}

/**
 * Derives the full environment (markers, tags, paths) from detected facts. Pure.
 *
 * @param facts Interpreter path and version, C library and their sources.
 * @param platform The target platform.
 * @returns The environment (with `cached: false`).
 * @throws {PycontainerError} For an unsupported architecture or a malformed version.
 *
 * @example
 * ```ts
 * import { targetEnvironmentFrom } from "./target_env.ts";
 * const env = targetEnvironmentFrom({
 *   pythonPath: "/usr/bin/python3.11", pythonFullVersion: "3.11.2",
 *   libc: { family: "musl", version: "1.2" }, sources: { python: "", version: "", libc: "" },
 * }, { os: "linux", architecture: "arm64" });
 * console.assert(env.platformMachine === "aarch64" && env.sitePackagesRel === "lib/python3.11/site-packages");
 * ```
 */
export function targetEnvironmentFrom(facts: TargetFacts, platform: Platform): TargetEnvironment {
  const arch = platform.architecture;
  const variant = platform.variant;
  const markerEnv = markerEnvironmentFor({
    pythonFullVersion: facts.pythonFullVersion,
    arch,
    ...(variant === undefined ? {} : { variant }),
  });
  const pythonVersion = markerEnv.python_version;
  return {
    pythonPath: facts.pythonPath,
    pythonHome: posix.dirname(facts.pythonPath),
    pythonVersion,
    pythonFullVersion: markerEnv.python_full_version,
    implementation: "cpython",
    libc: facts.libc,
    arch,
    ...(variant === undefined ? {} : { variant }),
    platformMachine: markerEnv.platform_machine,
    markerEnv,
    tags: compatibleTags({
      pythonVersion,
      arch,
      libc: facts.libc,
      ...(variant === undefined ? {} : { variant }),
    }),
    sitePackagesRel: `lib/python${pythonVersion}/site-packages`,
    sources: facts.sources,
    cached: false,
  };
}

function _checkOverrides(o: TargetOverrides): CheckedOverrides {
  const out: CheckedOverrides = {};
  if (o.pythonPath !== undefined) {
    if (!o.pythonPath.startsWith("/") || o.pythonPath.endsWith("/")) {
      throw new PycontainerError(
        `invalid python-interpreter ${JSON.stringify(o.pythonPath)}: not an absolute file path`,
        {
          hint: "give the interpreter's absolute path in the image, e.g. /usr/bin/python3.11",
          exitCode: 2,
        },
      );
    }
    out.pythonPath = posix.normalize(o.pythonPath);
  }
  if (o.pythonVersion !== undefined) {
    if (!/^3\.\d+(?:\.\d+)?$/.test(o.pythonVersion.trim())) {
      throw new PycontainerError(`invalid python-version ${JSON.stringify(o.pythonVersion)}`, {
        hint: 'write it as "3.Y" or "3.Y.Z", e.g. "3.12"',
        exitCode: 2,
      });
    }
    out.pythonVersion = o.pythonVersion.trim();
  }
  if (o.libc !== undefined) {
    out.libc = typeof o.libc === "string"
      ? parseLibc(o.libc)
      : parseLibc(`${o.libc.family} ${o.libc.version}`);
  }
  return out;
}

function _cacheFile(
  root: string,
  base: BaseImage,
  platform: Platform,
  overrides: CheckedOverrides,
): string | undefined {
  if (base.manifestDigest === undefined) return undefined;
  const plat = [platform.os, platform.architecture, platform.variant].filter(Boolean).join("-");
  const given = Object.keys(overrides).length === 0
    ? ""
    : `-${digestHex(digestOf(JSON.stringify(overrides))).slice(0, 12)}`;
  return join(root, "target-env", `${digestHex(base.manifestDigest)}-${plat}${given}.json`);
}

async function _readCache(
  file: string,
  manifestDigest: string | undefined,
): Promise<TargetFacts | undefined> {
  try {
    const doc = JSON.parse(await readFile(file, "utf8"));
    const f = doc?.facts;
    const ok = doc?.format === _FORMAT && doc.manifestDigest === manifestDigest &&
      typeof f?.pythonPath === "string" && typeof f.pythonFullVersion === "string" &&
      (f.libc?.family === "glibc" || f.libc?.family === "musl") &&
      typeof f.libc.version === "string" && typeof f.sources?.libc === "string";
    if (ok) await markUsed(file);
    return ok ? f as TargetFacts : undefined;
  } catch {
    return undefined; // missing or damaged: detect again
  }
}

async function _writeCache(
  file: string,
  base: BaseImage,
  platform: Platform,
  facts: TargetFacts,
): Promise<void> {
  const doc = {
    format: _FORMAT,
    reference: base.reference,
    manifestDigest: base.manifestDigest,
    platform,
    facts,
  };
  try {
    await mkdir(dirname(file), { recursive: true });
    await writeFileAtomic(file, `${JSON.stringify(doc, null, 2)}\n`);
  } catch {
    // A read-only or full cache only costs the next build a rescan.
  }
}
