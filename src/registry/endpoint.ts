/**
 * Which URL serves a registry: the API host (`registry-1.docker.io` for Docker Hub), the scheme
 * (plain HTTP for loopback hosts — localhost, 127.0.0.0/8, ::1 — and for hosts the user marked
 * insecure, as Docker does; HTTPS otherwise), and for pulls from Docker Hub the configured
 * mirror instead. Pure functions: the client calls them for every request's base URL.
 *
 * Unlike the Docker daemon, a failing mirror does not fall back to Docker Hub: people set a
 * mirror because Docker Hub is unreachable or rate-limited from their machines, and a silent
 * fallback would make builds depend on which of the two happened to answer. Errors name the
 * mirror ("127.0.0.1:5000 (mirror of docker.io)").
 *
 * @module
 */
import { PycontainerError } from "../errors.ts";
import { DOCKER_HUB_REGISTRY, registryApiHost } from "../oci/reference.ts";

/** Where requests for a registry go. */
export interface RegistryEndpoint {
  /** The registry name as in the reference (`docker.io`, `localhost:5000`). */
  registry: string;
  /** The host (with port) that receives the requests. */
  host: string;
  /** `http` or `https`. */
  scheme: "http" | "https";
  /** `scheme://host`, without a trailing slash. */
  baseUrl: string;
  /** Set when `host` is a mirror standing in for `registry`. */
  mirrorOf?: string;
}

/** How to reach registries. */
export interface EndpointOptions {
  /** Host[:port] (optionally with `http://` or `https://`) that replaces Docker Hub for pulls. */
  mirror?: string | undefined;
  /** Hosts (host[:port]) reached over plain HTTP. */
  insecure?: readonly string[] | undefined;
}

/**
 * Tells whether a host (with optional port) is a loopback address: `localhost`, `127.0.0.0/8`, `::1`.
 *
 * @param host E.g. `127.0.0.1:5000`, `[::1]:5000`, `localhost`.
 * @returns True for loopback hosts.
 *
 * @example
 * ```ts
 * import { isLoopbackHost } from "./endpoint.ts";
 * console.assert(isLoopbackHost("127.0.0.1:5000") && isLoopbackHost("[::1]:5000"));
 * console.assert(!isLoopbackHost("registry.example.com"));
 * ```
 */
export function isLoopbackHost(host: string): boolean {
  const name = hostname(host).toLowerCase();
  return name === "localhost" || name.endsWith(".localhost") || name === "::1" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

/**
 * The host name of `host[:port]`, without brackets around IPv6 addresses.
 *
 * @param host E.g. `[::1]:5000`.
 * @returns E.g. `::1`.
 *
 * @example
 * ```ts
 * import { hostname } from "./endpoint.ts";
 * console.assert(hostname("[::1]:5000") === "::1" && hostname("ghcr.io") === "ghcr.io");
 * ```
 */
export function hostname(host: string): string {
  if (host.startsWith("[")) return host.slice(1, host.indexOf("]"));
  if (host.indexOf(":") !== host.lastIndexOf(":")) return host; // a bare IPv6 address
  const colon = host.lastIndexOf(":");
  return colon === -1 ? host : host.slice(0, colon);
}

/**
 * Parses a mirror setting (`HOST[:PORT]`, optionally with a scheme) into a host and scheme.
 *
 * @param value E.g. `mirror.gcr.io`, `127.0.0.1:5000`, `http://mirror.local:5000/`.
 * @returns The host with port, and the scheme when one was written.
 * @throws {PycontainerError} exit code 2 for a value that isn't a host.
 *
 * @example
 * ```ts
 * import { parseMirror } from "./endpoint.ts";
 * console.assert(parseMirror("http://m.local:5000/").host === "m.local:5000");
 * ```
 */
export function parseMirror(value: string): { host: string; scheme?: "http" | "https" } {
  const m = /^(?:(https?):\/\/)?([^/\s]+)\/?$/i.exec(value.trim());
  if (!m || !/^(?:[a-zA-Z0-9.-]+|\[[0-9a-fA-F:]+\])(?::\d+)?$/.test(m[2]!)) {
    throw new PycontainerError(`invalid registry mirror "${value}"`, {
      hint: "use HOST[:PORT], e.g. --registry-mirror mirror.gcr.io or 127.0.0.1:5000",
      exitCode: 2,
    });
  }
  const host = m[2]!;
  return m[1] ? { host, scheme: m[1].toLowerCase() as "http" | "https" } : { host };
}

/**
 * Decides where requests for a registry go.
 *
 * @param registry Registry name from a reference.
 * @param options Mirror and insecure hosts.
 * @param purpose `pull` lets a Docker Hub mirror stand in; `push` never uses a mirror.
 * @returns The endpoint.
 *
 * @example
 * ```ts
 * import { resolveEndpoint } from "./endpoint.ts";
 * const e = resolveEndpoint("docker.io", { mirror: "127.0.0.1:5000" }, "pull");
 * console.assert(e.baseUrl === "http://127.0.0.1:5000" && e.mirrorOf === "docker.io");
 * console.assert(resolveEndpoint("docker.io", {}, "pull").baseUrl === "https://registry-1.docker.io");
 * ```
 */
export function resolveEndpoint(
  registry: string,
  options: EndpointOptions,
  purpose: "pull" | "push",
): RegistryEndpoint {
  if (purpose === "pull" && registry === DOCKER_HUB_REGISTRY && options.mirror) {
    const mirror = parseMirror(options.mirror);
    const scheme = mirror.scheme ?? _scheme(mirror.host, options.insecure);
    return {
      registry,
      host: mirror.host,
      scheme,
      baseUrl: `${scheme}://${mirror.host}`,
      mirrorOf: registry,
    };
  }
  const host = registryApiHost(registry);
  const scheme = _scheme(registry, options.insecure);
  return { registry, host, scheme, baseUrl: `${scheme}://${host}` };
}

/**
 * Names an endpoint for messages: `localhost:5000`, or `127.0.0.1:5000 (mirror of docker.io)`.
 *
 * @param endpoint The endpoint.
 * @returns A short description.
 *
 * @example
 * ```ts
 * import { describeEndpoint, resolveEndpoint } from "./endpoint.ts";
 * console.assert(describeEndpoint(resolveEndpoint("ghcr.io", {}, "pull")) === "ghcr.io");
 * ```
 */
export function describeEndpoint(endpoint: RegistryEndpoint): string {
  return endpoint.mirrorOf
    ? `${endpoint.host} (mirror of ${endpoint.mirrorOf})`
    : endpoint.registry;
}

function _scheme(host: string, insecure: readonly string[] | undefined): "http" | "https" {
  if (isLoopbackHost(host)) return "http";
  const lower = host.toLowerCase();
  return insecure?.some((h) => {
      const i = h.trim().toLowerCase().replace(/^https?:\/\//, "").replace(/\/$/, "");
      return i === lower || i === hostname(lower);
    })
    ? "http"
    : "https";
}
