/**
 * Targets and fixture paths shared by the lock reader tests: real marker environments and tag
 * lists from the project's own `markerEnvironmentFor`/`compatibleTags`, plus a Windows target
 * (built by hand: pycontainer never targets Windows, but the locks must exclude packages on it).
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import type { LockTarget } from "../../../src/python/locks/select.ts";
import { markerEnvironmentFor } from "../../../src/python/markers.ts";
import { compatibleTags } from "../../../src/python/tags.ts";

/** The directory holding the committed lock fixtures. */
export const FIXTURES: string = fileURLToPath(new URL("../../fixtures/locks", import.meta.url));

/**
 * A Linux CPython target.
 *
 * @param python Full version, e.g. `3.11.7`.
 * @param arch OCI architecture.
 * @param extra Extras, groups and libc.
 * @returns The target for `selectForTarget`.
 */
export function linux(
  python: string,
  arch: string,
  extra: { extras?: string[]; groups?: string[]; libc?: "glibc" | "musl" } = {},
): LockTarget {
  const libc = extra.libc === "musl"
    ? { family: "musl" as const, version: "1.2" }
    : { family: "glibc" as const, version: "2.36" };
  return {
    markerEnv: markerEnvironmentFor({ pythonFullVersion: python, arch }),
    tags: compatibleTags({ pythonVersion: python, arch, libc }),
    extras: extra.extras ?? [],
    groups: extra.groups ?? [],
  };
}

/**
 * A Windows x64 CPython target (hand-made environment and tags).
 *
 * @param python Full version.
 * @param extra Extras and groups.
 * @returns The target.
 */
export function windows(
  python: string,
  extra: { extras?: string[]; groups?: string[] } = {},
): LockTarget {
  const env = markerEnvironmentFor({ pythonFullVersion: python, arch: "amd64" });
  const minor = Number(python.split(".")[1]);
  const tags = [`cp3${minor}-cp3${minor}-win_amd64`];
  for (let m = minor; m >= 2; m--) tags.push(`cp3${m}-abi3-win_amd64`);
  tags.push(`py3-none-win_amd64`, `cp3${minor}-none-any`, `py3${minor}-none-any`, "py3-none-any");
  return {
    markerEnv: {
      ...env,
      os_name: "nt",
      sys_platform: "win32",
      platform_system: "Windows",
      platform_machine: "AMD64",
    },
    tags,
    extras: extra.extras ?? [],
    groups: extra.groups ?? [],
    description: `CPython ${python}, windows/AMD64`,
  };
}
