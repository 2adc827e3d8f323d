/**
 * Checks and normalises a merged {@linkcode BuildConfig}: the workdir is absolute, platforms are
 * known `os/arch[/variant]` triples (with the usual aliases normalised: `aarch64` → `arm64`,
 * `x86_64` → `amd64`, `arm64/v8` → `arm64`, `linux/arm` → `linux/arm/v7`), ports are
 * `PORT[/tcp|udp|sctp]` in 1–65535, the Python version is `3.Y`, env keys are non-empty and
 * without `=`. Every message starts with where the bad value came from (`pycontainer.toml:5`,
 * `--platform`), so the user knows what to edit.
 *
 * Tags are only checked to be non-empty here: their syntax belongs to the image-reference
 * parser. A pure function: no I/O, the input is not modified.
 *
 * @module
 */

import { posix } from "node:path";
import { PycontainerError } from "../errors.ts";
import type { BuildConfig, BuildOptions, RegistryOptions } from "./types.ts";

/** The platforms a build can target, in the form {@linkcode normalizePlatform} returns. */
export const KNOWN_PLATFORMS: readonly string[] = [
  "linux/amd64",
  "linux/arm64",
  "linux/arm/v7",
  "linux/arm/v6",
  "linux/386",
  "linux/ppc64le",
  "linux/s390x",
  "linux/riscv64",
];

const _archAliases: Record<string, string> = {
  "x86_64": "amd64",
  "x86-64": "amd64",
  "x64": "amd64",
  "aarch64": "arm64",
  "arm64/v8": "arm64",
  "aarch64/v8": "arm64",
  "arm": "arm/v7",
  "armhf": "arm/v7",
  "armv7": "arm/v7",
  "armv7l": "arm/v7",
  "armel": "arm/v6",
  "armv6": "arm/v6",
  "armv6l": "arm/v6",
  "i386": "386",
  "i686": "386",
  "x86": "386",
};

/**
 * Normalises a platform string to its canonical OCI form, or `undefined` if it is not a platform
 * pycontainer can build for.
 *
 * @param platform `os/arch[/variant]`, e.g. `linux/aarch64`.
 * @returns The canonical form (`linux/arm64`) or `undefined`.
 *
 * @example
 * ```ts
 * import { normalizePlatform } from "./validate_config.ts";
 * console.assert(normalizePlatform("linux/x86_64") === "linux/amd64");
 * console.assert(normalizePlatform("linux/arm64/v8") === "linux/arm64");
 * console.assert(normalizePlatform("windows/amd64") === undefined);
 * ```
 */
export function normalizePlatform(platform: string): string | undefined {
  const lower = platform.trim().toLowerCase();
  const slash = lower.indexOf("/");
  if (slash < 0) return undefined;
  const os = lower.slice(0, slash);
  const rest = lower.slice(slash + 1);
  if (os !== "linux") return undefined;
  const arch = Object.hasOwn(_archAliases, rest) ? _archAliases[rest] ?? rest : rest;
  const canonical = `linux/${arch}`;
  return KNOWN_PLATFORMS.includes(canonical) ? canonical : undefined;
}

/**
 * Validates a merged configuration and returns a normalised copy.
 *
 * @param config The merged configuration (with `sources` naming where each value came from).
 * @returns A copy with normalised platforms, ports, workdir and registry hosts.
 * @throws {PycontainerError} exit code 2, message starting with the value's source.
 *
 * @example
 * ```ts
 * import { validateConfig } from "./validate_config.ts";
 * const ok = validateConfig({
 *   context: "/src/app",
 *   build: { workdir: "/app/", platforms: ["linux/aarch64"], expose: ["8000/TCP"] },
 *   registry: {},
 *   sources: {},
 * });
 * console.assert(ok.build.platforms?.[0] === "linux/arm64" && ok.build.workdir === "/app");
 * console.assert(ok.build.expose?.[0] === "8000/tcp");
 * ```
 */
export function validateConfig(config: BuildConfig): BuildConfig {
  const src = (key: string): string => config.sources[key] ?? "configuration";
  const fail: _Fail = (key, message, hint) => {
    throw new PycontainerError(`${src(key)}: ${message}`, { hint, exitCode: 2 });
  };
  const build: BuildOptions = { ...config.build };
  const registry: RegistryOptions = { ...config.registry };

  if (build.tags !== undefined) {
    for (const tag of build.tags) {
      if (tag.trim() === "") {
        fail("build.tags", "empty image tag", "give a reference like myapp:latest");
      }
    }
  }
  for (const key of ["baseImage", "user", "output"] as const) {
    if (build[key] !== undefined && build[key].trim() === "") {
      fail(`build.${key}`, `empty ${_names[key]}`, `give a value or leave ${_names[key]} out`);
    }
  }
  if (build.workdir !== undefined) {
    if (!build.workdir.startsWith("/")) {
      fail(
        "build.workdir",
        `workdir "${build.workdir}" is not an absolute path`,
        `use a path starting with "/", e.g. /${build.workdir.replace(/^\.?\/*/, "")}`,
      );
    }
    build.workdir = posix.normalize(build.workdir).replace(/(.)\/$/, "$1");
  }
  if (build.platforms !== undefined) build.platforms = _platforms(build.platforms, fail);
  if (build.expose !== undefined) build.expose = build.expose.map((port) => _port(port, fail));
  if (build.pythonVersion !== undefined && !/^3\.\d{1,2}$/.test(build.pythonVersion.trim())) {
    fail(
      "build.pythonVersion",
      `python version "${build.pythonVersion}" is not of the form 3.Y`,
      "give the minor version only, e.g. 3.12",
    );
  }
  if (build.pythonVersion !== undefined) build.pythonVersion = build.pythonVersion.trim();
  for (const key of Object.keys(build.env ?? {})) {
    if (key === "" || key.includes("=")) {
      fail(
        `build.env.${key}`,
        `invalid environment variable name "${key}"`,
        'names must be non-empty and cannot contain "="',
      );
    }
  }
  for (const key of Object.keys(build.labels ?? {})) {
    if (key.trim() === "") {
      fail(
        `build.labels.${key}`,
        "empty label key",
        "give every label a key, e.g. org.opencontainers.image.title",
      );
    }
  }
  if (registry.mirror !== undefined) {
    const host = _host(registry.mirror);
    if (host === undefined) {
      fail(
        "registry.mirror",
        `invalid registry mirror${_quoted(registry.mirror)}`,
        "give host[:port], e.g. mirror.gcr.io or localhost:5000",
      );
    }
    registry.mirror = host.name;
    if (host.plainHttp && !(registry.insecure ?? []).includes(host.name)) {
      registry.insecure = [...(registry.insecure ?? []), host.name];
    }
  }
  if (registry.insecure !== undefined) {
    registry.insecure = registry.insecure.map((entry) => {
      const host = _host(entry);
      if (host === undefined) {
        fail(
          "registry.insecure",
          `invalid registry host${_quoted(entry)}`,
          "give host[:port], e.g. registry.local:5000",
        );
      }
      return host.name;
    });
  }
  return { context: config.context, build, registry, sources: { ...config.sources } };
}

const _names = { baseImage: "base image", user: "user", output: "output directory" } as const;

type _Fail = (key: string, message: string, hint: string) => never;

function _platforms(platforms: string[], fail: _Fail): string[] {
  const out: string[] = [];
  for (const entry of platforms.flatMap((p) => p.split(","))) {
    const canonical = normalizePlatform(entry);
    if (canonical === undefined) {
      fail(
        "build.platforms",
        `unknown platform "${entry.trim()}"`,
        `use os/arch[/variant], one of: ${KNOWN_PLATFORMS.join(", ")}`,
      );
    }
    if (!out.includes(canonical)) out.push(canonical);
  }
  if (out.length === 0) {
    fail("build.platforms", "no platform given", "give at least one, e.g. linux/amd64");
  }
  return out;
}

function _port(port: string, fail: _Fail): string {
  const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/i.exec(port.trim());
  const number = m === null ? NaN : Number(m[1]);
  if (m === null || !(number >= 1 && number <= 65535)) {
    fail(
      "build.expose",
      `invalid port "${port}"`,
      "use PORT[/tcp|udp|sctp] with PORT from 1 to 65535, e.g. 8000 or 53/udp",
    );
  }
  return m[2] === undefined ? String(number) : `${number}/${m[2].toLowerCase()}`;
}

/** Parses `host[:port]`, also accepting a `https://` or `http://` URL with no path (as in daemon.json). */
function _host(value: string): { name: string; plainHttp: boolean } | undefined {
  const m = /^(?:(https?):\/\/)?([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?\/?$/.exec(
    value.trim(),
  );
  if (m === null) return undefined;
  return { name: `${m[2]}${m[3] ?? ""}`.toLowerCase(), plainHttp: m[1] === "http" };
}

/** ` "value"` for messages, or nothing when the value may carry credentials (`user:pass@`). */
function _quoted(value: string): string {
  return value.includes("@") ? "" : ` "${value}"`;
}
