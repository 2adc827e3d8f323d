/**
 * Credentials given directly: `--username` with `--password-stdin`, and environment variables
 * (`PYCONTAINER_REGISTRY_USERNAME`/`_PASSWORD`; the original tool's `REGISTRY_USERNAME`,
 * `REGISTRY_PASSWORD` and `REGISTRY_TOKEN`; `GITHUB_TOKEN` for `ghcr.io`, as GitHub Actions
 * provides it).
 *
 * These apply only to the registries being pushed to (the registries named by the tags), never
 * to every registry the build talks to: a GHCR token must not be offered to Docker Hub when the
 * base image is pulled from there, where it would turn an anonymous pull into a failed login.
 *
 * @module
 */
import type { Credential, CredentialProvider } from "./credentials.ts";

/**
 * A provider for a username and password given on the command line.
 *
 * @param username The user name (`--username`).
 * @param password The password or token (read from stdin).
 * @param registries The registries it applies to (the push targets).
 * @returns The provider.
 *
 * @example
 * ```ts
 * import { flagCredentials } from "./cred_env.ts";
 * const c = await flagCredentials("me", "pw", ["ghcr.io"]).get("ghcr.io");
 * console.assert(c?.kind === "basic" && c.source === "--username/--password-stdin");
 * ```
 */
export function flagCredentials(
  username: string,
  password: string,
  registries: readonly string[],
): CredentialProvider {
  return {
    get: (registry) =>
      Promise.resolve(
        registries.includes(registry)
          ? { kind: "basic", username, password, source: "--username/--password-stdin" }
          : undefined,
      ),
  };
}

/**
 * A provider reading credentials from environment variables, for the push registries:
 * `PYCONTAINER_REGISTRY_USERNAME` + `PYCONTAINER_REGISTRY_PASSWORD`, else `REGISTRY_USERNAME` +
 * `REGISTRY_PASSWORD`, else `REGISTRY_TOKEN` (with `REGISTRY_USERNAME`, or the user name
 * `token`), else for `ghcr.io` only `GITHUB_TOKEN` (user `GITHUB_ACTOR`, or `x-access-token`).
 *
 * @param env The environment.
 * @param registries The registries it applies to (the push targets).
 * @returns The provider.
 *
 * @example
 * ```ts
 * import { envCredentials } from "./cred_env.ts";
 * const p = envCredentials({ GITHUB_TOKEN: "t" }, ["ghcr.io"]);
 * console.assert((await p.get("ghcr.io"))?.source === "GITHUB_TOKEN");
 * console.assert(await p.get("docker.io") === undefined);
 * ```
 */
export function envCredentials(
  env: Record<string, string | undefined>,
  registries: readonly string[],
): CredentialProvider {
  return {
    get(registry) {
      if (!registries.includes(registry)) return Promise.resolve(undefined);
      return Promise.resolve(envCredential(env, registry));
    },
  };
}

function envCredential(
  env: Record<string, string | undefined>,
  registry: string,
): Credential | undefined {
  const pairs: [string, string][] = [
    ["PYCONTAINER_REGISTRY_USERNAME", "PYCONTAINER_REGISTRY_PASSWORD"],
    ["REGISTRY_USERNAME", "REGISTRY_PASSWORD"],
  ];
  for (const [u, p] of pairs) {
    const username = env[u];
    const password = env[p];
    if (username && password) return { kind: "basic", username, password, source: `${u}/${p}` };
  }
  if (env.REGISTRY_TOKEN) {
    const username = env.REGISTRY_USERNAME || "token";
    return { kind: "basic", username, password: env.REGISTRY_TOKEN, source: "REGISTRY_TOKEN" };
  }
  if (registry === "ghcr.io" && env.GITHUB_TOKEN) {
    const username = env.GITHUB_ACTOR || "x-access-token";
    return { kind: "basic", username, password: env.GITHUB_TOKEN, source: "GITHUB_TOKEN" };
  }
  return undefined;
}
