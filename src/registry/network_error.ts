/**
 * Recognising network failures across runtimes. `fetch` fails with a `TypeError` everywhere,
 * but the detail lives in different places: Node (undici) puts an errno `code` on `cause`,
 * Bun puts it on the error itself, Deno only says it in the message text. This maps all of them
 * to a few kinds the registry client acts on: retry resets and timeouts, report refused
 * connections and unknown hosts at once with a useful hint.
 *
 * @module
 */

/** What kind of network failure an error is. */
export type NetworkErrorKind = "refused" | "dns" | "reset" | "timeout" | "tls" | "other";

/**
 * Classifies an error thrown by `fetch` or by reading a response body.
 *
 * @param error The thrown value.
 * @returns Its kind, or undefined when it is not a network error (e.g. a PycontainerError).
 *
 * @example
 * ```ts
 * import { networkErrorKind } from "./network_error.ts";
 * const e = new TypeError("fetch failed", { cause: Object.assign(new Error("x"), { code: "ECONNREFUSED" }) });
 * console.assert(networkErrorKind(e) === "refused");
 * ```
 */
export function networkErrorKind(error: unknown): NetworkErrorKind | undefined {
  if (!(error instanceof Error)) return undefined;
  if (error.name === "TimeoutError") return "timeout";
  if (error.name === "AbortError") return "timeout";
  if (!(error instanceof TypeError) && !_hasCode(error)) return undefined;
  const text = _describe(error);
  if (/ECONNREFUSED|Connection refused|ConnectionRefused/i.test(text)) return "refused";
  if (
    /ENOTFOUND|EAI_AGAIN|EAI_NONAME|dns error|failed to lookup|getaddrinfo|Name or service not known/i
      .test(text)
  ) return "dns";
  if (
    /ETIMEDOUT|timed out|UND_ERR_CONNECT_TIMEOUT|UND_ERR_HEADERS_TIMEOUT|TimeoutError/i.test(text)
  ) return "timeout";
  if (/certificate|CERT_|SSL|TLS|handshake/i.test(text)) return "tls";
  if (
    /ECONNRESET|EPIPE|UND_ERR_SOCKET|other side closed|connection closed|socket connection was closed|reading a body|terminated|broken pipe|connection reset|ECONNABORTED|unexpected end|premature close/i
      .test(text)
  ) return "reset";
  return error instanceof TypeError ? "other" : undefined;
}

/**
 * A short, secret-free description of a network error for messages: the errno code when there
 * is one, else the innermost message.
 *
 * @param error The thrown value.
 * @returns E.g. `ECONNREFUSED` or `connection refused`.
 *
 * @example
 * ```ts
 * import { describeNetworkError } from "./network_error.ts";
 * console.assert(describeNetworkError(Object.assign(new TypeError("x"), { code: "ENOTFOUND" })) === "ENOTFOUND");
 * ```
 */
export function describeNetworkError(error: unknown): string {
  let e: unknown = error;
  for (let depth = 0; e instanceof Error && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && code !== "") return code;
    e = (e as { cause?: unknown }).cause;
  }
  switch (networkErrorKind(error)) {
    case "refused":
      return "connection refused";
    case "dns":
      return "host not found";
    case "timeout":
      return "timed out";
    case "reset":
      return "connection reset";
    case "tls":
      return "TLS error";
    default:
      return error instanceof Error ? error.message.slice(0, 200) : String(error);
  }
}

function _hasCode(e: Error): boolean {
  return typeof (e as { code?: unknown }).code === "string";
}

function _describe(error: unknown): string {
  const parts: string[] = [];
  let e: unknown = error;
  for (let depth = 0; e instanceof Error && depth < 5; depth++) {
    parts.push(e.name, e.message, String((e as { code?: unknown }).code ?? ""));
    for (const inner of (e as { errors?: unknown[] }).errors ?? []) {
      if (inner instanceof Error) {
        parts.push(inner.message, String((inner as { code?: unknown }).code ?? ""));
      }
    }
    e = (e as { cause?: unknown }).cause;
  }
  return parts.join(" ");
}
