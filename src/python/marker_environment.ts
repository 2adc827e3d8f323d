/**
 * The PEP 508 marker environment of a *target* interpreter (the one in the image, not the
 * host's): `python_version`, `platform_machine` and friends, as `packaging.markers.
 * default_environment()` would report them if it ran inside the container. OCI architecture
 * names are mapped to what Python reports (`amd64` → `x86_64`, `arm64` → `aarch64`).
 *
 * @module
 */

import { PycontainerError } from "../errors.ts";

/** Values of the PEP 508 environment markers, keyed by marker name. */
export interface MarkerEnvironment {
  /** `sys.implementation.name`, e.g. `cpython`. */
  implementation_name: string;
  /** `sys.implementation.version` formatted, e.g. `3.12.7` or `3.14.0rc1`. */
  implementation_version: string;
  /** `os.name`, e.g. `posix`. */
  os_name: string;
  /** `platform.machine()`, e.g. `x86_64`, `aarch64`. */
  platform_machine: string;
  /** `platform.release()` (the kernel at run time; unknown at build time, so `""` by default). */
  platform_release: string;
  /** `platform.system()`, e.g. `Linux`. */
  platform_system: string;
  /** `platform.version()` (kernel build string; `""` by default). */
  platform_version: string;
  /** `platform.python_version()`, e.g. `3.12.7`. */
  python_full_version: string;
  /** `platform.python_implementation()`, e.g. `CPython`. */
  platform_python_implementation: string;
  /** `major.minor`, e.g. `3.12`. */
  python_version: string;
  /** `sys.platform`, e.g. `linux`. */
  sys_platform: string;
}

const _MACHINES: Record<string, string> = {
  amd64: "x86_64",
  x86_64: "x86_64",
  arm64: "aarch64",
  aarch64: "aarch64",
  "386": "i686",
  i386: "i686",
  i686: "i686",
  ppc64le: "ppc64le",
  ppc64: "ppc64",
  s390x: "s390x",
  riscv64: "riscv64",
  loong64: "loongarch64",
  loongarch64: "loongarch64",
  mips64le: "mips64",
  armv7l: "armv7l",
  armv6l: "armv6l",
};

/**
 * Maps an OCI/Go architecture (and variant) to Python's `platform.machine()` on Linux.
 *
 * @param arch OCI architecture, e.g. `amd64`, `arm64`, `arm`, `386` (Python names pass through).
 * @param variant OCI variant, used for `arm` (`v7` → `armv7l`, `v6` → `armv6l`; default `v7`).
 * @returns The machine name, e.g. `x86_64`.
 * @throws {PycontainerError} For an architecture Python wheels are not built for.
 *
 * @example
 * ```ts
 * import { platformMachineFor } from "./marker_environment.ts";
 * console.assert(platformMachineFor("arm64") === "aarch64");
 * console.assert(platformMachineFor("arm", "v7") === "armv7l");
 * ```
 */
export function platformMachineFor(arch: string, variant?: string): string {
  const a = arch.toLowerCase();
  if (a === "arm") return variant === "v6" || variant === "v5" ? `arm${variant}l` : "armv7l";
  const m = _MACHINES[a];
  if (m === undefined) {
    throw new PycontainerError(
      `unsupported architecture ${JSON.stringify(arch)} for Python wheels`,
      {
        hint:
          "use linux/amd64, linux/arm64, linux/arm/v7, linux/386, linux/ppc64le, linux/s390x or linux/riscv64",
        exitCode: 2,
      },
    );
  }
  return m;
}

/** What {@linkcode markerEnvironmentFor} needs to know about the target. */
export interface MarkerTarget {
  /** The interpreter's full version, e.g. `3.12.7` (a bare `3.12` is taken as `3.12.0`). */
  pythonFullVersion: string;
  /** OCI architecture (`amd64`, `arm64`, ...). */
  arch: string;
  /** OCI variant, for `arm`. */
  variant?: string;
  /** The C library; markers do not depend on it, accepted so callers can pass one target. */
  libc?: unknown;
  /** Kernel release to assume for `platform_release` (default `""`). */
  platformRelease?: string;
  /** Kernel build string to assume for `platform_version` (default `""`). */
  platformVersion?: string;
}

/**
 * Builds the marker environment of a CPython interpreter on Linux in the target image.
 *
 * @param target The interpreter version and platform.
 * @returns The environment for {@linkcode evaluateMarker} (in `markers.ts`).
 * @throws {PycontainerError} When the version or architecture is not usable.
 *
 * @example
 * ```ts
 * import { markerEnvironmentFor } from "./marker_environment.ts";
 * const env = markerEnvironmentFor({ pythonFullVersion: "3.12.7", arch: "arm64" });
 * console.assert(env.platform_machine === "aarch64" && env.python_version === "3.12");
 * ```
 */
export function markerEnvironmentFor(target: MarkerTarget): MarkerEnvironment {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?((?:a|b|rc)\d+)?\+?$/.exec(target.pythonFullVersion.trim());
  if (m === null) {
    throw new PycontainerError(
      `invalid Python version ${JSON.stringify(target.pythonFullVersion)} for the target`,
      { hint: "give the interpreter version as X.Y or X.Y.Z, e.g. 3.12.7", exitCode: 2 },
    );
  }
  const full = `${m[1]}.${m[2]}.${m[3] ?? "0"}${m[4] ?? ""}`;
  return {
    implementation_name: "cpython",
    implementation_version: full,
    os_name: "posix",
    platform_machine: platformMachineFor(target.arch, target.variant),
    platform_release: target.platformRelease ?? "",
    platform_system: "Linux",
    platform_version: target.platformVersion ?? "",
    python_full_version: full,
    platform_python_implementation: "CPython",
    python_version: `${m[1]}.${m[2]}`,
    sys_platform: "linux",
  };
}
