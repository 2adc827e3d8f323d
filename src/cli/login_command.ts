/**
 * `pycontainer login REGISTRY -u USER --password-stdin` and `pycontainer logout REGISTRY`, for
 * machines without Docker. Login first checks the credentials against the registry (`GET /v2/`,
 * through the same challenge/token flow a push uses), then stores them in Docker's config file or
 * its credential helper (see `docker_config_write.ts`). The password is only ever read from
 * standard input — never from a flag, where it would end up in shell history and `ps` output.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import process from "node:process";
import { PycontainerError, usageError } from "../errors.ts";
import { parseReference } from "../oci/reference.ts";
import { removeLogin, saveLogin } from "../registry/docker_config_write.ts";
import type { FlagTable } from "./args.ts";
import { REGISTRY_TLS_FLAGS } from "./registry_flags.ts";
import { parseFlags, stringFlag } from "./args.ts";
import type { CliIo, Subcommand } from "./io.ts";
import { makeRegistryClient } from "./push_command.ts";

const LOGIN_FLAGS: FlagTable = {
  username: { type: "string", short: "u", value: "USER", help: "User name" },
  "password-stdin": { type: "boolean", help: "Read the password or token from standard input" },
  ...REGISTRY_TLS_FLAGS,
  verbose: { type: "boolean", short: "v", help: "Show the requests made" },
};

const LOGOUT_FLAGS: FlagTable = {
  verbose: { type: "boolean", short: "v", help: "Stack traces on errors" },
};

/** The `login` subcommand. */
export const loginCommand: Subcommand = {
  summary: "Check and store registry credentials in Docker's config.json",
  usage: 'Usage: echo "$TOKEN" | pycontainer login REGISTRY --username USER --password-stdin',
  flags: LOGIN_FLAGS,
  run: runLogin,
};

/** The `logout` subcommand. */
export const logoutCommand: Subcommand = {
  summary: "Remove stored registry credentials",
  usage: "Usage: pycontainer logout REGISTRY",
  flags: LOGOUT_FLAGS,
  run: runLogout,
};

/**
 * Reads a password from standard input (all of it, without the trailing newline). Tests pass
 * `stdin` on the {@linkcode CliIo} object; otherwise the process's stdin is read.
 *
 * @param io The CLI's I/O, optionally with a `stdin` reader.
 * @returns The password.
 * @throws {PycontainerError} exit code 2 when stdin is empty.
 *
 * @example
 * ```ts
 * import { readPasswordStdin } from "./login_command.ts";
 * const io = { stdout() {}, stderr() {}, env: {}, isTTY: false, stdin: () => Promise.resolve("s3cret\n") };
 * console.assert(await readPasswordStdin(io) === "s3cret");
 * ```
 */
export async function readPasswordStdin(io: CliIo): Promise<string> {
  let text: string;
  if (io.stdin) text = await io.stdin();
  else {
    const chunks: Uint8Array[] = [];
    for await (const chunk of process.stdin) {
      chunks.push(typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk);
    }
    text = new TextDecoder().decode(Buffer.concat(chunks));
  }
  const password = text.replace(/\r?\n$/, "");
  if (password === "") {
    throw usageError(
      "--password-stdin got an empty password",
      'pipe it in: echo "$TOKEN" | pycontainer ...',
    );
  }
  return password;
}

async function runLogin(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags("login", LOGIN_FLAGS, argv);
  const registry = _registryArg(positionals, "login");
  const username = stringFlag(values, "username");
  if (username === undefined || values["password-stdin"] !== true) {
    throw usageError(
      "login needs --username and --password-stdin",
      `e.g. echo "$TOKEN" | pycontainer login ${registry} --username USER --password-stdin`,
    );
  }
  const password = await readPasswordStdin(io);
  const client = await makeRegistryClient({
    io,
    values,
    pushRegistries: [registry],
    username,
    password,
  });
  const { response } = await client.request(registry, {
    path: "/v2/",
    scopes: [],
    operation: "log in",
    purpose: "push",
  });
  await response.body?.cancel().catch(() => {});
  const where = await saveLogin(registry, username, password, io.env);
  io.stderr(
    where.store === "auths"
      ? `login succeeded; credentials for ${registry} saved in ${where.path}`
      : `login succeeded; credentials for ${registry} saved with ${where.store}`,
  );
  return 0;
}

async function runLogout(argv: readonly string[], io: CliIo): Promise<number> {
  const { positionals } = parseFlags("logout", LOGOUT_FLAGS, argv);
  const registry = _registryArg(positionals, "logout");
  const removed = await removeLogin(registry, io.env);
  if (!removed) {
    io.stderr(`not logged in to ${registry}`);
    return 0;
  }
  io.stderr(
    `removed credentials for ${registry} from ${
      removed.store === "auths" ? removed.path : removed.store
    }`,
  );
  return 0;
}

/** `ghcr.io`, `https://ghcr.io/`, `localhost:5000` → the registry name as in references. */
function _registryArg(positionals: string[], command: string): string {
  if (positionals.length !== 1) {
    throw usageError(`${command} needs one registry`, `e.g. pycontainer ${command} ghcr.io`);
  }
  const raw = positionals[0]!.replace(/^https?:\/\//i, "").replace(/\/.*$/, "");
  if (raw === "" || /\s/.test(raw)) {
    throw new PycontainerError(`invalid registry "${positionals[0]}"`, {
      hint: `e.g. pycontainer ${command} ghcr.io`,
      exitCode: 2,
    });
  }
  if (raw === "index.docker.io" || raw === "registry-1.docker.io") return "docker.io";
  // Validate the host the way references do.
  return parseReference(`${raw}/x`).registry === raw ? raw : raw.toLowerCase();
}
