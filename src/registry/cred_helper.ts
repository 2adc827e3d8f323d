/**
 * Docker credential helpers (`docker-credential-<name>`, e.g. `-osxkeychain`, `-pass`,
 * `-ecr-login`, `-gcloud`), the protocol Docker's `credHelpers` and `credsStore` settings use:
 * the program is run with one argument (`get`, `store`, `erase`), reads the server URL (or a
 * JSON object for `store`) on stdin and answers JSON on stdout
 * (`{"ServerURL":…,"Username":…,"Secret":…}`). A `Username` of `<token>` means the secret is an
 * identity (refresh) token. "credentials not found" is not an error, just no credential.
 *
 * The helper's output is never echoed into messages (it holds the secret); its stderr is, cut
 * to one line, because that is where helpers explain themselves.
 *
 * @module
 */
import { PycontainerError } from "../errors.ts";
import type { Credential } from "./credentials.ts";

const TIMEOUT_MS = 60_000;

/**
 * Runs `docker-credential-<helper> <action>` with the given stdin.
 *
 * @param helper The helper's name (the part after `docker-credential-`).
 * @param action `get`, `store`, `erase` or `list`.
 * @param input What to write to its stdin.
 * @param env Environment for the child (PATH decides which program runs).
 * @returns Exit code, stdout and the first line of stderr.
 * @throws {PycontainerError} When the program is missing or doesn't finish in time.
 *
 * @example
 * ```ts ignore
 * import { runCredentialHelper } from "./cred_helper.ts";
 * const r = await runCredentialHelper("pass", "get", "ghcr.io", process.env);
 * ```
 */
export async function runCredentialHelper(
  helper: string,
  action: "get" | "store" | "erase" | "list",
  input: string,
  env: Record<string, string | undefined>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const program = `docker-credential-${helper}`;
  if (!/^[A-Za-z0-9._-]+$/.test(helper)) {
    throw new PycontainerError(`invalid credential helper name "${helper}"`, {
      hint: "fix credHelpers/credsStore in your Docker config.json",
    });
  }
  // Loaded here: only a build that runs a helper pays for node:child_process.
  const { spawn } = await import("node:child_process");
  return await new Promise((resolve, reject) => {
    const child = spawn(program, [action], {
      stdio: ["pipe", "pipe", "pipe"],
      env: Object.fromEntries(
        Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined),
      ),
    });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), TIMEOUT_MS);
    child.stdout.on("data", (d) => (stdout += String(d)));
    child.stderr.on("data", (d) => (stderr += String(d)));
    child.once("error", (e) => {
      clearTimeout(timer);
      const missing = (e as { code?: string }).code === "ENOENT";
      reject(
        new PycontainerError(
          missing
            ? `credential helper ${program} not found on PATH`
            : `credential helper ${program} failed to start: ${(e as Error).message}`,
          {
            hint: missing
              ? `install ${program}, or remove it from credHelpers/credsStore in your Docker config.json`
              : "check the helper program",
            cause: e,
          },
        ),
      );
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      if (signal === "SIGKILL") {
        reject(new PycontainerError(`credential helper ${program} did not answer within 60 s`));
        return;
      }
      resolve({ code: code ?? 1, stdout, stderr: stderr.trim().split("\n")[0] ?? "" });
    });
    child.stdin.on("error", () => {}); // a helper that exits without reading stdin
    child.stdin.end(input);
  });
}

/**
 * Gets a registry's credential from a helper.
 *
 * @param helper The helper's name.
 * @param serverUrl What to ask for (`ghcr.io`, or `https://index.docker.io/v1/` for Docker Hub).
 * @param env Environment for the child.
 * @param source How to name the source in `--verbose` output, e.g. `credHelpers["ghcr.io"] in ~/.docker/config.json`.
 * @returns The credential, or undefined when the helper has none.
 * @throws {PycontainerError} When the helper is missing, fails or answers garbage.
 *
 * @example
 * ```ts ignore
 * import { helperCredential } from "./cred_helper.ts";
 * const c = await helperCredential("pass", "ghcr.io", process.env, "credsStore");
 * ```
 */
export async function helperCredential(
  helper: string,
  serverUrl: string,
  env: Record<string, string | undefined>,
  source: string,
): Promise<Credential | undefined> {
  const r = await runCredentialHelper(helper, "get", serverUrl, env);
  if (r.code !== 0) {
    if (/not found|no credentials/i.test(`${r.stdout} ${r.stderr}`)) return undefined;
    throw new PycontainerError(
      `credential helper docker-credential-${helper} failed for ${serverUrl} (exit ${r.code})${
        r.stderr ? `: ${r.stderr.slice(0, 200)}` : ""
      }`,
      { hint: `run "docker-credential-${helper} get" by hand to see why, or log in again` },
    );
  }
  let json: { Username?: unknown; Secret?: unknown };
  try {
    json = JSON.parse(r.stdout);
  } catch {
    throw new PycontainerError(
      `credential helper docker-credential-${helper} answered something that is not JSON for ${serverUrl}`,
      { hint: "check the helper's version; it must speak Docker's credential helper protocol" },
    );
  }
  const username = typeof json.Username === "string" ? json.Username : "";
  const secret = typeof json.Secret === "string" ? json.Secret : "";
  if (secret === "") return undefined;
  const where = `docker-credential-${helper} (${source})`;
  if (username === "<token>") return { kind: "identityToken", token: secret, source: where };
  return { kind: "basic", username, password: secret, source: where };
}
