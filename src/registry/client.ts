/**
 * The distribution API client: every request to a registry goes through
 * {@linkcode RegistryClient.request}, which picks the endpoint (scheme, Docker Hub's API host,
 * the mirror for Docker Hub pulls), authenticates (challenge → token, see `auth.ts`), retries
 * transient failures with backoff, and turns failures into one-line {@linkcode RegistryError}s.
 * On top of it sit the pull operations the base image needs — {@linkcode RegistryClient.getManifest}
 * and {@linkcode RegistryClient.fetchBlob}, both verifying digests — and push (issue 3) adds its
 * blob upload and manifest PUT the same way, with `purpose: "push"` and push scopes.
 *
 * @module
 */
import process from "node:process";
import { PycontainerError } from "../errors.ts";
import { digestOf } from "../oci/digest.ts";
import type { ManifestDocument } from "../oci/manifest.ts";
import { parseManifest } from "../oci/manifest.ts";
import { MANIFEST_ACCEPT } from "../oci/media_types.ts";
import type { Descriptor } from "../oci/types.ts";
import { verifyStream } from "../store/verify_stream.ts";
import type { Scope } from "./auth.ts";
import { HostAuth } from "./auth.ts";
import type { CredentialProvider } from "./credentials.ts";
import { dockerConfigCredentials } from "./credentials.ts";
import type { RegistryEndpoint } from "./endpoint.ts";
import { describeEndpoint, resolveEndpoint } from "./endpoint.ts";
import { networkErrorKind } from "./network_error.ts";
import { errorFromNetwork, errorFromResponse, RegistryError } from "./registry_error.ts";
import { isRetryableStatus, retry, retryAfterMs } from "./retry.ts";
import type { FetchFn, HttpRequest, HttpResponse } from "./transport.ts";
import { sendRequest } from "./transport.ts";

/** How the client reaches registries. */
export interface RegistryClientOptions {
  /** Host[:port] used instead of Docker Hub for pulls (`--registry-mirror`). */
  mirror?: string | undefined;
  /** Hosts reached over plain HTTP (`--insecure-registry`); loopback hosts always are. */
  insecure?: readonly string[] | undefined;
  /** Where credentials come from (default: Docker's config.json `auths`). */
  credentials?: CredentialProvider;
  /** Per-request timeout for headers and each body chunk, ms (default 30 000). */
  timeoutMs?: number;
  /** Attempts per request, including the first (default 4). */
  attempts?: number;
  /** First backoff delay in ms (default 250). */
  baseDelayMs?: number;
  /** Replaces global fetch. */
  fetch?: FetchFn;
  /** Receives progress/diagnostic events (for `--verbose`); never contains secrets. */
  onEvent?: (event: RegistryEvent) => void;
  /** Environment for defaults (default: the process environment). */
  env?: Record<string, string | undefined>;
}

/** Something worth telling a `--verbose` user. */
export type RegistryEvent =
  | {
    type: "retry";
    registry: string;
    operation: string;
    attempt: number;
    delayMs: number;
    reason: string;
  }
  | { type: "request"; registry: string; method: string; url: string; status: number }
  | {
    type: "blob";
    registry: string;
    repository: string;
    digest: string;
    size: number;
    /** `download` when it starts, `downloaded` when verified in the cache, `corrupt` when a cached copy failed verification. */
    state: "download" | "downloaded" | "corrupt";
  };

/** A registry request. */
export interface RegistryRequest {
  /** HTTP method (default GET). */
  method?: string;
  /** Path and query, starting with `/v2/`, or an absolute URL (an upload `Location`). */
  path: string;
  /** What the request needs access to (for the token). */
  scopes: Scope[];
  /** Extra headers. */
  headers?: Record<string, string>;
  /** Body factory, called once per attempt. */
  body?: () => BodyInit | null;
  /** Describes the operation in messages, e.g. `get manifest library/python:3.11-slim`. */
  operation: string;
  /** Statuses returned to the caller instead of thrown (besides 2xx), e.g. `[404]` for existence checks. */
  allowStatuses?: number[];
  /** `pull` lets a Docker Hub mirror stand in; `push` never does. Default `pull`. */
  purpose?: "pull" | "push";
  /**
   * Attempts for this request (default: the client's). Upload data requests use 1: a failed
   * PATCH or PUT may leave partial data in the upload session, so push restarts the session.
   */
  attempts?: number;
  /**
   * Timeout for this request in ms (default: the client's). A streamed upload sends its whole
   * body before the registry answers, so it needs longer than a request that answers at once.
   */
  timeoutMs?: number;
}

/** A fetched manifest or index with its verified digest. */
export interface FetchedManifest {
  /** The exact bytes (what the digest covers). */
  bytes: Uint8Array;
  /** `sha256:` digest of the bytes. */
  digest: string;
  /** Media type (from the body, else the response). */
  mediaType: string;
  /** The parsed document. */
  document: ManifestDocument;
}

/** Where an image's repository is. */
export interface RepositoryRef {
  /** Registry name as in references (`docker.io`). */
  registry: string;
  /** Repository path (`library/python`). */
  repository: string;
}

const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/**
 * A client for the OCI distribution API.
 *
 * @example Fetching a manifest
 * ```ts
 * import { RegistryClient } from "./client.ts";
 * const client = new RegistryClient({ mirror: "127.0.0.1:5000" });
 * // const m = await client.getManifest({ registry: "docker.io", repository: "library/python" }, "3.11-slim");
 * console.assert(client.endpoint("docker.io").host === "127.0.0.1:5000");
 * ```
 */
export class RegistryClient {
  readonly #options: RegistryClientOptions;
  readonly #credentials: CredentialProvider;
  readonly #auth = new Map<string, HostAuth>();

  /**
   * Makes a client; no request is sent until one is needed.
   *
   * @param options Mirror, insecure hosts, credentials, timeouts, retries.
   */
  constructor(options: RegistryClientOptions = {}) {
    this.#options = options;
    this.#credentials = options.credentials ?? dockerConfigCredentials(options.env ?? process.env);
  }

  /**
   * Where requests for a registry go.
   *
   * @param registry Registry name.
   * @param purpose `pull` (mirror allowed) or `push`.
   * @returns The endpoint.
   */
  endpoint(registry: string, purpose: "pull" | "push" = "pull"): RegistryEndpoint {
    return resolveEndpoint(registry, this.#options, purpose);
  }

  /**
   * Passes an event to the `onEvent` callback, for modules built on the client (blob downloads
   * now, push progress later).
   *
   * @param event The event; never put a secret in it.
   *
   * @example
   * ```ts
   * import { RegistryClient } from "./client.ts";
   * const seen: string[] = [];
   * new RegistryClient({ onEvent: (e) => seen.push(e.type) }).emit({ type: "blob", registry: "r", repository: "x", digest: "sha256:0", size: 1, state: "download" });
   * console.assert(seen[0] === "blob");
   * ```
   */
  emit(event: RegistryEvent): void {
    this.#options.onEvent?.(event);
  }

  /**
   * Sends an authenticated, retried request to a registry. Non-2xx answers (other than
   * `allowStatuses`) become a {@linkcode RegistryError}; so does an unreachable host.
   *
   * @param registry Registry name.
   * @param request The request.
   * @returns The response (its body must be consumed or cancelled) and its final URL.
   * @throws {RegistryError} On failure.
   */
  async request(registry: string, request: RegistryRequest): Promise<HttpResponse> {
    const endpoint = this.endpoint(registry, request.purpose ?? "pull");
    const shown = describeEndpoint(endpoint);
    const auth = this.#hostAuth(endpoint);
    const url = /^https?:\/\//.test(request.path) ? request.path : endpoint.baseUrl + request.path;
    let challenged = false;
    for (;;) {
      const headers: Record<string, string> = { ...request.headers };
      const authorization = await auth.authorization(request.scopes);
      if (authorization !== undefined) headers.authorization = authorization;
      const res = await this.#send(
        {
          method: request.method ?? "GET",
          url,
          headers,
          ...(request.body ? { body: request.body } : {}),
        },
        shown,
        request.operation,
        endpoint.host,
        request.attempts,
        request.timeoutMs,
      );
      const { response } = res;
      if (response.status === 401 && !challenged) {
        challenged = true;
        if (await auth.onUnauthorized(response, request.scopes, request.operation)) continue;
        throw await errorFromResponse(response, shown, request.operation);
      }
      if (response.ok || request.allowStatuses?.includes(response.status)) return res;
      const error = await errorFromResponse(response, shown, request.operation);
      const refused = response.status === 401 ? await auth.refusedHint() : undefined;
      if (refused === undefined) throw error;
      throw new RegistryError(error.message, {
        registry: error.registry,
        operation: error.operation,
        status: 401,
        codes: error.codes,
        hint: refused,
      });
    }
  }

  /**
   * Fetches a manifest or index by tag or digest and verifies its digest (against the requested
   * digest, and against `Docker-Content-Digest` when the registry sends one).
   *
   * @param repo The repository.
   * @param reference A tag or `sha256:` digest.
   * @returns The manifest bytes, digest, media type and parsed document.
   * @throws {RegistryError} On HTTP failure (`codes` includes `MANIFEST_UNKNOWN` for 404).
   */
  async getManifest(repo: RepositoryRef, reference: string): Promise<FetchedManifest> {
    const name = `${repo.repository}${reference.startsWith("sha256:") ? "@" : ":"}${reference}`;
    const operation = `get manifest ${name}`;
    const { response } = await this.request(repo.registry, {
      path: `/v2/${repo.repository}/manifests/${reference}`,
      headers: { accept: MANIFEST_ACCEPT },
      scopes: [{ repository: repo.repository, actions: ["pull"] }],
      operation,
    });
    const shown = describeEndpoint(this.endpoint(repo.registry));
    const bytes = await this.#readLimited(response, MAX_MANIFEST_BYTES, shown, operation);
    const digest = digestOf(bytes);
    const claimed = response.headers.get("docker-content-digest");
    const expected = reference.startsWith("sha256:")
      ? reference
      : claimed?.startsWith("sha256:")
      ? claimed
      : undefined;
    if (expected !== undefined && expected !== digest) {
      throw new RegistryError(
        `registry ${shown}: manifest ${name} has digest ${digest}, expected ${expected}`,
        {
          registry: shown,
          operation,
          hint: "the registry or a proxy is serving bad data; retry later",
        },
      );
    }
    const contentType = response.headers.get("content-type") ?? undefined;
    const document = parseManifest(bytes, `${shown}/${name}`, contentType);
    return { bytes, digest, mediaType: document.mediaType, document };
  }

  /**
   * Asks for a manifest's digest without downloading it (HEAD).
   *
   * @param repo The repository.
   * @param reference A tag or digest.
   * @returns The `Docker-Content-Digest`, or undefined when the registry doesn't send one.
   * @throws {RegistryError} On HTTP failure.
   */
  async headManifest(repo: RepositoryRef, reference: string): Promise<string | undefined> {
    const { response } = await this.request(repo.registry, {
      method: "HEAD",
      path: `/v2/${repo.repository}/manifests/${reference}`,
      headers: { accept: MANIFEST_ACCEPT },
      scopes: [{ repository: repo.repository, actions: ["pull"] }],
      operation: `get manifest ${repo.repository}:${reference}`,
    });
    await response.body?.cancel().catch(() => {});
    const digest = response.headers.get("docker-content-digest");
    return digest?.startsWith("sha256:") ? digest : undefined;
  }

  /**
   * Downloads a blob as a stream that errors unless size and digest match the descriptor.
   * Redirects to object storage are followed without credentials.
   *
   * @param repo The repository holding the blob.
   * @param descriptor The blob.
   * @returns The verifying stream.
   * @throws {RegistryError} On HTTP failure.
   *
   * @example
   * ```ts
   * import { RegistryClient } from "./client.ts";
   * const client = new RegistryClient();
   * // const layer = await client.fetchBlob({ registry: "ghcr.io", repository: "acme/api" }, descriptor);
   * console.assert(typeof client.fetchBlob === "function");
   * ```
   */
  async fetchBlob(
    repo: RepositoryRef,
    descriptor: Descriptor,
  ): Promise<ReadableStream<Uint8Array>> {
    const { stream } = await this.openBlob(repo, descriptor, 0);
    return verifyStream(
      stream,
      descriptor,
      `registry ${describeEndpoint(this.endpoint(repo.registry))}`,
    );
  }

  /**
   * Opens a blob's bytes from an offset (an HTTP `Range` request), for resuming an interrupted
   * download. The stream is not verified: the caller hashes what it keeps.
   *
   * @param repo The repository holding the blob.
   * @param descriptor The blob.
   * @param offset The first byte wanted; 0 for all of it.
   * @returns The stream and the offset it really starts at (0 when the server ignored the range).
   * @throws {RegistryError} On HTTP failure.
   *
   * @example
   * ```ts
   * import { RegistryClient } from "./client.ts";
   * // const { stream, offset } = await new RegistryClient().openBlob(repo, descriptor, 1_000_000);
   * console.assert(typeof RegistryClient.prototype.openBlob === "function");
   * ```
   */
  async openBlob(
    repo: RepositoryRef,
    descriptor: Descriptor,
    offset: number,
  ): Promise<{ stream: ReadableStream<Uint8Array>; offset: number }> {
    const { response } = await this.request(repo.registry, {
      path: `/v2/${repo.repository}/blobs/${descriptor.digest}`,
      scopes: [{ repository: repo.repository, actions: ["pull"] }],
      operation: `get blob ${descriptor.digest.slice(0, 19)} of ${repo.repository}`,
      ...(offset > 0 ? { headers: { range: `bytes=${offset}-` } } : {}),
    });
    if (!response.body) {
      throw new RegistryError(`registry ${repo.registry}: blob ${descriptor.digest} has no body`, {
        registry: repo.registry,
        operation: "get blob",
      });
    }
    const start = response.status === 206
      ? Number(/^bytes (\d+)-/.exec(response.headers.get("content-range") ?? "")?.[1] ?? NaN)
      : 0;
    if (start !== 0 && start !== offset) {
      // A range we didn't ask for: start over rather than guess.
      await response.body.cancel().catch(() => {});
      return this.openBlob(repo, descriptor, 0);
    }
    return { stream: response.body, offset: start };
  }

  #hostAuth(endpoint: RegistryEndpoint): HostAuth {
    const key = endpoint.baseUrl;
    let auth = this.#auth.get(key);
    if (!auth) {
      const credentialName = endpoint.mirrorOf ? endpoint.host : endpoint.registry;
      auth = new HostAuth(
        credentialName,
        this.#credentials,
        (req) => this.#send(req, credentialName, "get auth token", undefined),
      );
      this.#auth.set(key, auth);
    }
    return auth;
  }

  /** One request with retries on transient statuses and network failures. */
  async #send(
    request: HttpRequest,
    shown: string,
    operation: string,
    host: string | undefined,
    attempts?: number,
    timeoutMs?: number,
  ): Promise<HttpResponse> {
    const o = this.#options;
    try {
      return await retry<HttpResponse>(
        async () => {
          const res = await sendRequest(
            { ...request, timeoutMs: timeoutMs ?? o.timeoutMs ?? 30_000 },
            o.fetch,
          );
          o.onEvent?.({
            type: "request",
            registry: shown,
            method: request.method ?? "GET",
            url: _redact(res.url),
            status: res.response.status,
          });
          return res;
        },
        {
          attempts: attempts ?? o.attempts ?? 4,
          baseDelayMs: o.baseDelayMs ?? 250,
          retryable: (outcome) => {
            if (outcome.ok) {
              const { response } = outcome.value;
              if (!isRetryableStatus(response.status)) return false;
              const after = retryAfterMs(response.headers.get("retry-after"));
              response.body?.cancel().catch(() => {});
              return after ?? true;
            }
            const kind = networkErrorKind(outcome.error);
            return kind === "reset" || kind === "timeout" || kind === "other";
          },
          onRetry: ({ attempt, delayMs, outcome }) =>
            o.onEvent?.({
              type: "retry",
              registry: shown,
              operation,
              attempt,
              delayMs,
              reason: outcome.ok
                ? `HTTP ${outcome.value.response.status}`
                : String(networkErrorKind(outcome.error)),
            }),
        },
      );
    } catch (e) {
      if (e instanceof PycontainerError) throw e;
      throw errorFromNetwork(e, shown, operation, host);
    }
  }

  async #readLimited(
    response: Response,
    limit: number,
    shown: string,
    operation: string,
  ): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = response.body?.getReader();
    try {
      while (reader) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > limit) {
          await reader.cancel().catch(() => {});
          throw new RegistryError(
            `registry ${shown}: ${operation}: manifest larger than ${limit} bytes`,
            { registry: shown, operation },
          );
        }
        chunks.push(value);
      }
    } catch (e) {
      if (e instanceof PycontainerError) throw e;
      throw errorFromNetwork(e, shown, operation);
    }
    const out = new Uint8Array(size);
    let offset = 0;
    for (const c of chunks) {
      out.set(c, offset);
      offset += c.byteLength;
    }
    return out;
  }
}

function _redact(url: string): string {
  // Pre-signed object-storage URLs carry credentials in the query string.
  const i = url.indexOf("?");
  return i === -1 ? url : `${url.slice(0, i)}?…`;
}
