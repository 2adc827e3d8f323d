/**
 * Registry authentication for one host, following the distribution token spec: requests go out
 * without credentials until the registry answers 401 with a `WWW-Authenticate` challenge; then
 * a `Bearer` challenge gets a token from its realm (anonymous, with Basic credentials, or via the
 * OAuth2 refresh-token POST for an `identitytoken`), and a `Basic` challenge gets the credentials
 * directly. Tokens are cached per scope set until shortly before they expire; a later 401 (or an
 * `insufficient_scope` error) drops the token and asks again, once per request.
 *
 * Scopes are `repository:NAME:ACTIONS`; pulls ask for `pull`, and push (later) asks for
 * `pull,push` on the target plus `pull` on a mount source — the merge is done here.
 *
 * @module
 */
import { PycontainerError } from "../errors.ts";
import type { Challenge } from "./challenge.ts";
import { parseChallenges } from "./challenge.ts";
import type { Credential, CredentialProvider } from "./credentials.ts";
import { errorFromNetwork, errorFromResponse, RegistryError } from "./registry_error.ts";
import type { HttpRequest, HttpResponse } from "./transport.ts";

/** Access wanted on one repository. */
export interface Scope {
  /** Repository path, e.g. `library/python`. */
  repository: string;
  /** Actions, e.g. `["pull"]` or `["pull", "push"]`. */
  actions: string[];
}

/**
 * Formats scopes as token-request `scope` values, merging actions per repository.
 *
 * @param scopes The scopes.
 * @returns Sorted `repository:NAME:a,b` strings.
 *
 * @example
 * ```ts
 * import { formatScopes } from "./auth.ts";
 * const s = formatScopes([{ repository: "a/b", actions: ["pull"] }, { repository: "a/b", actions: ["push"] }]);
 * console.assert(s[0] === "repository:a/b:pull,push");
 * ```
 */
export function formatScopes(scopes: readonly Scope[]): string[] {
  const merged = new Map<string, Set<string>>();
  for (const s of scopes) {
    const set = merged.get(s.repository) ?? new Set<string>();
    for (const a of s.actions) set.add(a);
    merged.set(s.repository, set);
  }
  return [...merged].map(([repo, actions]) => `repository:${repo}:${[...actions].sort().join(",")}`)
    .sort();
}

/** Sends one HTTP request (the client's transport, with retries). */
export type Sender = (request: HttpRequest) => Promise<HttpResponse>;

interface _Token {
  value: string;
  expiresAt: number;
}

/**
 * Authentication state for one registry host.
 *
 * @example
 * ```ts
 * import { HostAuth } from "./auth.ts";
 * import { dockerConfigCredentials } from "./credentials.ts";
 * const auth = new HostAuth("localhost:5000", dockerConfigCredentials({ DOCKER_CONFIG: "/nonexistent" }), async () => { throw new Error("unused"); });
 * console.assert(await auth.authorization([]) === undefined);
 * ```
 */
export class HostAuth {
  readonly #registry: string;
  readonly #credentials: CredentialProvider;
  readonly #send: Sender;
  #challenge: Challenge | undefined;
  #credential: Promise<Credential | undefined> | undefined;
  readonly #tokens = new Map<string, _Token>();

  /**
   * Makes the state for one host; nothing is fetched until needed.
   *
   * @param registry The name credentials are looked up under (and shown in messages).
   * @param credentials Where credentials come from.
   * @param send How to send token requests.
   */
  constructor(registry: string, credentials: CredentialProvider, send: Sender) {
    this.#registry = registry;
    this.#credentials = credentials;
    this.#send = send;
  }

  /**
   * The `Authorization` header value for a request needing these scopes, if the registry has
   * asked for authentication before.
   *
   * @param scopes What the request needs.
   * @returns The header value, or undefined to send the request without one.
   */
  async authorization(scopes: readonly Scope[]): Promise<string | undefined> {
    const challenge = this.#challenge;
    if (!challenge) return undefined;
    if (challenge.scheme === "basic") {
      const c = await this.#getCredential();
      return c?.kind === "basic" ? _basic(c.username, c.password) : undefined;
    }
    if (challenge.scheme !== "bearer") return undefined;
    const key = formatScopes(scopes).join(" ");
    const cached = this.#tokens.get(key);
    if (cached && cached.expiresAt > Date.now()) return `Bearer ${cached.value}`;
    const token = await this.#fetchToken(challenge, formatScopes(scopes));
    this.#tokens.set(key, token);
    return `Bearer ${token.value}`;
  }

  /**
   * Learns from a 401 response: records its challenge and drops the cached token for the scopes.
   * The response body is consumed.
   *
   * @param response The 401 response.
   * @param scopes The scopes the failed request needed.
   * @param operation What was attempted, for the message.
   * @returns True when a retry with new authorization may succeed.
   * @throws {RegistryError} When the registry wants credentials and there are none.
   */
  async onUnauthorized(
    response: Response,
    scopes: readonly Scope[],
    operation: string,
  ): Promise<boolean> {
    const challenges = parseChallenges(response.headers.get("www-authenticate"));
    const chosen = challenges.find((c) => c.scheme === "bearer") ??
      challenges.find((c) => c.scheme === "basic");
    if (!chosen) return false;
    if (chosen.scheme === "basic" && (await this.#getCredential())?.kind !== "basic") {
      const err = await errorFromResponse(response, this.#registry, operation);
      throw new RegistryError(`registry ${this.#registry} requires a login (${operation})`, {
        registry: this.#registry,
        operation,
        status: 401,
        codes: err.codes,
        hint: `log in: echo "$TOKEN" | pycontainer login ${this.#registry} -u USER ` +
          `--password-stdin (or docker login ${this.#registry}), or set ` +
          `PYCONTAINER_REGISTRY_USERNAME/_PASSWORD when pushing`,
      });
    }
    await response.body?.cancel().catch(() => {});
    this.#challenge = chosen;
    this.#tokens.delete(formatScopes(scopes).join(" "));
    return true;
  }

  /**
   * Explains a 401 that came back although credentials were sent with Basic auth: the
   * credentials themselves were refused (with Bearer auth a refusal shows at the token realm).
   *
   * @returns A hint naming where the credentials came from (never the secret), or undefined.
   */
  async refusedHint(): Promise<string | undefined> {
    if (this.#challenge?.scheme !== "basic") return undefined;
    const c = await this.#getCredential();
    return c?.kind === "basic"
      ? `the credentials for ${this.#registry} from ${c.source} were refused; check them or log in again`
      : undefined;
  }

  #getCredential(): Promise<Credential | undefined> {
    this.#credential ??= this.#credentials.get(this.#registry);
    return this.#credential;
  }

  async #fetchToken(challenge: Challenge, scopes: string[]): Promise<_Token> {
    const realm = challenge.params.realm;
    const operation = "get auth token";
    if (!realm || !/^https?:\/\//i.test(realm)) {
      throw new RegistryError(
        `registry ${this.#registry} sent a Bearer challenge without a usable realm`,
        {
          registry: this.#registry,
          operation,
        },
      );
    }
    const service = challenge.params.service;
    const credential = await this.#getCredential();
    const url = new URL(realm);
    let request: HttpRequest;
    if (credential?.kind === "identityToken") {
      const form = new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: credential.token,
        client_id: "pycontainer",
      });
      if (service) form.set("service", service);
      if (scopes.length) form.set("scope", scopes.join(" "));
      const body = form.toString();
      request = {
        method: "POST",
        url: url.toString(),
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: () => body,
      };
    } else {
      if (service) url.searchParams.set("service", service);
      for (const s of scopes) url.searchParams.append("scope", s);
      if (credential?.kind === "basic") url.searchParams.set("account", credential.username);
      const headers: Record<string, string> = {};
      if (credential?.kind === "basic") {
        headers.authorization = _basic(credential.username, credential.password);
      }
      request = { url: url.toString(), headers };
    }
    let res: HttpResponse;
    try {
      res = await this.#send(request);
    } catch (e) {
      if (e instanceof PycontainerError) throw e;
      throw errorFromNetwork(e, this.#registry, `${operation} from ${url.host}`);
    }
    if (!res.response.ok) {
      const err = await errorFromResponse(
        res.response,
        this.#registry,
        `${operation} from ${url.host}`,
      );
      const hint = credential
        ? `the credentials for ${this.#registry} from ${credential.source} were refused; log in again`
        : err.hint;
      throw new RegistryError(err.message, {
        registry: this.#registry,
        operation,
        status: res.response.status,
        codes: err.codes,
        ...(hint === undefined ? {} : { hint }),
      });
    }
    let json: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      json = await res.response.json();
    } catch {
      throw new RegistryError(
        `registry ${this.#registry}: ${operation} from ${url.host} returned no JSON`,
        {
          registry: this.#registry,
          operation,
        },
      );
    }
    const value = typeof json.token === "string" ? json.token : json.access_token;
    if (typeof value !== "string" || value === "") {
      throw new RegistryError(
        `registry ${this.#registry}: ${operation} from ${url.host} returned no token`,
        {
          registry: this.#registry,
          operation,
        },
      );
    }
    const lifetime = typeof json.expires_in === "number" && json.expires_in > 0
      ? json.expires_in
      : 60;
    return { value, expiresAt: Date.now() + Math.max(1, lifetime - 10) * 1000 };
  }
}

function _basic(username: string, password: string): string {
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}
