/**
 * Credentials from the auth file podman, skopeo and buildah write (`podman login`):
 * `$REGISTRY_AUTH_FILE`, else `$XDG_RUNTIME_DIR/containers/auth.json`, else
 * `~/.config/containers/auth.json` — the containers-auth.json(5) lookup order. The format is
 * Docker's `auths` section, so entries are decoded by the same code as `config.json`.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { PycontainerError } from "../errors.ts";
import { credentialFromDockerConfig, type CredentialProvider } from "./credentials.ts";

/**
 * The auth files to read, in order.
 *
 * @param env The environment.
 * @returns Paths (they may not exist).
 *
 * @example
 * ```ts
 * import { containersAuthFiles } from "./cred_auth_file.ts";
 * console.assert(containersAuthFiles({ REGISTRY_AUTH_FILE: "/a.json", HOME: "/h" })[0] === "/a.json");
 * ```
 */
export function containersAuthFiles(env: Record<string, string | undefined>): string[] {
  const files: string[] = [];
  if (env.REGISTRY_AUTH_FILE) files.push(env.REGISTRY_AUTH_FILE);
  if (env.XDG_RUNTIME_DIR) files.push(join(env.XDG_RUNTIME_DIR, "containers", "auth.json"));
  files.push(join(env.HOME || homedir(), ".config", "containers", "auth.json"));
  return files;
}

/**
 * A provider reading podman's auth files; the first file with an entry for the registry wins.
 *
 * @param env The environment.
 * @returns The provider.
 *
 * @example
 * ```ts
 * import { containersAuthCredentials } from "./cred_auth_file.ts";
 * const p = containersAuthCredentials({ REGISTRY_AUTH_FILE: "/nonexistent", HOME: "/nonexistent" });
 * console.assert(await p.get("quay.io") === undefined);
 * ```
 */
export function containersAuthCredentials(
  env: Record<string, string | undefined>,
): CredentialProvider {
  const cache = new Map<string, Promise<unknown>>();
  const load = (path: string): Promise<unknown> => {
    let p = cache.get(path);
    if (!p) {
      p = readFile(path, "utf8").then((text) => {
        try {
          return JSON.parse(text) as unknown;
        } catch (e) {
          throw new PycontainerError(`cannot parse ${path}: ${(e as Error).message}`, {
            hint: "fix the JSON, or log in again with podman login",
          });
        }
      }, () => undefined);
      cache.set(path, p);
    }
    return p;
  };
  return {
    async get(registry) {
      for (const path of containersAuthFiles(env)) {
        const c = credentialFromDockerConfig(await load(path), registry, path);
        if (c) return c;
      }
      return undefined;
    },
  };
}
