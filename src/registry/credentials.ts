/**
 * Registry credentials for pulls, from Docker's client config: `$DOCKER_CONFIG/config.json` or
 * `~/.docker/config.json`, its `auths` section (`auth` = base64 `user:password`, or an
 * `identitytoken` that `docker login` stores for OAuth2 registries). Keys in `auths` are matched
 * the way Docker does: `https://index.docker.io/v1/` for Docker Hub, otherwise the host with or
 * without scheme and path. The {@linkcode CredentialProvider} seam is what the full credential
 * chain (flags, env vars, credential helpers, podman's auth.json) plugs into later; each provider
 * says where a credential came from, never the secret itself.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { PycontainerError } from "../errors.ts";
import { DOCKER_HUB_API_HOST, DOCKER_HUB_REGISTRY } from "../oci/reference.ts";
import { helperCredential } from "./cred_helper.ts";

/** A credential for one registry. */
export type Credential =
  | { kind: "basic"; username: string; password: string; source: string }
  | { kind: "identityToken"; username?: string; token: string; source: string };

/** Finds credentials for a registry (`docker.io`, `ghcr.io`, `localhost:5000`). */
export interface CredentialProvider {
  /**
   * Looks up the credential for a registry.
   * @param registry Registry name as in a reference (`docker.io` for Docker Hub).
   * @returns The credential, or undefined for anonymous access.
   */
  get(registry: string): Promise<Credential | undefined>;
}

/** Docker Hub's key in `auths`, as `docker login` writes it. */
const DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/";

/**
 * The path of Docker's client config file: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
 *
 * @param env Environment variables (default: the process environment).
 * @returns The file path (it may not exist).
 *
 * @example
 * ```ts
 * import { dockerConfigPath } from "./credentials.ts";
 * console.assert(dockerConfigPath({ DOCKER_CONFIG: "/etc/d" }) === "/etc/d/config.json");
 * ```
 */
export function dockerConfigPath(env: Record<string, string | undefined> = process.env): string {
  return env.DOCKER_CONFIG
    ? join(env.DOCKER_CONFIG, "config.json")
    : join(env.HOME || homedir(), ".docker", "config.json");
}

/**
 * Finds the `auths` entry for a registry in a parsed Docker config and decodes it.
 *
 * @param config The parsed `config.json`.
 * @param registry Registry name (`docker.io`, `ghcr.io`, `localhost:5000`).
 * @param source Name of the file, recorded on the credential.
 * @returns The credential, or undefined when there is no usable entry.
 * @throws {PycontainerError} When the entry's `auth` is not base64 `user:password`.
 *
 * @example
 * ```ts
 * import { credentialFromDockerConfig } from "./credentials.ts";
 * const config = { auths: { "ghcr.io": { auth: btoa("me:secret") } } };
 * const c = credentialFromDockerConfig(config, "ghcr.io", "config.json");
 * console.assert(c?.kind === "basic" && c.username === "me");
 * ```
 */
export function credentialFromDockerConfig(
  config: unknown,
  registry: string,
  source: string,
): Credential | undefined {
  const auths = (config as { auths?: unknown } | null)?.auths;
  if (auths === null || typeof auths !== "object") return undefined;
  const wanted = _authKeys(registry);
  const entries = Object.entries(auths as Record<string, unknown>);
  const match = entries.find(([k]) => k === wanted[0]) ??
    entries.find(([k]) => wanted.includes(_normaliseKey(k)));
  if (!match) return undefined;
  const [key, value] = match;
  const entry = (value ?? {}) as {
    auth?: unknown;
    identitytoken?: unknown;
    username?: unknown;
    password?: unknown;
  };
  const where = `${source} (auths["${key}"])`;
  let username = typeof entry.username === "string" ? entry.username : undefined;
  let password = typeof entry.password === "string" ? entry.password : undefined;
  if (typeof entry.auth === "string" && entry.auth !== "") {
    let decoded: string;
    try {
      decoded = new TextDecoder().decode(Uint8Array.from(atob(entry.auth), (c) => c.charCodeAt(0)));
    } catch {
      throw new PycontainerError(`invalid "auth" for ${key} in ${source}: not base64`, {
        hint: `log in to ${registry} again, or fix the entry`,
      });
    }
    const colon = decoded.indexOf(":");
    if (colon < 0) {
      throw new PycontainerError(
        `invalid "auth" for ${key} in ${source}: expected base64 of user:password`,
        {
          hint: `log in to ${registry} again, or fix the entry`,
        },
      );
    }
    username = decoded.slice(0, colon);
    password = decoded.slice(colon + 1);
  }
  if (typeof entry.identitytoken === "string" && entry.identitytoken !== "") {
    return username === undefined
      ? { kind: "identityToken", token: entry.identitytoken, source: where }
      : { kind: "identityToken", username, token: entry.identitytoken, source: where };
  }
  if (username !== undefined && password !== undefined && (username !== "" || password !== "")) {
    return { kind: "basic", username, password, source: where };
  }
  return undefined;
}

/**
 * A provider reading Docker's config file the way Docker does: `credHelpers[registry]` first
 * (running `docker-credential-<name> get`), then `credsStore` (likewise), then `auths`. The file
 * is read once, on first use; a missing file means anonymous access, a malformed one is an
 * error naming it.
 *
 * @param env Environment variables (default: the process environment).
 * @returns The provider.
 *
 * @example
 * ```ts
 * import { dockerConfigCredentials } from "./credentials.ts";
 * const provider = dockerConfigCredentials({ DOCKER_CONFIG: "/nonexistent" });
 * console.assert(await provider.get("docker.io") === undefined);
 * ```
 */
export function dockerConfigCredentials(
  env: Record<string, string | undefined> = process.env,
): CredentialProvider {
  const path = dockerConfigPath(env);
  let config: Promise<unknown> | undefined;
  const load = async (): Promise<unknown> => {
    const text = await readFile(path, "utf8").catch(() => undefined);
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new PycontainerError(`cannot parse ${path}: ${(e as Error).message}`, {
        hint: "fix the JSON or move the file away",
      });
    }
  };
  return {
    async get(registry) {
      config ??= load();
      const loaded = await config;
      const helpers = (loaded as { credHelpers?: unknown } | null)?.credHelpers;
      const keys = _authKeys(registry);
      const serverUrl = keys[0]!;
      if (helpers !== null && typeof helpers === "object") {
        const entry = Object.entries(helpers as Record<string, unknown>).find(([k]) =>
          k === serverUrl || keys.includes(_normaliseKey(k))
        );
        if (entry && typeof entry[1] === "string" && entry[1] !== "") {
          return await helperCredential(
            entry[1],
            entry[0],
            env,
            `credHelpers["${entry[0]}"] in ${path}`,
          );
        }
      }
      const store = (loaded as { credsStore?: unknown } | null)?.credsStore;
      if (typeof store === "string" && store !== "") {
        const c = await helperCredential(store, serverUrl, env, `credsStore in ${path}`);
        if (c) return c;
      }
      return credentialFromDockerConfig(loaded, registry, path);
    },
  };
}

/**
 * A provider that asks several providers in order; the first credential found wins.
 *
 * @param providers The providers, highest precedence first.
 * @returns The combined provider.
 *
 * @example
 * ```ts
 * import { chainCredentialProviders, dockerConfigCredentials } from "./credentials.ts";
 * const p = chainCredentialProviders(dockerConfigCredentials({ DOCKER_CONFIG: "/nonexistent" }));
 * console.assert(await p.get("ghcr.io") === undefined);
 * ```
 */
export function chainCredentialProviders(...providers: CredentialProvider[]): CredentialProvider {
  return {
    async get(registry) {
      for (const p of providers) {
        const c = await p.get(registry);
        if (c) return c;
      }
      return undefined;
    },
  };
}

/**
 * The keys that may hold a registry's entry in `auths`/`credHelpers`, normalised; the first is
 * the key `docker login` writes (`https://index.docker.io/v1/` for Docker Hub).
 *
 * @param registry Registry name as in a reference.
 * @returns The keys, preferred first.
 *
 * @example
 * ```ts
 * import { dockerConfigKeys } from "./credentials.ts";
 * console.assert(dockerConfigKeys("docker.io")[0] === "https://index.docker.io/v1/");
 * console.assert(dockerConfigKeys("ghcr.io")[0] === "ghcr.io");
 * ```
 */
export function dockerConfigKeys(registry: string): string[] {
  return _authKeys(registry);
}

/**
 * Whether a key of `auths` (`https://ghcr.io/v1/`, `ghcr.io`) names a registry.
 *
 * @param key The key as written in the file.
 * @param registry Registry name as in a reference.
 * @returns True when Docker would use that entry for the registry.
 *
 * @example
 * ```ts
 * import { dockerConfigKeyMatches } from "./credentials.ts";
 * console.assert(dockerConfigKeyMatches("https://ghcr.io/v1/", "ghcr.io"));
 * ```
 */
export function dockerConfigKeyMatches(key: string, registry: string): boolean {
  const keys = _authKeys(registry);
  return key === keys[0] || keys.includes(_normaliseKey(key));
}

/** Keys that may hold a registry's entry, normalised; the first is the exact preferred key. */
function _authKeys(registry: string): string[] {
  if (
    registry === DOCKER_HUB_REGISTRY || registry === DOCKER_HUB_API_HOST ||
    registry === "index.docker.io"
  ) {
    return [DOCKER_HUB_AUTH_KEY, "index.docker.io", "docker.io", "registry-1.docker.io"];
  }
  return [registry];
}

/** `https://host/v1/` → `host`, as Docker's `ConvertToHostname`. */
function _normaliseKey(key: string): string {
  return key.replace(/^[a-z]+:\/\//i, "").split("/")[0]!;
}
