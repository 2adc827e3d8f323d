/**
 * `pycontainer login` / `logout` on machines without Docker: they edit Docker's client config
 * (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`) the way `docker login` does, so
 * every tool that reads it (Docker, skopeo, crane, this one) sees the login. When the file names
 * a credential helper for the registry (`credHelpers`) or a `credsStore`, the secret goes to
 * that helper (`docker-credential-<name> store` / `erase`) and the file is left alone; otherwise
 * it goes into `auths` as base64 `user:password`.
 *
 * Writes keep every other key of the file, are atomic (temporary file + rename, so a crash
 * never leaves half a file), and the file is created with mode 0600 in a 0700 directory —
 * it holds secrets.
 *
 * @module
 */
import { chmod, mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { PycontainerError } from "../errors.ts";
import { writeFileAtomic } from "../store/atomic.ts";
import { runCredentialHelper } from "./cred_helper.ts";
import { dockerConfigKeyMatches, dockerConfigKeys, dockerConfigPath } from "./credentials.ts";

/** Where a login was stored or removed. */
export interface LoginLocation {
  /** The config file. */
  path: string;
  /** `auths` when in the file, else the helper's name (`docker-credential-NAME`). */
  store: string;
}

/**
 * Stores a login for a registry.
 *
 * @param registry Registry name as in references (`ghcr.io`, `docker.io`, `localhost:5000`).
 * @param username The user name.
 * @param password The password or token.
 * @param env Environment (`DOCKER_CONFIG`, `HOME`, `PATH` for helpers).
 * @returns Where it went.
 * @throws {PycontainerError} When the file can't be parsed or written, or the helper fails.
 *
 * @example
 * ```ts
 * import { saveLogin } from "./docker_config_write.ts";
 * import { tmpdir } from "node:os";
 * const dir = `${tmpdir()}/cfg-${crypto.randomUUID()}`;
 * const where = await saveLogin("ghcr.io", "me", "secret", { DOCKER_CONFIG: dir });
 * console.assert(where.store === "auths");
 * ```
 */
export async function saveLogin(
  registry: string,
  username: string,
  password: string,
  env: Record<string, string | undefined>,
): Promise<LoginLocation> {
  const path = dockerConfigPath(env);
  const config = await _load(path);
  const helper = _helperFor(config, registry);
  const key = dockerConfigKeys(registry)[0]!;
  if (helper) {
    const input = JSON.stringify({ ServerURL: key, Username: username, Secret: password });
    const r = await runCredentialHelper(helper, "store", input, env);
    if (r.code !== 0) {
      throw new PycontainerError(
        `credential helper docker-credential-${helper} could not store the login for ${registry} (exit ${r.code})`,
        {
          hint: r.stderr
            ? `it said: ${r.stderr.slice(0, 200)}`
            : "run the helper by hand to see why",
        },
      );
    }
    return { path, store: `docker-credential-${helper}` };
  }
  const auths = _auths(config);
  for (const k of Object.keys(auths)) {
    if (k !== key && dockerConfigKeyMatches(k, registry)) delete auths[k];
  }
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  auths[key] = { ...(auths[key] as object | undefined), auth: btoa(String.fromCharCode(...bytes)) };
  delete (auths[key] as Record<string, unknown>).identitytoken;
  config.auths = auths;
  await _save(path, config);
  return { path, store: "auths" };
}

/**
 * Removes a registry's login (from `auths` and from its credential helper).
 *
 * @param registry Registry name as in references.
 * @param env Environment.
 * @returns Where it was removed from, or undefined when there was no login.
 * @throws {PycontainerError} When the file can't be parsed or written.
 *
 * @example
 * ```ts
 * import { removeLogin } from "./docker_config_write.ts";
 * console.assert(await removeLogin("ghcr.io", { DOCKER_CONFIG: "/nonexistent" }) === undefined);
 * ```
 */
export async function removeLogin(
  registry: string,
  env: Record<string, string | undefined>,
): Promise<LoginLocation | undefined> {
  const path = dockerConfigPath(env);
  const config = await _load(path);
  const helper = _helperFor(config, registry);
  let removed: LoginLocation | undefined;
  if (helper) {
    const r = await runCredentialHelper(helper, "erase", dockerConfigKeys(registry)[0]!, env);
    if (r.code === 0) removed = { path, store: `docker-credential-${helper}` };
  }
  const auths = _auths(config);
  const keys = Object.keys(auths).filter((k) => dockerConfigKeyMatches(k, registry));
  if (keys.length) {
    for (const k of keys) delete auths[k];
    config.auths = auths;
    await _save(path, config);
    removed ??= { path, store: "auths" };
  }
  return removed;
}

async function _load(path: string): Promise<Record<string, unknown>> {
  const text = await readFile(path, "utf8").catch((e) => {
    if ((e as { code?: string }).code === "ENOENT") return undefined;
    throw new PycontainerError(`cannot read ${path}: ${(e as Error).message}`);
  });
  if (text === undefined || text.trim() === "") return {};
  try {
    const json = JSON.parse(text) as unknown;
    if (json === null || typeof json !== "object" || Array.isArray(json)) {
      throw new Error("not an object");
    }
    return json as Record<string, unknown>;
  } catch (e) {
    throw new PycontainerError(`cannot parse ${path}: ${(e as Error).message}`, {
      hint: "fix the JSON or move the file away before logging in",
    });
  }
}

async function _save(path: string, config: Record<string, unknown>): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, JSON.stringify(config, null, "\t") + "\n", 0o600);
  await chmod(path, 0o600); // the umask may have removed bits, never added them; be exact
}

function _auths(config: Record<string, unknown>): Record<string, unknown> {
  const auths = config.auths;
  return auths !== null && typeof auths === "object" && !Array.isArray(auths)
    ? { ...(auths as Record<string, unknown>) }
    : {};
}

function _helperFor(config: Record<string, unknown>, registry: string): string | undefined {
  const helpers = config.credHelpers;
  if (helpers !== null && typeof helpers === "object") {
    for (const [k, v] of Object.entries(helpers as Record<string, unknown>)) {
      if (dockerConfigKeyMatches(k, registry) && typeof v === "string" && v !== "") return v;
    }
  }
  return typeof config.credsStore === "string" && config.credsStore !== ""
    ? config.credsStore
    : undefined;
}
