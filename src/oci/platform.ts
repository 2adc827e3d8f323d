/**
 * Platforms (`linux/amd64`, `linux/arm64`, `linux/arm/v7`): parsing what a user writes,
 * formatting it back, and deciding whether an index entry serves a wanted platform. Names are
 * normalised the way containerd does it, so that `aarch64`, `arm64` and `arm64/v8` all mean the
 * same machine, `x86_64` means `amd64`, and 32-bit `arm` without a variant means `arm/v7`.
 *
 * @module
 */
import { PycontainerError } from "../errors.ts";
import type { Platform } from "./types.ts";

const KNOWN_OS = new Set([
  "linux",
  "windows",
  "darwin",
  "freebsd",
  "netbsd",
  "openbsd",
  "solaris",
  "illumos",
  "aix",
  "android",
  "ios",
  "plan9",
  "js",
  "wasip1",
  "dragonfly",
]);
const KNOWN_ARCH = new Set([
  "amd64",
  "arm64",
  "arm",
  "386",
  "ppc64le",
  "ppc64",
  "s390x",
  "riscv64",
  "mips",
  "mipsle",
  "mips64",
  "mips64le",
  "loong64",
  "wasm",
]);
const ARCH_ALIASES: Record<string, { architecture: string; variant?: string }> = {
  x86_64: { architecture: "amd64" },
  "x86-64": { architecture: "amd64" },
  aarch64: { architecture: "arm64" },
  armhf: { architecture: "arm", variant: "v7" },
  armel: { architecture: "arm", variant: "v6" },
  i386: { architecture: "386" },
  i686: { architecture: "386" },
};
const HINT = "use os/arch[/variant], e.g. linux/amd64, linux/arm64 or linux/arm/v7";

/**
 * Parses `os/arch[/variant]` into a normalised platform.
 *
 * @param input The platform as the user wrote it, e.g. `linux/arm/v7`.
 * @returns The platform, with aliases resolved (`aarch64` → `arm64`) and the default variants
 *   applied (`arm` → `v7`, `arm64/v8` → no variant).
 * @throws {PycontainerError} exit code 2: `invalid platform "X": <why>`.
 *
 * @example
 * ```ts
 * import { parsePlatform } from "./platform.ts";
 * const p = parsePlatform("linux/arm/v7");
 * console.assert(p.os === "linux" && p.architecture === "arm" && p.variant === "v7");
 * ```
 */
export function parsePlatform(input: string): Platform {
  const fail = (why: string): never => {
    throw new PycontainerError(`invalid platform "${input}": ${why}`, { hint: HINT, exitCode: 2 });
  };
  const parts = input.trim().toLowerCase().split("/");
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === "")) {
    fail("expected os/arch or os/arch/variant");
  }
  const [os, arch, variant] = parts as [string, string, string | undefined];
  if (!KNOWN_OS.has(os)) fail(`unknown operating system "${os}"`);
  const alias = ARCH_ALIASES[arch];
  const architecture = alias?.architecture ?? arch;
  if (!KNOWN_ARCH.has(architecture)) {
    fail(`unknown architecture "${arch}" (known: ${[...KNOWN_ARCH].join(", ")})`);
  }
  if (variant !== undefined && !/^v?[0-9a-z.]+$/.test(variant)) {
    fail(`invalid variant "${variant}"`);
  }
  const platform: Platform = { os, architecture };
  const v = variant ?? alias?.variant;
  if (v !== undefined) platform.variant = v;
  return normalizePlatform(platform);
}

/**
 * Normalises a platform as containerd does: aliases resolved, `arm64` variant `v8` dropped
 * (it is the default), bare `arm` given `v7`, numeric variants prefixed with `v`.
 *
 * @param platform A platform from a user, an index or an image config.
 * @returns A new, normalised platform (only os, architecture and variant are kept).
 *
 * @example
 * ```ts
 * import { normalizePlatform } from "./platform.ts";
 * const p = normalizePlatform({ os: "linux", architecture: "aarch64", variant: "8" });
 * console.assert(p.architecture === "arm64" && p.variant === undefined);
 * ```
 */
export function normalizePlatform(platform: Platform): Platform {
  const arch = platform.architecture.toLowerCase();
  const alias = ARCH_ALIASES[arch];
  const architecture = alias?.architecture ?? arch;
  let variant = platform.variant?.toLowerCase() || alias?.variant;
  if (variant !== undefined && /^[0-9]/.test(variant)) variant = `v${variant}`;
  if (architecture === "arm64" && variant === "v8") variant = undefined;
  if (architecture === "arm" && variant === undefined) variant = "v7";
  if (architecture === "amd64" && variant === "v1") variant = undefined;
  const out: Platform = { os: platform.os.toLowerCase(), architecture };
  if (variant !== undefined) out.variant = variant;
  return out;
}

/**
 * Formats a platform as `os/arch[/variant]`.
 *
 * @param platform The platform.
 * @returns E.g. `linux/arm/v7`.
 *
 * @example
 * ```ts
 * import { formatPlatform } from "./platform.ts";
 * console.assert(formatPlatform({ os: "linux", architecture: "amd64" }) === "linux/amd64");
 * ```
 */
export function formatPlatform(platform: Platform): string {
  return `${platform.os}/${platform.architecture}` +
    (platform.variant ? `/${platform.variant}` : "");
}

/**
 * Tells whether an available platform (an index entry, an image config) serves the wanted one,
 * comparing os, architecture and variant after normalisation.
 *
 * @param wanted The platform being built for.
 * @param available The platform on offer.
 * @returns True when they are the same machine.
 *
 * @example
 * ```ts
 * import { platformMatches } from "./platform.ts";
 * const want = { os: "linux", architecture: "arm64" };
 * console.assert(platformMatches(want, { os: "linux", architecture: "arm64", variant: "v8" }));
 * console.assert(!platformMatches(want, { os: "linux", architecture: "amd64" }));
 * ```
 */
export function platformMatches(wanted: Platform, available: Platform): boolean {
  const a = normalizePlatform(wanted);
  const b = normalizePlatform(available);
  return a.os === b.os && a.architecture === b.architecture && a.variant === b.variant;
}
