/**
 * One HTTP exchange with a registry, done carefully: redirects followed by hand (up to 10) so
 * that `Authorization` is dropped when a redirect leaves the host — blob downloads redirect to
 * object storage, which must never see registry credentials — and a timeout that covers
 * connecting and waiting for headers, then every wait for the next body chunk (so a big blob may
 * take as long as it needs while a stalled one fails). No retries here; see `retry.ts`.
 *
 * @module
 */

/** One request. */
export interface HttpRequest {
  /** HTTP method (default GET). */
  method?: string;
  /** Absolute URL. */
  url: string;
  /** Request headers. */
  headers?: Record<string, string>;
  /** Makes the body; called again for each redirect that keeps the method (307/308). */
  body?: () => BodyInit | null;
  /** Milliseconds to wait for headers, and for each body chunk (default 30 000). */
  timeoutMs?: number;
}

/** A response plus the URL that finally answered (for resolving relative `Location`s). */
export interface HttpResponse {
  /** The response; its body (if any) must be consumed or cancelled. */
  response: Response;
  /** The URL after redirects. */
  url: string;
}

/** The `fetch` signature the transport needs (injectable for other runtimes' quirks). */
export type FetchFn = (input: string, init: RequestInit) => Promise<Response>;

const MAX_REDIRECTS = 10;
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/**
 * Sends a request, following redirects and enforcing the timeout.
 *
 * @param request The request.
 * @param fetchFn The fetch implementation (default: global `fetch`).
 * @returns The final response and its URL.
 * @throws The network error `fetch` threw, or a `TimeoutError` DOMException.
 *
 * @example
 * ```ts
 * import { sendRequest } from "./transport.ts";
 * // const { response } = await sendRequest({ url: "http://127.0.0.1:5000/v2/" });
 * console.assert(typeof sendRequest === "function");
 * ```
 */
export async function sendRequest(
  request: HttpRequest,
  fetchFn: FetchFn = (input, init) => fetch(input, init),
): Promise<HttpResponse> {
  const timeoutMs = request.timeoutMs ?? 30_000;
  let url = request.url;
  let method = (request.method ?? "GET").toUpperCase();
  const headers: Record<string, string> = { ...request.headers };
  let makeBody = request.body;
  const originHost = new URL(url).host;

  for (let hop = 0;; hop++) {
    const controller = new AbortController();
    const timer = setTimeout(
      () =>
        controller.abort(new DOMException(`no response within ${timeoutMs} ms`, "TimeoutError")),
      timeoutMs,
    );
    let response: Response;
    try {
      const init: RequestInit = { method, headers, redirect: "manual", signal: controller.signal };
      const body = makeBody?.();
      if (body !== undefined && body !== null) {
        init.body = body;
        if (body instanceof ReadableStream) (init as { duplex?: string }).duplex = "half";
      }
      response = await fetchFn(url, init);
    } finally {
      clearTimeout(timer);
    }
    const location = response.headers.get("location");
    if (response.status >= 300 && response.status < 400 && location && response.status !== 304) {
      await response.body?.cancel().catch(() => {});
      if (hop >= MAX_REDIRECTS) throw new TypeError(`too many redirects (last: ${url})`);
      const next = new URL(location, url);
      if (next.host !== originHost || next.protocol !== new URL(request.url).protocol) {
        for (const k of Object.keys(headers)) {
          if (k.toLowerCase() === "authorization") delete headers[k];
        }
      }
      if (
        response.status === 303 ||
        ((response.status === 301 || response.status === 302) && method !== "GET" &&
          method !== "HEAD")
      ) {
        method = method === "HEAD" ? "HEAD" : "GET";
        makeBody = undefined;
      }
      url = next.toString();
      continue;
    }
    if (method === "HEAD" || NULL_BODY_STATUSES.has(response.status) || !response.body) {
      return { response, url };
    }
    return { response: _withIdleTimeout(response, controller, timeoutMs), url };
  }
}

/** Re-wraps the body so each wait for a chunk is bounded by the timeout. */
function _withIdleTimeout(response: Response, controller: AbortController, ms: number): Response {
  const reader = response.body!.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(c) {
      const timer = setTimeout(
        () => controller.abort(new DOMException(`no data for ${ms} ms`, "TimeoutError")),
        ms,
      );
      try {
        const { done, value } = await reader.read();
        if (done) c.close();
        else c.enqueue(value);
      } catch (e) {
        c.error(e);
      } finally {
        clearTimeout(timer);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}
