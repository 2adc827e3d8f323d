/**
 * Trusting an extra certificate authority (a company CA, a test CA) for registry HTTPS, the same
 * way on Deno, Bun and Node. `fetch` can't be given a CA portably: Deno needs
 * `Deno.createHttpClient` (not allowed in portable code), Bun a non-standard `tls` option, Node
 * an undici dispatcher that Node 20 doesn't expose. What all three do support is `node:https`
 * with a `ca` option (checked on Deno 2.9, Bun 1.4, Node 20), so {@linkcode caFetch} is a small
 * `fetch` look-alike over `node:http`/`node:https` that the registry client takes through its
 * `fetch` option when `--ca-file` or `PYCONTAINER_CA_FILE` is set. The CA is added to the
 * runtime's built-in roots (`tls.rootCertificates`), not put in their place.
 *
 * `NODE_EXTRA_CA_CERTS` needs none of this: Node reads it at start-up, and Deno and Bun honour it
 * for `fetch` too (also checked), so it works unchanged on all three.
 *
 * Only what the registry client uses is implemented: method, headers, a string / bytes / stream
 * body, `redirect: "manual"` (redirects are never followed here), an abort signal, and a
 * streamed response body.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import { PycontainerError } from "../errors.ts";
import type { FetchFn } from "./transport.ts";

const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * Reads a PEM CA bundle for {@linkcode caFetch}.
 *
 * @param path The PEM file (`--ca-file`, `PYCONTAINER_CA_FILE`).
 * @returns The PEM text.
 * @throws {PycontainerError} exit code 2 when the file is missing or holds no certificate.
 *
 * @example
 * ```ts ignore
 * import { caFetch, readCaFile } from "./tls_fetch.ts";
 * const fetchFn = caFetch(await readCaFile("/etc/ssl/company-ca.pem"));
 * ```
 */
export async function readCaFile(path: string): Promise<string> {
  const text = await readFile(path, "utf8").catch(() => undefined);
  if (text === undefined) {
    throw new PycontainerError(`CA file ${path} not found`, {
      hint: "pass a PEM file with --ca-file or PYCONTAINER_CA_FILE",
      exitCode: 2,
    });
  }
  if (!text.includes("-----BEGIN CERTIFICATE-----")) {
    throw new PycontainerError(`CA file ${path} holds no PEM certificate`, {
      hint: "the file must contain -----BEGIN CERTIFICATE----- blocks",
      exitCode: 2,
    });
  }
  return text;
}

/**
 * A `fetch` that trusts an extra CA (on top of the built-in roots) for HTTPS.
 *
 * @param caPem PEM certificates to trust.
 * @returns A function with the `fetch` signature the registry transport needs.
 *
 * @example
 * ```ts
 * import { caFetch } from "./tls_fetch.ts";
 * const fetchFn = caFetch("");
 * console.assert(typeof fetchFn === "function");
 * ```
 */
export function caFetch(caPem: string): FetchFn {
  let ca: string[] | undefined;
  return async (input, init) => {
    const net = await _loadNet();
    if (caPem !== "") ca ??= [...net.rootCertificates, caPem];
    return await _send(net, input, init, ca);
  };
}

/** node:http, node:https and node:tls, loaded on first use (~10 ms of Deno start-up otherwise). */
interface _Net {
  httpRequest: typeof import("node:http").request;
  httpsRequest: typeof import("node:https").request;
  rootCertificates: readonly string[];
}
let _net: Promise<_Net> | undefined;

function _loadNet(): Promise<_Net> {
  _net ??= Promise.all([import("node:http"), import("node:https"), import("node:tls")]).then((
    [http, https, tls],
  ) => ({
    httpRequest: http.request,
    httpsRequest: https.request,
    rootCertificates: tls.rootCertificates,
  }));
  return _net;
}

async function _send(
  net: _Net,
  input: string,
  init: RequestInit,
  ca: string[] | undefined,
): Promise<Response> {
  const url = new URL(input);
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((v, k) => (headers[k] = v));
  const body = await _bodyBytesOrStream(init.body);
  if (body instanceof Uint8Array) headers["content-length"] = String(body.byteLength);
  else if (body === undefined && init.method !== "GET" && init.method !== "HEAD") {
    headers["content-length"] = "0";
  }
  const signal = init.signal ?? undefined;
  signal?.throwIfAborted();
  return await new Promise<Response>((resolve, reject) => {
    const options = {
      method: init.method ?? "GET",
      headers,
      ...(url.protocol === "https:" && ca ? { ca } : {}),
    };
    const req = (url.protocol === "https:" ? net.httpsRequest : net.httpRequest)(
      url,
      options,
      (res: IncomingMessage) => resolve(_response(res, init.method ?? "GET", signal)),
    );
    const onAbort = () =>
      req.destroy(signal?.reason instanceof Error ? signal.reason : new Error("aborted"));
    signal?.addEventListener("abort", onAbort, { once: true });
    req.once("error", (e) => reject(new TypeError(`fetch failed: ${e.message}`, { cause: e })));
    req.once("close", () => signal?.removeEventListener("abort", onAbort));
    if (body === undefined) req.end();
    else if (body instanceof Uint8Array) req.end(body);
    else {
      (async () => {
        const reader = body.getReader();
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            if (!req.write(value)) await new Promise((r) => req.once("drain", r));
          }
          req.end();
        } catch (e) {
          req.destroy(e as Error);
        }
      })();
    }
  });
}

function _response(
  res: IncomingMessage,
  method: string,
  signal: AbortSignal | undefined,
): Response {
  const headers = new Headers();
  for (const [k, v] of Object.entries(res.headers)) {
    if (Array.isArray(v)) v.forEach((x) => headers.append(k, x));
    else if (v !== undefined) headers.set(k, v);
  }
  const status = res.statusCode ?? 502;
  if (method === "HEAD" || NULL_BODY.has(status)) {
    res.resume();
    return new Response(null, { status, statusText: res.statusMessage ?? "", headers });
  }
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      res.on("data", (d: Uint8Array) => {
        controller.enqueue(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
        if ((controller.desiredSize ?? 1) <= 0) res.pause();
      });
      let ended = false;
      res.once("end", () => {
        ended = true;
        controller.close();
      });
      res.once("close", () => {
        if (!ended) controller.error(new TypeError("terminated: connection closed"));
      });
      res.once(
        "error",
        (e) => controller.error(new TypeError(`terminated: ${e.message}`, { cause: e })),
      );
      res.once("aborted", () => controller.error(new TypeError("terminated: connection reset")));
      signal?.addEventListener("abort", () => res.destroy(), { once: true });
    },
    pull() {
      res.resume();
    },
    cancel() {
      res.destroy();
    },
  }, { highWaterMark: 4 });
  return new Response(stream, { status, statusText: res.statusMessage ?? "", headers });
}

async function _bodyBytesOrStream(
  body: BodyInit | null | undefined,
): Promise<Uint8Array | ReadableStream<Uint8Array> | undefined> {
  if (body === undefined || body === null) return undefined;
  if (body instanceof ReadableStream) return body as ReadableStream<Uint8Array>;
  if (body instanceof Uint8Array) return body;
  return new Uint8Array(await new Response(body).arrayBuffer());
}
