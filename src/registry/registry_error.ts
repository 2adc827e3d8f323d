/**
 * Registry failures as one-line messages a user can act on: which registry, which operation,
 * the HTTP status and the registry's own error code (`MANIFEST_UNKNOWN`, `UNAUTHORIZED`,
 * `DENIED`, `TOOMANYREQUESTS`…), plus a hint. {@linkcode RegistryError} keeps status and codes as
 * fields, so callers (push's "blob already there?", mount fallbacks) can branch on them instead
 * of parsing text. Response bodies are never echoed whole, and nothing secret goes into a message.
 *
 * @module
 */
import { PycontainerError } from "../errors.ts";
import { describeNetworkError, networkErrorKind } from "./network_error.ts";

/** A failed registry operation. */
export class RegistryError extends PycontainerError {
  /** The registry (as shown to the user). */
  readonly registry: string;
  /** The operation, e.g. `get manifest library/python:3.11-slim`. */
  readonly operation: string;
  /** HTTP status, when the registry answered. */
  readonly status: number | undefined;
  /** Registry error codes from the response body, e.g. `["MANIFEST_UNKNOWN"]`. */
  readonly codes: string[];

  /**
   * Makes the error; messages come from {@linkcode errorFromResponse} and {@linkcode errorFromNetwork}.
   *
   * @param message One line.
   * @param details Registry, operation, status, codes, hint and cause.
   */
  constructor(
    message: string,
    details: {
      registry: string;
      operation: string;
      status?: number;
      codes?: string[];
      hint?: string | undefined;
      cause?: unknown;
    },
  ) {
    super(message, {
      ...(details.hint === undefined ? {} : { hint: details.hint }),
      ...(details.cause === undefined ? {} : { cause: details.cause }),
    });
    this.name = "RegistryError";
    this.registry = details.registry;
    this.operation = details.operation;
    this.status = details.status;
    this.codes = details.codes ?? [];
  }
}

/** The hint shown whenever a registry cannot be reached. */
export const UNREACHABLE_HINT: string =
  "check the host name, port and your network/proxy; for Docker Hub images, use a mirror with " +
  "--registry-mirror HOST[:PORT] or PYCONTAINER_REGISTRY_MIRROR";

/**
 * Builds the error for an unexpected HTTP response, reading (and consuming) a bounded part of
 * its body for the registry's error codes.
 *
 * @param response The response.
 * @param registry The registry as shown to the user.
 * @param operation What was attempted.
 * @returns The error, to be thrown.
 *
 * @example
 * ```ts
 * import { errorFromResponse } from "./registry_error.ts";
 * const body = JSON.stringify({ errors: [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown" }] });
 * const e = await errorFromResponse(new Response(body, { status: 404 }), "localhost:5000", "get manifest x:1");
 * console.assert(e.codes[0] === "MANIFEST_UNKNOWN" && e.message.includes("HTTP 404"));
 * ```
 */
export async function errorFromResponse(
  response: Response,
  registry: string,
  operation: string,
): Promise<RegistryError> {
  const text = await _readSome(response, 64 * 1024);
  const { codes, detail } = _parseErrorBody(text, response.headers.get("content-type"));
  const status = response.status;
  const codeText = codes.length ? ` ${codes.join(", ")}` : "";
  const message = `registry ${registry}: ${operation} failed: HTTP ${status}${codeText}` +
    (detail ? ` (${detail})` : "");
  return new RegistryError(message, {
    registry,
    operation,
    status,
    codes,
    hint: _hint(status, codes, registry),
  });
}

/**
 * Builds the error for a request that got no response (refused, unknown host, reset, timeout).
 *
 * @param cause The error `fetch` threw.
 * @param registry The registry as shown to the user.
 * @param operation What was attempted.
 * @param host The host actually contacted, when it differs from the registry name.
 * @returns The error, to be thrown.
 *
 * @example
 * ```ts
 * import { errorFromNetwork } from "./registry_error.ts";
 * const e = errorFromNetwork(Object.assign(new TypeError("x"), { code: "ECONNREFUSED" }), "localhost:1", "get manifest x");
 * console.assert(e.message.startsWith("cannot reach registry localhost:1"));
 * ```
 */
export function errorFromNetwork(
  cause: unknown,
  registry: string,
  operation: string,
  host?: string,
): RegistryError {
  const kind = networkErrorKind(cause);
  const where = host && !registry.startsWith(host) ? `${registry} at ${host}` : registry;
  const why = describeNetworkError(cause);
  const hint = kind === "tls"
    ? `if ${registry} uses a private CA, pass --ca-file CA.pem (or set PYCONTAINER_CA_FILE); ` +
      `if it uses plain HTTP, pass --insecure-registry ${registry}`
    : kind === "timeout" || kind === "reset"
    ? `the connection to ${registry} kept failing; retry later. ${UNREACHABLE_HINT}`
    : UNREACHABLE_HINT;
  return new RegistryError(`cannot reach registry ${where} (${operation}): ${why}`, {
    registry,
    operation,
    hint,
    cause,
  });
}

function _hint(status: number, codes: string[], registry: string): string | undefined {
  if (status === 401 || codes.includes("UNAUTHORIZED")) {
    return `log in to ${registry} (add its credentials to ~/.docker/config.json, e.g. with docker login ${registry}) or check them`;
  }
  if (status === 403 || codes.includes("DENIED")) {
    return `your credentials for ${registry} don't allow this; check the repository name and your permissions`;
  }
  if (status === 429 || codes.includes("TOOMANYREQUESTS")) {
    return `${registry} is rate-limiting; log in, wait, or pull through a mirror with --registry-mirror`;
  }
  if (codes.includes("NAME_UNKNOWN") || codes.includes("MANIFEST_UNKNOWN")) {
    return "check the repository name and tag";
  }
  if (status >= 500) return `${registry} is having trouble; retry later`;
  return undefined;
}

function _parseErrorBody(
  text: string,
  contentType: string | null,
): { codes: string[]; detail?: string } {
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) {
    try {
      const json = JSON.parse(trimmed) as { errors?: { code?: unknown; message?: unknown }[] };
      const errors = Array.isArray(json.errors) ? json.errors : [];
      const codes = errors.map((e) => e.code).filter((c): c is string => typeof c === "string");
      const messages = errors.map((e) => e.message).filter((m): m is string =>
        typeof m === "string" && m !== ""
      );
      return messages.length ? { codes, detail: _oneLine(messages.join("; ")) } : { codes };
    } catch {
      // fall through: not JSON after all
    }
  }
  if (trimmed === "") return { codes: [] };
  const type = (contentType ?? "").split(";")[0]!.trim();
  if (/html/i.test(type) || /^<!doctype html|^<html/i.test(trimmed)) {
    return {
      codes: [],
      detail: "the response is an HTML page, not a registry API answer; is this really a registry?",
    };
  }
  return { codes: [], detail: _oneLine(trimmed) };
}

function _oneLine(s: string): string {
  const line = s.replace(/\s+/g, " ").trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

async function _readSome(response: Response, limit: number): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // a broken error body still gives us the status
  } finally {
    await reader.cancel().catch(() => {});
  }
  const all = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    all.set(c, offset);
    offset += c.byteLength;
  }
  return new TextDecoder().decode(all.subarray(0, limit));
}
