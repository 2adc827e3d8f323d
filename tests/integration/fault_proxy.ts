/**
 * Test harness: an HTTP proxy that sits between a registry client and a real registry and
 * breaks things on purpose — a 500, a 429 with `Retry-After`, a request body cut off halfway
 * (the registry sees a partial PATCH), a response cut off halfway (or, for body-less answers,
 * the connection dropped after the registry did the work), slow answers, and answers slower than
 * the client's timeout. Which request gets which fault is decided by a function of the request
 * number and the request, so tests are deterministic. The `Host` header is passed through, so
 * the registry's `Location`s point back at the proxy.
 *
 * @module
 */
import { createServer, request as httpRequest, type Server } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** What the proxy does to one request. */
export type Fault =
  | "none"
  | "500"
  | "429"
  | "cut-request"
  | "cut-response"
  | "slow"
  | "stall";

/** Options for {@linkcode startFaultProxy}. */
export interface FaultProxyOptions {
  /** The registry behind the proxy, `host:port`. */
  target: string;
  /** Decides the fault for request number `n` (from 0). Default: none. */
  plan?: (n: number, method: string, path: string) => Fault;
  /** Delay of `slow` answers, ms (default 300). */
  slowMs?: number;
  /** Delay of `stall` answers, ms (default 3000): longer than the client's timeout. */
  stallMs?: number;
  /** Rewrite absolute `Location` headers to relative ones (`/v2/…`), as some registries send. */
  relativeLocations?: boolean;
  /** Add `OCI-Chunk-Min-Length: N` to the answers that start an upload session. */
  chunkMinLength?: number;
}

/** One request that passed through the proxy. */
export interface ProxiedRequest {
  /** HTTP method. */
  method: string;
  /** Path and query. */
  path: string;
  /** The request's `Content-Length`, if it had one. */
  contentLength?: number;
  /** The fault applied. */
  fault: Fault;
}

/** A running proxy. */
export interface FaultProxy {
  /** `127.0.0.1:PORT`. */
  host: string;
  /** How many requests got each fault. */
  counts: Record<Fault, number>;
  /** Every request, in arrival order. */
  log: ProxiedRequest[];
  /** Replaces the fault plan. */
  setPlan(plan: (n: number, method: string, path: string) => Fault): void;
  /** Stops the proxy. */
  stop(): Promise<void>;
}

/**
 * Starts the proxy on a free loopback port.
 *
 * @param options Target and fault plan.
 * @returns The running proxy.
 *
 * @example
 * ```ts
 * const proxy = await startFaultProxy({ target: registry.host, plan: (n) => n % 5 === 1 ? "500" : "none" });
 * ```
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  let plan = options.plan ?? (() => "none" as Fault);
  const counts: Record<Fault, number> = {
    none: 0,
    "500": 0,
    "429": 0,
    "cut-request": 0,
    "cut-response": 0,
    slow: 0,
    stall: 0,
  };
  const sockets = new Set<Socket>();
  const log: ProxiedRequest[] = [];
  let n = 0;
  const [targetHost, targetPort] = options.target.split(":") as [string, string];
  const server: Server = createServer((req, res) => {
    const fault = plan(n++, req.method ?? "GET", req.url ?? "/");
    counts[fault]++;
    const length = req.headers["content-length"];
    log.push({
      method: req.method ?? "GET",
      path: req.url ?? "/",
      ...(length === undefined ? {} : { contentLength: Number(length) }),
      fault,
    });
    _handle(req, res, fault).catch(() => res.destroy());
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });

  const _handle = async (req: IncomingMessage, res: ServerResponse, fault: Fault) => {
    if (fault === "500" || fault === "429") {
      await _drain(req);
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (fault === "429") headers["retry-after"] = "1";
      res.writeHead(fault === "500" ? 500 : 429, headers);
      res.end(JSON.stringify({
        errors: [{
          code: fault === "500" ? "UNKNOWN" : "TOOMANYREQUESTS",
          message: "injected fault",
        }],
      }));
      return;
    }
    if (fault === "slow" || fault === "stall") {
      await new Promise((r) =>
        setTimeout(r, fault === "slow" ? options.slowMs ?? 300 : options.stallMs ?? 3000)
      );
      if (req.destroyed) return;
    }
    const upstream = httpRequest({
      host: targetHost,
      port: Number(targetPort),
      method: req.method,
      path: req.url,
      headers: req.headers,
    });
    upstream.on("error", () => res.destroy());
    if (fault === "cut-request") {
      // Forward about half of the body, then drop both connections.
      const length = Number(req.headers["content-length"] ?? 0);
      let sent = 0;
      req.on("data", (chunk: Uint8Array) => {
        if (sent >= length / 2) return;
        const part = chunk.subarray(0, Math.max(1, Math.ceil(length / 2) - sent));
        sent += part.byteLength;
        upstream.write(part);
        if (sent >= length / 2) {
          upstream.destroy();
          req.socket.destroy();
        }
      });
      req.on("end", () => {
        upstream.destroy();
        req.socket.destroy();
      });
      return;
    }
    req.pipe(upstream);
    upstream.on("response", (up) => {
      if (fault === "cut-response") {
        const length = Number(up.headers["content-length"] ?? 0);
        if (length < 2 || req.method === "HEAD") {
          // Nothing to cut in half: the registry did the work, the client never hears of it.
          up.resume();
          up.on("end", () => req.socket.destroy());
          return;
        }
        res.writeHead(up.statusCode ?? 502, up.headers);
        let sent = 0;
        up.on("data", (chunk: Uint8Array) => {
          if (sent >= length / 2) return;
          const part = chunk.subarray(0, Math.max(1, Math.ceil(length / 2) - sent));
          sent += part.byteLength;
          res.write(part);
          if (sent >= length / 2) {
            up.destroy();
            // Let the partial body reach the client before the connection goes.
            setTimeout(() => req.socket.destroy(), 20);
          }
        });
        return;
      }
      const headers = { ...up.headers };
      if (options.relativeLocations && typeof headers.location === "string") {
        headers.location = headers.location.replace(/^https?:\/\/[^/]+/, "");
      }
      if (
        options.chunkMinLength !== undefined && req.method === "POST" && up.statusCode === 202
      ) {
        headers["oci-chunk-min-length"] = String(options.chunkMinLength);
      }
      res.writeHead(up.statusCode ?? 502, headers);
      up.pipe(res);
    });
  };

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    host: `127.0.0.1:${port}`,
    counts,
    log,
    setPlan(p) {
      plan = p;
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

function _drain(req: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    req.resume();
    req.once("end", () => resolve());
    req.once("error", () => resolve());
    req.once("close", () => resolve());
  });
}
