/**
 * Azure Container Registry: for `*.azurecr.io`, when the Azure CLI is installed and logged in,
 * `az acr login --name NAME --expose-token` prints an ACR refresh token, which is used with the
 * fixed user name `00000000-0000-0000-0000-000000000000` (what `docker login` gets from the same
 * command). No `az` on PATH, or `az` failing (not logged in), simply means no credential here.
 *
 * @module
 */
import type { CredentialProvider } from "./credentials.ts";
import { hostname } from "./endpoint.ts";

/** The user name ACR tokens are used with. */
export const ACR_TOKEN_USER = "00000000-0000-0000-0000-000000000000";

/**
 * A provider asking the Azure CLI for ACR tokens.
 *
 * @param env Environment for the child (PATH decides whether `az` is found).
 * @returns The provider.
 *
 * @example
 * ```ts
 * import { azureCredentials } from "./cred_azure.ts";
 * console.assert(await azureCredentials({ PATH: "" }).get("ghcr.io") === undefined);
 * ```
 */
export function azureCredentials(env: Record<string, string | undefined>): CredentialProvider {
  return {
    async get(registry) {
      const host = hostname(registry).toLowerCase();
      if (!host.endsWith(".azurecr.io")) return undefined;
      const name = host.slice(0, -".azurecr.io".length);
      const out = await _run("az", [
        "acr",
        "login",
        "--name",
        name,
        "--expose-token",
        "--output",
        "json",
      ], env);
      if (out === undefined) return undefined;
      try {
        const json = JSON.parse(out) as { accessToken?: unknown };
        if (typeof json.accessToken !== "string" || json.accessToken === "") return undefined;
        return {
          kind: "basic",
          username: ACR_TOKEN_USER,
          password: json.accessToken,
          source: `az acr login --name ${name} --expose-token`,
        };
      } catch {
        return undefined;
      }
    },
  };
}

async function _run(
  command: string,
  args: string[],
  env: Record<string, string | undefined>,
): Promise<string | undefined> {
  // Loaded here: only a build that asks az for a token pays for node:child_process.
  const { spawn } = await import("node:child_process");
  return await new Promise((resolve) => {
    const child = spawn(command, args, {
      stdio: ["ignore", "pipe", "ignore"],
      env: Object.fromEntries(
        Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined),
      ),
    });
    let out = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.stdout.on("data", (d) => (out += String(d)));
    child.once("error", () => {
      clearTimeout(timer);
      resolve(undefined);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve(code === 0 ? out : undefined);
    });
  });
}
