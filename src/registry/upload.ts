/**
 * Getting one blob into a repository, cheapest way first: `HEAD` (the registry already has it),
 * then a cross-repository mount (`POST …/blobs/uploads/?mount=DIGEST&from=REPO`, when a
 * repository on the same registry is known to hold it), then an upload. Small blobs (up to
 * 8 MiB) go up in a single `PUT` after the session starts. Larger ones are streamed from their
 * file in one `PATCH` (what docker and skopeo do; ~25% faster than 16 MiB chunks against
 * distribution, and nothing is buffered) and closed with an empty `PUT`; with `chunkSize` set
 * (`--chunk-size`, for proxies that cap request bodies) they go in `PATCH` chunks with
 * `Content-Range` instead, at least `OCI-Chunk-Min-Length` bytes each when the registry asks
 * for that, one chunk in memory at a time. A single streamed `PATCH` is one chunk of the whole
 * blob, so it always satisfies the minimum.
 *
 * Registries answer with `Location`s that may be relative (`/v2/…/uploads/UUID`) or carry a
 * query string already (`?_state=…`); each is resolved against the URL that answered, and the
 * `digest` parameter is appended with `&` or `?` as needed, never re-encoding what is there.
 *
 * Failures of the data requests are not retried one by one: a cut-off `PATCH` may have left part
 * of its bytes in the session, so the whole upload restarts (with a new session, after checking
 * whether the blob arrived after all), with backoff and `Retry-After` honoured. The blob is read
 * again from its source for each attempt, never kept whole.
 *
 * @module
 */
import { PycontainerError } from "../errors.ts";
import type { Descriptor } from "../oci/types.ts";
import type { BlobSource } from "../store/blob_source.ts";
import type { Scope } from "./auth.ts";
import type { RegistryClient } from "./client.ts";
import { networkErrorKind } from "./network_error.ts";
import { RegistryError } from "./registry_error.ts";
import { backoffDelay, isRetryableStatus, retryAfterMs } from "./retry.ts";

/** How a blob got into the repository. */
export type UploadOutcome = "exists" | "mounted" | "uploaded";

/** Options for {@linkcode uploadBlob}. */
export interface UploadBlobOptions {
  /** Repositories on the same registry that may hold the blob, tried in order for a mount. */
  mountFrom?: readonly string[];
  /**
   * Upload blobs bigger than this (or than `monolithicMax`) in `PATCH` chunks of this size,
   * instead of one streamed `PATCH`.
   */
  chunkSize?: number;
  /** Blobs up to this size go up in one `PUT` (default 8 MiB). */
  monolithicMax?: number;
  /** Attempts for the whole upload, restarting the session each time (default 5). */
  attempts?: number;
  /** First backoff delay between upload attempts, ms (default 250). */
  baseDelayMs?: number;
  /** Called with the bytes sent so far (after each chunk), and on restarts. */
  onProgress?: (info: { sent: number; restarted?: string }) => void;
  /** Called when the upload starts sending data (after HEAD and mount found nothing). */
  onUploadStart?: () => void;
}

const DEFAULT_MONOLITHIC = 8 * 1024 * 1024;
/** Streamed uploads may take this long per MiB on top of the normal timeout (1 MiB/s floor). */
const MS_PER_MIB = 1000;
const RESTART_CODES = [
  "BLOB_UPLOAD_UNKNOWN",
  "BLOB_UPLOAD_INVALID",
  "DIGEST_INVALID",
  "SIZE_INVALID",
];

/** A transient failure of an upload data request: restart the session after `delayMs`. */
class _Restart extends Error {
  constructor(readonly reason: string, readonly delayMs: number | undefined) {
    super(reason);
  }
}

/**
 * Makes sure a repository has a blob: HEAD, else mount, else upload.
 *
 * @param client The registry client.
 * @param target Registry and repository to push to.
 * @param descriptor The blob.
 * @param source Where to read the blob from (opened once per upload attempt).
 * @param options Mount sources, chunk size, attempts, progress callbacks.
 * @returns `exists`, `mounted` (with the repository it came from) or `uploaded`.
 * @throws {RegistryError} When the registry refuses, or attempts run out.
 *
 * @example
 * ```ts ignore
 * import { uploadBlob } from "./upload.ts";
 * const r = await uploadBlob(client, { registry: "localhost:5000", repository: "acme/api" }, layer, layout.blobs);
 * console.log(r.outcome);
 * ```
 */
export async function uploadBlob(
  client: RegistryClient,
  target: { registry: string; repository: string },
  descriptor: Descriptor,
  source: BlobSource,
  options: UploadBlobOptions = {},
): Promise<{ outcome: UploadOutcome; from?: string }> {
  if (await blobExists(client, target, descriptor)) return { outcome: "exists" };
  // A blob that has to be produced first (a deferred layer) is built before any upload session
  // is opened: a declined mount opens one, and registries expire idle sessions.
  await source.prepare?.(descriptor);
  for (const from of options.mountFrom ?? []) {
    if (from === target.repository) continue;
    const mounted = await _tryMount(client, target, descriptor, from);
    if (mounted === true) return { outcome: "mounted", from };
    if (typeof mounted === "string") {
      // The registry declined but opened an upload session we can use right away.
      return await _uploadWithRetries(client, target, descriptor, source, options, mounted);
    }
  }
  return await _uploadWithRetries(client, target, descriptor, source, options, undefined);
}

/**
 * Asks whether a repository already has a blob (`HEAD /v2/REPO/blobs/DIGEST`).
 *
 * @param client The registry client.
 * @param target Registry and repository.
 * @param descriptor The blob.
 * @returns True when the registry has it (with the right size, when it says the size).
 * @throws {RegistryError} On failures other than 404.
 *
 * @example
 * ```ts ignore
 * import { blobExists } from "./upload.ts";
 * console.log(await blobExists(client, { registry: "localhost:5000", repository: "a" }, layer));
 * ```
 */
export async function blobExists(
  client: RegistryClient,
  target: { registry: string; repository: string },
  descriptor: Descriptor,
): Promise<boolean> {
  const { response } = await client.request(target.registry, {
    method: "HEAD",
    path: `/v2/${target.repository}/blobs/${descriptor.digest}`,
    scopes: _pushScopes(target.repository),
    operation: `check blob ${_short(descriptor.digest)} in ${target.repository}`,
    allowStatuses: [404],
    purpose: "push",
  });
  await response.body?.cancel().catch(() => {});
  if (response.status !== 200) return false;
  const length = response.headers.get("content-length");
  return length === null || Number(length) === descriptor.size;
}

/**
 * Appends the `digest` query parameter to an upload `Location`, keeping whatever query it has.
 *
 * @param location An absolute upload URL, possibly with a query string.
 * @param digest The blob digest.
 * @returns The URL for the final `PUT`.
 *
 * @example
 * ```ts
 * import { withDigest } from "./upload.ts";
 * console.assert(withDigest("http://r/v2/a/blobs/uploads/1?_state=x%3D", "sha256:ab") === "http://r/v2/a/blobs/uploads/1?_state=x%3D&digest=sha256%3Aab");
 * console.assert(withDigest("http://r/u/1", "sha256:ab") === "http://r/u/1?digest=sha256%3Aab");
 * ```
 */
export function withDigest(location: string, digest: string): string {
  const hash = location.indexOf("#");
  const base = hash === -1 ? location : location.slice(0, hash);
  const sep = base.includes("?") ? (base.endsWith("?") || base.endsWith("&") ? "" : "&") : "?";
  return `${base}${sep}digest=${encodeURIComponent(digest)}`;
}

/** True: mounted. A string: declined, with an upload session URL. False: not possible. */
async function _tryMount(
  client: RegistryClient,
  target: { registry: string; repository: string },
  descriptor: Descriptor,
  from: string,
): Promise<boolean | string> {
  const path = `/v2/${target.repository}/blobs/uploads/?mount=${
    encodeURIComponent(descriptor.digest)
  }&from=${encodeURIComponent(from)}`;
  try {
    const { response, url } = await client.request(target.registry, {
      method: "POST",
      path,
      scopes: [..._pushScopes(target.repository), { repository: from, actions: ["pull"] }],
      operation: `mount blob ${_short(descriptor.digest)} from ${from} into ${target.repository}`,
      purpose: "push",
    });
    await response.body?.cancel().catch(() => {});
    if (response.status === 201) return true;
    const location = response.headers.get("location");
    return response.status === 202 && location ? new URL(location, url).toString() : false;
  } catch (e) {
    // No pull access on the source (401/403), or a registry without mount support: upload.
    if (e instanceof RegistryError && e.status !== undefined && e.status < 500) return false;
    throw e;
  }
}

async function _uploadWithRetries(
  client: RegistryClient,
  target: { registry: string; repository: string },
  descriptor: Descriptor,
  source: BlobSource,
  options: UploadBlobOptions,
  session: string | undefined,
): Promise<{ outcome: UploadOutcome }> {
  const attempts = Math.max(1, options.attempts ?? 5);
  options.onUploadStart?.();
  for (let attempt = 1;; attempt++) {
    try {
      await _uploadOnce(client, target, descriptor, source, options, session);
      return { outcome: "uploaded" };
    } catch (e) {
      session = undefined;
      const restart = _restartReason(e);
      if (restart === undefined || attempt >= attempts) {
        if (e instanceof _Restart) {
          throw new RegistryError(
            `registry ${target.registry}: upload blob ${
              _short(descriptor.digest)
            } to ${target.repository} failed ${attempt} times (last: ${e.reason})`,
            {
              registry: target.registry,
              operation: "upload blob",
              hint: `${target.registry} or the network kept failing; retry later`,
            },
          );
        }
        throw e;
      }
      const delay = restart.delayMs ??
        backoffDelay(attempt, options.baseDelayMs ?? 250, 8000);
      options.onProgress?.({ sent: 0, restarted: restart.reason });
      await new Promise((r) => setTimeout(r, Math.min(delay, 8000)));
      // A cut-off final PUT may have completed on the registry's side.
      if (await blobExists(client, target, descriptor)) return { outcome: "uploaded" };
    }
  }
}

function _restartReason(e: unknown): { reason: string; delayMs?: number } | undefined {
  if (e instanceof _Restart) {
    return e.delayMs === undefined
      ? { reason: e.reason }
      : { reason: e.reason, delayMs: e.delayMs };
  }
  if (e instanceof RegistryError) {
    if (e.codes.some((c) => RESTART_CODES.includes(c))) return { reason: e.codes.join(",") };
    if (e.status === undefined) {
      const kind = networkErrorKind(e.cause);
      if (kind === "reset" || kind === "timeout" || kind === "other") return { reason: kind };
    }
    if (e.status !== undefined && isRetryableStatus(e.status)) {
      return { reason: `HTTP ${e.status}` };
    }
    return undefined;
  }
  const kind = networkErrorKind(e);
  return kind === "reset" || kind === "timeout" || kind === "other" ? { reason: kind } : undefined;
}

async function _uploadOnce(
  client: RegistryClient,
  target: { registry: string; repository: string },
  descriptor: Descriptor,
  source: BlobSource,
  options: UploadBlobOptions,
  session: string | undefined,
): Promise<void> {
  const blobName = _short(descriptor.digest);
  let location = session;
  let minChunk = 0;
  if (location === undefined) {
    const { response, url } = await client.request(target.registry, {
      method: "POST",
      path: `/v2/${target.repository}/blobs/uploads/`,
      scopes: _pushScopes(target.repository),
      operation: `start upload of blob ${blobName} to ${target.repository}`,
      purpose: "push",
    });
    await response.body?.cancel().catch(() => {});
    location = _location(response, url, target, "start upload");
    minChunk = Number(response.headers.get("oci-chunk-min-length") ?? 0) || 0;
  }
  const monolithicMax = Math.min(
    options.monolithicMax ?? DEFAULT_MONOLITHIC,
    options.chunkSize ?? Infinity,
  );
  if (descriptor.size > monolithicMax && options.chunkSize === undefined) {
    await _streamedUpload(client, target, descriptor, source, options, location);
    return;
  }
  const chunkSize = descriptor.size <= monolithicMax
    ? Math.max(descriptor.size, 1)
    : Math.max(options.chunkSize ?? monolithicMax, minChunk, 1);
  const stream = await source.open(descriptor);
  const reader = stream.getReader();
  let pending: Uint8Array | undefined;
  const next = async (): Promise<Uint8Array | undefined> => {
    // Collects up to chunkSize bytes from the stream; undefined at the end.
    const parts: Uint8Array[] = [];
    let size = 0;
    while (size < chunkSize) {
      let value = pending;
      pending = undefined;
      if (value === undefined) {
        const r = await reader.read();
        if (r.done) break;
        value = r.value;
      }
      const room = chunkSize - size;
      if (value.byteLength > room) {
        pending = value.subarray(room);
        value = value.subarray(0, room);
      }
      parts.push(value);
      size += value.byteLength;
    }
    if (size === 0) return undefined;
    if (parts.length === 1) return parts[0]!;
    const out = new Uint8Array(size);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.byteLength;
    }
    return out;
  };
  try {
    let sent = 0;
    let chunk = await next();
    const firstIsAll = chunk === undefined || chunk.byteLength === descriptor.size;
    if (firstIsAll) {
      const body = chunk ?? new Uint8Array(0);
      if (body.byteLength !== descriptor.size) _sizeMismatch(descriptor, body.byteLength);
      await _dataRequest(client, target, {
        method: "PUT",
        url: withDigest(location, descriptor.digest),
        body,
        headers: { "content-type": "application/octet-stream" },
        operation: `upload blob ${blobName} to ${target.repository}`,
      });
      options.onProgress?.({ sent: body.byteLength });
      return;
    }
    while (chunk !== undefined) {
      const start = sent;
      const end = sent + chunk.byteLength - 1;
      const res = await _dataRequest(client, target, {
        method: "PATCH",
        url: location,
        body: chunk,
        headers: {
          "content-type": "application/octet-stream",
          "content-range": `${start}-${end}`,
        },
        operation: `upload blob ${blobName} to ${target.repository} (bytes ${start}-${end})`,
      });
      location = _location(res.response, res.url, target, "upload chunk");
      sent += chunk.byteLength;
      options.onProgress?.({ sent });
      chunk = await next();
    }
    await _finishUpload(client, target, descriptor, sent, location);
  } finally {
    await reader.cancel().catch(() => {});
  }
}

/** The whole blob in one streamed `PATCH`, then the closing `PUT`. */
async function _streamedUpload(
  client: RegistryClient,
  target: { registry: string; repository: string },
  descriptor: Descriptor,
  source: BlobSource,
  options: UploadBlobOptions,
  location: string,
): Promise<void> {
  const blobName = _short(descriptor.digest);
  let sent = 0;
  let reported = 0;
  const counted = (await source.open(descriptor)).pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        sent += chunk.byteLength;
        if (sent - reported >= 4 * 1024 * 1024 || sent === descriptor.size) {
          reported = sent;
          options.onProgress?.({ sent });
        }
        controller.enqueue(chunk);
      },
    }),
  );
  try {
    const res = await _dataRequest(client, target, {
      method: "PATCH",
      url: location,
      body: counted,
      headers: { "content-type": "application/octet-stream" },
      operation: `upload blob ${blobName} to ${target.repository}`,
      timeoutMs: 30_000 + Math.ceil(descriptor.size / (1024 * 1024)) * MS_PER_MIB,
    });
    const next = _location(res.response, res.url, target, "upload");
    await _finishUpload(client, target, descriptor, sent, next);
  } finally {
    await counted.cancel().catch(() => {});
  }
}

/** Checks every byte went up, then closes the session with the digest (`PUT ?digest=`). */
async function _finishUpload(
  client: RegistryClient,
  target: { registry: string; repository: string },
  descriptor: Descriptor,
  sent: number,
  location: string,
): Promise<void> {
  if (sent !== descriptor.size) _sizeMismatch(descriptor, sent);
  await _dataRequest(client, target, {
    method: "PUT",
    url: withDigest(location, descriptor.digest),
    body: undefined,
    headers: {},
    operation: `finish upload of blob ${_short(descriptor.digest)} to ${target.repository}`,
  });
}

/** One upload data request, not retried by the client: transient failures restart the upload. */
async function _dataRequest(
  client: RegistryClient,
  target: { registry: string; repository: string },
  r: {
    method: string;
    url: string;
    body: Uint8Array | ReadableStream<Uint8Array> | undefined;
    headers: Record<string, string>;
    operation: string;
    timeoutMs?: number;
  },
): Promise<{ response: Response; url: string }> {
  const body = r.body;
  const res = await client.request(target.registry, {
    method: r.method,
    path: r.url,
    scopes: _pushScopes(target.repository),
    headers: r.headers,
    ...(body === undefined ? {} : { body: () => body as Uint8Array<ArrayBuffer> }),
    ...(r.timeoutMs === undefined ? {} : { timeoutMs: r.timeoutMs }),
    operation: r.operation,
    allowStatuses: [404, 408, 416, 429, 500, 502, 503, 504],
    purpose: "push",
    attempts: 1,
  });
  const status = res.response.status;
  if (status === 404 || status === 416) {
    // The session is gone or out of step (e.g. an earlier attempt's request arrived late).
    await res.response.body?.cancel().catch(() => {});
    throw new _Restart(`upload session lost (HTTP ${status})`, undefined);
  }
  if (isRetryableStatus(status)) {
    const after = retryAfterMs(res.response.headers.get("retry-after"));
    await res.response.body?.cancel().catch(() => {});
    throw new _Restart(`HTTP ${status}`, after);
  }
  await res.response.body?.cancel().catch(() => {});
  return res;
}

function _location(
  response: Response,
  url: string,
  target: { registry: string; repository: string },
  step: string,
): string {
  const location = response.headers.get("location");
  if (!location) {
    throw new RegistryError(
      `registry ${target.registry}: ${step} for ${target.repository} returned no Location header`,
      {
        registry: target.registry,
        operation: step,
        status: response.status,
        hint: "the registry does not follow the distribution API; is this really a registry?",
      },
    );
  }
  return new URL(location, url).toString();
}

function _sizeMismatch(descriptor: Descriptor, got: number): never {
  throw new PycontainerError(
    `blob ${descriptor.digest} has ${got} bytes, but its descriptor says ${descriptor.size}`,
    { hint: "the image's blob store is damaged; rebuild the image" },
  );
}

function _pushScopes(repository: string): Scope[] {
  return [{ repository, actions: ["pull", "push"] }];
}

function _short(digest: string): string {
  return digest.slice(0, 19);
}
