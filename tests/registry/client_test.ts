import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { describeBytes } from "../../src/oci/digest.ts";
import { MediaType } from "../../src/oci/media_types.ts";
import { RegistryClient } from "../../src/registry/client.ts";
import type { Credential } from "../../src/registry/credentials.ts";
import { RegistryError } from "../../src/registry/registry_error.ts";
import { DigestMismatchError } from "../../src/store/verify_stream.ts";

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

/** A real HTTP server on 127.0.0.1 whose routes each test sets. */
async function serve(): Promise<
  { server: Server; host: string; port: number; routes: Map<string, Handler> }
> {
  const routes = new Map<string, Handler>();
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += String(d)));
    req.on("end", () => {
      const path = (req.url ?? "").split("?")[0]!;
      const handler = routes.get(path);
      if (handler) handler(req, res, body);
      else {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            errors: [{ code: "NAME_UNKNOWN", message: "repository name not known to registry" }],
          }),
        );
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as AddressInfo).port;
  return { server, host: `127.0.0.1:${port}`, port, routes };
}

let a: Awaited<ReturnType<typeof serve>>;
let b: Awaited<ReturnType<typeof serve>>;
before(async () => {
  a = await serve();
  b = await serve();
});
after(async () => {
  for (const s of [a, b]) {
    s.server.closeAllConnections();
    await new Promise((r) => s.server.close(r));
  }
});

const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const manifest = enc({
  schemaVersion: 2,
  mediaType: MediaType.ociManifest,
  config: describeBytes(enc({}), MediaType.ociConfig),
  layers: [],
});
const manifestDigest = describeBytes(manifest, MediaType.ociManifest).digest;
const none = { get: () => Promise.resolve(undefined) };
const creds = (c: Credential) => ({ get: () => Promise.resolve(c) });
const fast = { baseDelayMs: 1, credentials: none };

function sendManifest(res: ServerResponse, extra: Record<string, string> = {}) {
  res.writeHead(200, {
    "content-type": MediaType.ociManifest,
    "docker-content-digest": manifestDigest,
    ...extra,
  });
  res.end(manifest);
}

test("getManifest() retries 503 and 429 (honouring Retry-After) and verifies the digest", async () => {
  const statuses: number[] = [];
  a.routes.set("/v2/flaky/app/manifests/1", (_req, res) => {
    const n = statuses.length;
    if (n === 0) {
      statuses.push(503);
      res.writeHead(503).end();
    } else if (n === 1) {
      statuses.push(429);
      res.writeHead(429, { "retry-after": "0" }).end();
    } else {
      statuses.push(200);
      sendManifest(res);
    }
  });
  const retries: string[] = [];
  const client = new RegistryClient({
    ...fast,
    onEvent: (e) => e.type === "retry" && retries.push(e.reason),
  });
  const got = await client.getManifest({ registry: a.host, repository: "flaky/app" }, "1");
  assert.equal(got.digest, manifestDigest);
  assert.equal(got.document.kind, "manifest");
  assert.deepEqual(statuses, [503, 429, 200]);
  assert.deepEqual(retries, ["HTTP 503", "HTTP 429"]);
});

test("getManifest() gives up after its attempts with status and registry error code", async () => {
  let hits = 0;
  a.routes.set("/v2/down/app/manifests/1", (_req, res) => {
    hits++;
    res.writeHead(503, { "content-type": "application/json" });
    res.end(JSON.stringify({ errors: [{ code: "UNAVAILABLE", message: "service unavailable" }] }));
  });
  await assert.rejects(
    new RegistryClient({ ...fast, attempts: 3 }).getManifest({
      registry: a.host,
      repository: "down/app",
    }, "1"),
    (e: unknown) => {
      assert.ok(e instanceof RegistryError);
      assert.equal(
        e.message,
        `registry ${a.host}: get manifest down/app:1 failed: HTTP 503 UNAVAILABLE (service unavailable)`,
      );
      assert.equal(e.status, 503);
      assert.deepEqual(e.codes, ["UNAVAILABLE"]);
      assert.match(e.hint ?? "", /retry later/);
      return true;
    },
  );
  assert.equal(hits, 3);
});

test("getManifest() says so when a registry answers with an HTML page", async () => {
  a.routes.set("/v2/html/app/manifests/1", (_req, res) => {
    res.writeHead(400, { "content-type": "text/html" });
    res.end("<!DOCTYPE html><html><body>Login required</body></html>");
  });
  await assert.rejects(
    new RegistryClient(fast).getManifest({ registry: a.host, repository: "html/app" }, "1"),
    /HTTP 400 \(the response is an HTML page, not a registry API answer; is this really a registry\?\)$/,
  );
});

test("getManifest() rejects a manifest whose digest differs from the one asked for", async () => {
  a.routes.set(
    "/v2/lying/app/manifests/" + "sha256:" + "0".repeat(64),
    (_req, res) => sendManifest(res),
  );
  await assert.rejects(
    new RegistryClient(fast).getManifest(
      { registry: a.host, repository: "lying/app" },
      "sha256:" + "0".repeat(64),
    ),
    new RegExp(`manifest lying/app@sha256:0+ has digest ${manifestDigest}, expected sha256:0+$`),
  );
});

test("a Bearer challenge gets an anonymous token from the realm, cached per scope", async () => {
  const tokenRequests: {
    scope: string | null;
    service: string | null;
    auth: string | undefined;
  }[] = [];
  a.routes.set("/token", (req, res) => {
    const url = new URL(req.url!, "http://x");
    tokenRequests.push({
      scope: url.searchParams.get("scope"),
      service: url.searchParams.get("service"),
      auth: req.headers.authorization,
    });
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ token: `tok-${url.searchParams.get("scope")}`, expires_in: 300 }));
  });
  const challenge = `Bearer realm="http://${a.host}/token",service="test-registry"`;
  a.routes.set("/v2/tok/app/manifests/1", (req, res) => {
    if (req.headers.authorization !== "Bearer tok-repository:tok/app:pull") {
      res.writeHead(401, { "www-authenticate": `${challenge},scope="repository:tok/app:pull"` });
      res.end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED" }] }));
      return;
    }
    sendManifest(res);
  });
  const client = new RegistryClient(fast);
  await client.getManifest({ registry: a.host, repository: "tok/app" }, "1");
  await client.getManifest({ registry: a.host, repository: "tok/app" }, "1");
  assert.deepEqual(tokenRequests, [{
    scope: "repository:tok/app:pull",
    service: "test-registry",
    auth: undefined,
  }]);
});

test("token requests carry Basic credentials, or POST an identity token", async () => {
  const seen: { method: string; auth?: string; body: string }[] = [];
  a.routes.set("/token2", (req, res, body) => {
    seen.push({
      method: req.method!,
      ...(req.headers.authorization ? { auth: req.headers.authorization } : {}),
      body,
    });
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ access_token: "granted" }));
  });
  a.routes.set("/v2/priv/app/manifests/1", (req, res) => {
    if (req.headers.authorization !== "Bearer granted") {
      res.writeHead(401, {
        "www-authenticate": `Bearer realm="http://${a.host}/token2",service="svc"`,
      }).end();
      return;
    }
    sendManifest(res);
  });
  const repo = { registry: a.host, repository: "priv/app" };
  await new RegistryClient({
    ...fast,
    credentials: creds({ kind: "basic", username: "me", password: "s3cret", source: "test" }),
  }).getManifest(repo, "1");
  await new RegistryClient({
    ...fast,
    credentials: creds({ kind: "identityToken", token: "refresh-abc", source: "test" }),
  }).getManifest(repo, "1");
  assert.equal(seen[0]!.method, "GET");
  assert.equal(seen[0]!.auth, `Basic ${btoa("me:s3cret")}`);
  assert.equal(seen[1]!.method, "POST");
  assert.equal(seen[1]!.auth, undefined);
  const form = new URLSearchParams(seen[1]!.body);
  assert.equal(form.get("grant_type"), "refresh_token");
  assert.equal(form.get("refresh_token"), "refresh-abc");
  assert.equal(form.get("service"), "svc");
  assert.equal(form.get("scope"), "repository:priv/app:pull");
});

test("a refused token request names the credential source, never the secret", async () => {
  a.routes.set("/token3", (_req, res) => {
    res.writeHead(401, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        errors: [{ code: "UNAUTHORIZED", message: "incorrect username or password" }],
      }),
    );
  });
  a.routes.set("/v2/deny/app/manifests/1", (_req, res) => {
    res.writeHead(401, {
      "www-authenticate": `Bearer realm="http://${a.host}/token3",service="svc"`,
    }).end();
  });
  await assert.rejects(
    new RegistryClient({
      ...fast,
      credentials: creds({ kind: "basic", username: "me", password: "hunter2", source: "test" }),
    })
      .getManifest({ registry: a.host, repository: "deny/app" }, "1"),
    (e: unknown) => {
      assert.ok(e instanceof RegistryError);
      assert.equal(
        e.message,
        `registry ${a.host}: get auth token from ${a.host} failed: HTTP 401 UNAUTHORIZED (incorrect username or password)`,
      );
      assert.match(e.hint ?? "", /from test were refused/);
      assert.ok(!JSON.stringify([e.message, e.hint]).includes("hunter2"));
      return true;
    },
  );
});

test("blob redirects to another host drop the Authorization header", async () => {
  const blob = new TextEncoder().encode("layer bytes");
  const d = describeBytes(blob, MediaType.ociLayerGzip);
  const seenByStorage: (string | undefined)[] = [];
  const seenSameHost: (string | undefined)[] = [];
  a.routes.set(`/v2/redir/app/blobs/${d.digest}`, (req, res) => {
    if (!req.headers.authorization) {
      res.writeHead(401, { "www-authenticate": 'Basic realm="r"' }).end();
      return;
    }
    res.writeHead(307, { location: `http://localhost:${b.port}/storage/blob?X-Signature=abc` })
      .end();
  });
  b.routes.set("/storage/blob", (req, res) => {
    seenByStorage.push(req.headers.authorization);
    res.writeHead(200).end(blob);
  });
  a.routes.set(`/v2/same/app/blobs/${d.digest}`, (req, res) => {
    if (!req.headers.authorization) {
      res.writeHead(401, { "www-authenticate": 'Basic realm="r"' }).end();
      return;
    }
    res.writeHead(302, { location: "/internal/blob" }).end();
  });
  a.routes.set("/internal/blob", (req, res) => {
    seenSameHost.push(req.headers.authorization);
    res.writeHead(200).end(blob);
  });
  const client = new RegistryClient({
    ...fast,
    credentials: creds({ kind: "basic", username: "u", password: "p", source: "test" }),
  });
  const text = await new Response(
    await client.fetchBlob({ registry: a.host, repository: "redir/app" }, d),
  ).text();
  assert.equal(text, "layer bytes");
  assert.deepEqual(seenByStorage, [undefined]);
  await new Response(await client.fetchBlob({ registry: a.host, repository: "same/app" }, d))
    .text();
  assert.deepEqual(seenSameHost, [`Basic ${btoa("u:p")}`]);
});

test("fetchBlob() streams are verified against the descriptor", async () => {
  const d = describeBytes(new TextEncoder().encode("the real layer"), MediaType.ociLayerGzip);
  a.routes.set(
    `/v2/bad/app/blobs/${d.digest}`,
    (_req, res) => res.writeHead(200).end("a fake layer!!"),
  );
  const stream = await new RegistryClient(fast).fetchBlob({
    registry: a.host,
    repository: "bad/app",
  }, d);
  await assert.rejects(new Response(stream).arrayBuffer(), (e: unknown) => {
    assert.ok(e instanceof DigestMismatchError);
    assert.match(
      e.message,
      new RegExp(`^blob ${d.digest} from registry ${a.host} is corrupt: content has digest`),
    );
    return true;
  });
});

test("a request that gets no answer times out and names the registry", async () => {
  let hits = 0;
  a.routes.set("/v2/slow/app/manifests/1", () => {
    hits++; // never answers
  });
  const started = Date.now();
  await assert.rejects(
    new RegistryClient({ ...fast, timeoutMs: 150, attempts: 2 }).getManifest({
      registry: a.host,
      repository: "slow/app",
    }, "1"),
    (e: unknown) => {
      assert.ok(e instanceof RegistryError);
      assert.match(
        e.message,
        new RegExp(`^cannot reach registry ${a.host} \\(get manifest slow/app:1\\): `),
      );
      assert.match(e.message, /timed out|no response within 150 ms|TimeoutError|23/);
      return true;
    },
  );
  assert.equal(hits, 2, "a timeout is retried");
  assert.ok(Date.now() - started < 3000);
});

test("a body that stalls fails after the idle timeout", async () => {
  const d = describeBytes(new Uint8Array(1000), MediaType.ociLayerGzip);
  a.routes.set(`/v2/stall/app/blobs/${d.digest}`, (_req, res) => {
    res.writeHead(200, { "content-length": "1000" });
    res.write(new Uint8Array(10)); // then nothing
  });
  const stream = await new RegistryClient({ ...fast, timeoutMs: 200 }).fetchBlob({
    registry: a.host,
    repository: "stall/app",
  }, d);
  const started = Date.now();
  await assert.rejects(new Response(stream).arrayBuffer());
  assert.ok(Date.now() - started < 3000);
});

test("a connection reset is retried", async () => {
  let hits = 0;
  a.routes.set("/v2/reset/app/manifests/1", (req, res) => {
    if (++hits === 1) req.socket.destroy();
    else sendManifest(res);
  });
  const got = await new RegistryClient(fast).getManifest({
    registry: a.host,
    repository: "reset/app",
  }, "1");
  assert.equal(got.digest, manifestDigest);
  assert.equal(hits, 2);
});
