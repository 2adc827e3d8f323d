/**
 * The full credential chain, first hit wins, in this order:
 *
 * 1. `--username` + `--password-stdin` (push registries only);
 * 2. `PYCONTAINER_REGISTRY_USERNAME`/`_PASSWORD`, the original tool's `REGISTRY_USERNAME`/
 *    `REGISTRY_PASSWORD`/`REGISTRY_TOKEN` (push registries only);
 * 3. `GITHUB_TOKEN` for `ghcr.io` (push registries only);
 * 4. Docker's `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`: `credHelpers`,
 *    `credsStore`, `auths` (`auth`, `identitytoken`);
 * 5. podman's `REGISTRY_AUTH_FILE` / `$XDG_RUNTIME_DIR/containers/auth.json` /
 *    `~/.config/containers/auth.json`;
 * 6. for `*.azurecr.io`, `az acr login --expose-token`.
 *
 * Each registry's lookup runs once per chain (helpers and `az` are slow); `onFound` reports
 * which source answered — for `--verbose` — and never the secret.
 *
 * @module
 */
import process from "node:process";
import { containersAuthCredentials } from "./cred_auth_file.ts";
import { azureCredentials } from "./cred_azure.ts";
import { envCredentials, flagCredentials } from "./cred_env.ts";
import {
  chainCredentialProviders,
  type Credential,
  type CredentialProvider,
  dockerConfigCredentials,
} from "./credentials.ts";

/** Options for {@linkcode credentialChain}. */
export interface CredentialChainOptions {
  /** Environment (default: the process environment). */
  env?: Record<string, string | undefined>;
  /** Registries being pushed to: flag and environment credentials apply to these only. */
  pushRegistries?: readonly string[];
  /** `--username`. */
  username?: string;
  /** The password read from stdin (`--password-stdin`). */
  password?: string;
  /** Told which source gave a registry's credential (not called when none did). */
  onFound?: (registry: string, source: string) => void;
}

/**
 * Builds the credential chain.
 *
 * @param options Environment, push registries, flags, reporting.
 * @returns A provider that asks each source in order and remembers each registry's answer.
 *
 * @example
 * ```ts
 * import { credentialChain } from "./credential_chain.ts";
 * const chain = credentialChain({ env: { HOME: "/nonexistent", PATH: "" }, pushRegistries: ["r.io"], username: "u", password: "p" });
 * console.assert((await chain.get("r.io"))?.source === "--username/--password-stdin");
 * console.assert(await chain.get("other.io") === undefined);
 * ```
 */
export function credentialChain(options: CredentialChainOptions = {}): CredentialProvider {
  const env = options.env ?? process.env;
  const push = options.pushRegistries ?? [];
  const providers: CredentialProvider[] = [];
  if (options.username !== undefined && options.password !== undefined) {
    providers.push(flagCredentials(options.username, options.password, push));
  }
  providers.push(
    envCredentials(env, push),
    dockerConfigCredentials(env),
    containersAuthCredentials(env),
    azureCredentials(env),
  );
  const chain = chainCredentialProviders(...providers);
  const answers = new Map<string, Promise<Credential | undefined>>();
  return {
    get(registry) {
      let answer = answers.get(registry);
      if (!answer) {
        answer = chain.get(registry).then((c) => {
          if (c) options.onFound?.(registry, c.source);
          return c;
        });
        answers.set(registry, answer);
      }
      return answer;
    },
  };
}
