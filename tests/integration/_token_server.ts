/**
 * A token server for testing registry Bearer auth: implements the distribution token protocol
 * (`GET realm?service=…&scope=repository:NAME:ACTIONS`, optional Basic credentials) and issues
 * RS256 JWTs signed by a self-signed certificate (made with openssl) that the registry trusts
 * through `auth.token.rootcertbundle`. Grants are decided per user, repository and action by a
 * function the test supplies, so pull-only tokens, anonymous pulls and refused logins behave as
 * on Docker Hub or GHCR. Every token request is recorded (without passwords) for assertions.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { spawnSync } from "node:child_process";
import { createSign } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";

/** Decides which actions a user (undefined = anonymous) gets on a repository. */
export type GrantFn = (user: string | undefined, repository: string, actions: string[]) => string[];

/** Options for {@linkcode startTokenServer}. */
export interface TokenServerOptions {
  /** Users and passwords accepted with Basic auth on token requests. */
  users?: Record<string, string>;
  /** Grants; default: everyone gets what they ask for. */
  grant?: GrantFn;
  /** Token lifetime in seconds (default 300). */
  expiresIn?: number;
}

/** One recorded token request. */
export interface TokenRequest {
  /** HTTP method. */
  method: string;
  /** The authenticated user, if any. */
  user?: string;
  /** Requested scopes. */
  scopes: string[];
  /** The `service` parameter. */
  service: string | null;
}

/** A running token server. */
export interface TokenServer {
  /** The realm URL for the registry's config. */
  realm: string;
  /** The service name. */
  service: string;
  /** The issuer name. */
  issuer: string;
  /** Path of the PEM certificate the registry must trust. */
  certificate: string;
  /** Token requests received so far. */
  requests: TokenRequest[];
  /** Stops the server. */
  stop(): Promise<void>;
}

const b64url = (data: string | Buffer) => Buffer.from(data).toString("base64url");

/**
 * Starts the token server on a free 127.0.0.1 port, with key and certificate under `dir`.
 *
 * @param dir A temporary directory for the key pair.
 * @param options Users and grants.
 * @returns The running server.
 *
 * @example
 * ```ts
 * const ts = await startTokenServer(dir, { grant: (user, repo, actions) => actions });
 * ```
 */
export async function startTokenServer(
  dir: string,
  options: TokenServerOptions = {},
): Promise<TokenServer> {
  const key = join(dir, "token-key.pem");
  const certificate = join(dir, "token-cert.pem");
  const made = spawnSync("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    key,
    "-out",
    certificate,
    "-days",
    "1",
    "-subj",
    "/CN=pycontainer-test-token",
  ], { encoding: "utf8" });
  if (made.status !== 0) throw new Error(`openssl failed: ${made.stderr}`);
  const keyPem = readFileSync(key, "utf8");
  const certDer = readFileSync(certificate, "utf8").replace(/-----[^-]+-----|\s/g, "");
  const service = "pycontainer-test-registry";
  const issuer = "pycontainer-test-issuer";
  const grant: GrantFn = options.grant ?? ((_u, _r, actions) => actions);
  const requests: TokenRequest[] = [];

  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += String(d)));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://localhost");
      const params = req.method === "POST" ? new URLSearchParams(body) : url.searchParams;
      const scopes = req.method === "POST"
        ? (params.get("scope") ?? "").split(" ").filter(Boolean)
        : params.getAll("scope");
      let user: string | undefined;
      const auth = req.headers.authorization;
      if (auth?.startsWith("Basic ")) {
        const [u, ...rest] = Buffer.from(auth.slice(6), "base64").toString().split(":");
        if (options.users?.[u!] === undefined || options.users[u!] !== rest.join(":")) {
          requests.push({ method: req.method!, scopes, service: params.get("service") });
          res.writeHead(401, { "content-type": "application/json" });
          res.end(
            JSON.stringify({
              errors: [{ code: "UNAUTHORIZED", message: "incorrect username or password" }],
            }),
          );
          return;
        }
        user = u;
      }
      requests.push({
        method: req.method!,
        ...(user ? { user } : {}),
        scopes,
        service: params.get("service"),
      });
      const access = scopes.map((s) => {
        const [type, name, actions] = s.split(":") as [string, string, string];
        return { type, name, actions: grant(user, name, actions.split(",")) };
      });
      const now = Math.floor(Date.now() / 1000);
      const expiresIn = options.expiresIn ?? 300;
      const header = b64url(JSON.stringify({ typ: "JWT", alg: "RS256", x5c: [certDer] }));
      const claims = b64url(JSON.stringify({
        iss: issuer,
        sub: user ?? "",
        aud: service,
        exp: now + expiresIn,
        nbf: now - 10,
        iat: now,
        jti: crypto.randomUUID(),
        access,
      }));
      const signature = createSign("RSA-SHA256").update(`${header}.${claims}`).sign(keyPem);
      const token = `${header}.${claims}.${b64url(signature)}`;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          token,
          access_token: token,
          expires_in: expiresIn,
          issued_at: new Date().toISOString(),
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certificate,
    requests,
    stop: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
