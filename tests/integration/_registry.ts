/**
 * Test harness: a real registry (Debian's `/usr/bin/docker-registry`, the CNCF distribution
 * registry) on a free 127.0.0.1 port with its storage in a temporary directory, optionally with
 * htpasswd Basic auth, TLS, or `auth.token` mode backed by a small token server (see
 * `_token_server.ts`) that issues JWTs the registry trusts, as Docker Hub and GHCR do; plus
 * helpers to push an OCI layout into it with skopeo and to get the cached Python base image
 * layout. Tests start one registry per file and stop it in `after`.
 *
 * @module
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { startTokenServer, type TokenServer, type TokenServerOptions } from "./_token_server.ts";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Options for {@linkcode startRegistry}. */
export interface StartRegistryOptions {
  /** Users and passwords for htpasswd Basic auth (bcrypt hashes are generated). */
  htpasswd?: Record<string, string>;
  /** PEM certificate and key files to serve HTTPS instead of HTTP. */
  tls?: { certificate: string; key: string };
  /** Bearer token auth: a token server with these users and grants (see `_token_server.ts`). */
  token?: TokenServerOptions;
  /** Extra YAML appended to the generated config. */
  extraYaml?: string;
}

/** A running registry. */
export interface TestRegistry {
  /** `127.0.0.1:PORT`. */
  host: string;
  /** The port. */
  port: number;
  /** `http://127.0.0.1:PORT` (or https with TLS). */
  url: string;
  /** Temporary directory holding config and storage. */
  dir: string;
  /** The token server, in token mode. */
  tokenServer?: TokenServer;
  /** Stops the registry and removes its directory. */
  stop(): Promise<void>;
}

/**
 * Finds a free TCP port on 127.0.0.1.
 *
 * @returns A port number nobody listens on right now.
 *
 * @example
 * ```ts
 * const port = await freePort();
 * ```
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/**
 * Starts `/usr/bin/docker-registry` on a free loopback port and waits until it answers `/v2/`.
 *
 * @param options Auth and TLS options.
 * @returns The running registry.
 *
 * @example
 * ```ts
 * const registry = await startRegistry();
 * await registry.stop();
 * ```
 */
export async function startRegistry(options: StartRegistryOptions = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), "pycontainer-registry-"));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const lines = [
    "version: 0.1",
    "log:",
    "  level: error",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${join(dir, "storage")}`,
    "  delete:",
    "    enabled: true",
    "http:",
    `  addr: ${host}`,
    `  secret: ${crypto.randomUUID()}`,
  ];
  if (options.tls) {
    lines.push(
      "  tls:",
      `    certificate: ${options.tls.certificate}`,
      `    key: ${options.tls.key}`,
    );
  }
  if (options.htpasswd) {
    const entries = Object.entries(options.htpasswd).map(([u, p]) => `${u}:${_bcrypt(p)}`);
    await writeFile(join(dir, "htpasswd"), entries.join("\n") + "\n");
    lines.push(
      "auth:",
      "  htpasswd:",
      "    realm: pycontainer-test",
      `    path: ${join(dir, "htpasswd")}`,
    );
  }
  let tokenServer: TokenServer | undefined;
  if (options.token) {
    tokenServer = await startTokenServer(dir, options.token);
    lines.push(
      "auth:",
      "  token:",
      `    realm: ${tokenServer.realm}`,
      `    service: ${tokenServer.service}`,
      `    issuer: ${tokenServer.issuer}`,
      `    rootcertbundle: ${tokenServer.certificate}`,
    );
  }
  if (options.extraYaml) lines.push(options.extraYaml);
  await writeFile(join(dir, "config.yml"), lines.join("\n") + "\n");

  const child = spawn("/usr/bin/docker-registry", ["serve", join(dir, "config.yml")], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d) => (stderr += String(d)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = `${options.tls ? "https" : "http"}://${host}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
    child.stderr?.destroy();
    await tokenServer?.stop();
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`docker-registry exited: ${stderr.slice(-2000)}`);
    }
    // With TLS the test CA isn't trusted by this process, so only wait for the port to listen.
    const ok = options.tls ? await _listening(port) : await fetch(`${url}/v2/`).then(async (r) => {
      await r.body?.cancel();
      return r.status === 200 || r.status === 401;
    }, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`docker-registry did not start on ${host}: ${stderr.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return tokenServer ? { host, port, url, dir, tokenServer, stop } : { host, port, url, dir, stop };
}

/** Options for {@linkcode pushLayoutToRegistry}. */
export interface PushLayoutOptions {
  /** Copy every platform of an index (`skopeo copy --all`). */
  all?: boolean;
  /** `user:password` for the destination. */
  creds?: string;
}

/**
 * Pushes an OCI layout image into a registry with `skopeo copy`.
 *
 * @param layoutDir The OCI layout directory.
 * @param tag The tag inside the layout (`org.opencontainers.image.ref.name`).
 * @param ref Destination without scheme, e.g. `127.0.0.1:5000/library/python:3.11-slim`.
 * @param options `all` for indexes, `creds` for auth.
 * @returns Resolves when skopeo has finished.
 *
 * @example
 * ```ts
 * await pushLayoutToRegistry(baseLayoutPath(), "bookworm", `${registry.host}/base:bookworm`);
 * ```
 */
export function pushLayoutToRegistry(
  layoutDir: string,
  tag: string,
  ref: string,
  options: PushLayoutOptions = {},
): Promise<void> {
  const args = ["--insecure-policy", "copy", "--quiet", "--dest-tls-verify=false"];
  if (options.all) args.push("--all");
  if (options.creds) args.push("--dest-creds", options.creds);
  args.push(`oci:${layoutDir}:${tag}`, `docker://${ref}`);
  return run("skopeo", args).then(() => {});
}

/**
 * Runs a command and resolves with its stdout; rejects with stderr on a non-zero exit.
 *
 * @param command The program.
 * @param args Its arguments.
 * @returns Stdout.
 *
 * @example
 * ```ts
 * const out = await run("skopeo", ["--version"]);
 * ```
 */
export function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout?.on("data", (d) => (out += String(d)));
    child.stderr?.on("data", (d) => (err += String(d)));
    child.once("error", reject);
    child.once("close", (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${command} ${args.join(" ")} exited ${code}: ${err.trim()}`));
    });
  });
}

/**
 * The Python base image as an OCI layout (tag `bookworm`), built once by
 * `tests/integration/make_base_image.sh` and cached under `~/.cache/pycontainer-test`.
 *
 * @returns The layout directory.
 *
 * @example
 * ```ts
 * const layout = baseLayoutPath();
 * ```
 */
export function baseLayoutPath(): string {
  const script = join(dirname(fileURLToPath(import.meta.url)), "make_base_image.sh");
  const result = spawnSync("bash", [script], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`make_base_image.sh failed: ${result.stderr}`);
  return result.stdout.trim().split("\n").pop()!;
}

function _listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function _bcrypt(password: string): string {
  const viaHtpasswd = spawnSync("htpasswd", ["-nbB", "u", password], { encoding: "utf8" });
  if (viaHtpasswd.status === 0) return viaHtpasswd.stdout.trim().split(":").slice(1).join(":");
  const viaPython = spawnSync("python3", [
    "-W",
    "ignore",
    "-c",
    "import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1<<5)))",
    password,
  ], { encoding: "utf8" });
  if (viaPython.status === 0) return viaPython.stdout.trim();
  throw new Error("cannot make a bcrypt hash: install apache2-utils (htpasswd)");
}
