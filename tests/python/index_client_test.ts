import { test } from "node:test";
import assert from "node:assert/strict";
import { IndexClient, type IndexEvent } from "../../src/python/index_client.ts";
import { indexesFromConfig } from "../../src/python/index_config.ts";
import { PycontainerError } from "../../src/errors.ts";
import {
  hasRealIndex,
  type IndexServerOptions,
  realIndexDir,
  startIndexServer,
  syntheticWheel,
} from "./_index_server.ts";

const DEMO = [
  syntheticWheel({ name: "demo", version: "1.0", requires: ["idna>=3"], requiresPython: ">=3.8" }),
  syntheticWheel({
    name: "demo",
    version: "2.0",
    requires: ["idna>=3", "six; extra == 'x'"],
    extras: ["x"],
  }),
  syntheticWheel({ name: "idna", version: "3.7" }),
];

async function withIndex(
  options: IndexServerOptions,
  fn: (
    server: Awaited<ReturnType<typeof startIndexServer>>,
    client: (extra?: Partial<ConstructorParameters<typeof IndexClient>[0]>) => IndexClient,
  ) => Promise<void>,
): Promise<void> {
  const server = await startIndexServer({ files: DEMO, ...options });
  try {
    await fn(server, (extra = {}) =>
      new IndexClient({
        indexes: indexesFromConfig(undefined, {}, { indexUrl: server.url }),
        netrc: false,
        baseDelayMs: 1,
        ...extra,
      }));
  } finally {
    await server.close();
  }
}

test("IndexClient.projectFiles() reads the JSON API and caches pages per run", async () => {
  await withIndex({ format: "negotiate" }, async (server, client) => {
    const events: IndexEvent[] = [];
    const c = client({ onEvent: (e) => events.push(e) });
    const p = await c.projectFiles("Demo");
    assert.equal(p?.name, "demo");
    assert.equal(p?.index.url, server.url);
    assert.deepEqual(p?.files.map((f) => f.filename).sort(), [
      "demo-1.0-py3-none-any.whl",
      "demo-2.0-py3-none-any.whl",
    ]);
    const one = p!.files.find((f) => f.filename.startsWith("demo-1.0"))!;
    assert.equal(one.hashes.sha256, server.sha256.get(one.filename));
    assert.equal(one.requiresPython, ">=3.8");
    assert.ok(one.size! > 0);
    await c.projectFiles("DEMO");
    assert.equal(server.hits.filter((h) => h.path === "/simple/demo/").length, 1, "cached");
    assert.deepEqual(
      events.filter((e) => e.kind === "page").map((e) => (e as { format: string }).format),
      ["json"],
    );
    assert.equal(await c.projectFiles("missing-project"), undefined);
  });
});

test("IndexClient falls back to PEP 503 HTML and reads the same data", async () => {
  await withIndex(
    { format: "html", yanked: { "demo-1.0-py3-none-any.whl": "oops" } },
    async (server, client) => {
      const events: IndexEvent[] = [];
      const p = await client({ onEvent: (e) => events.push(e) }).projectFiles("demo");
      const one = p!.files.find((f) => f.filename.startsWith("demo-1.0"))!;
      assert.equal(one.hashes.sha256, server.sha256.get(one.filename));
      assert.equal(one.requiresPython, ">=3.8");
      assert.equal(one.yanked, "oops");
      assert.notEqual(one.coreMetadata, false);
      assert.equal((events[0] as { format: string }).format, "html");
    },
  );
});

test("IndexClient.coreMetadata() uses PEP 658 files and never downloads the wheel", async () => {
  await withIndex({}, async (server, client) => {
    const c = client();
    const p = await c.projectFiles("demo");
    const two = p!.files.find((f) => f.filename.startsWith("demo-2.0"))!;
    const md = await c.coreMetadata(two, { name: "demo", version: "2.0" });
    assert.deepEqual(md.requiresDist, ["idna>=3", "six; extra == 'x'"]);
    assert.deepEqual(md.providesExtra, ["x"]);
    const fileHits = server.hits.filter((h) => h.path.startsWith("/files/"));
    assert.deepEqual(fileHits.map((h) => h.path), [`/files/${two.filename}.metadata`]);
    assert.equal(c.stats.metadataFiles, 1);
  });
});

test("IndexClient.coreMetadata() reads the zip directory with range requests without PEP 658", async () => {
  await withIndex({ pep658: false }, async (server, client) => {
    const c = client();
    const p = await c.projectFiles("demo");
    const one = p!.files.find((f) => f.filename.startsWith("demo-1.0"))!;
    assert.equal(one.coreMetadata, false);
    const md = await c.coreMetadata(one, { name: "demo", version: "1.0" });
    assert.equal(md.requiresPython, ">=3.8");
    const fileHits = server.hits.filter((h) => h.path.startsWith("/files/"));
    assert.ok(
      fileHits.length >= 1 && fileHits.every((h) => h.range !== undefined && h.status === 206),
    );
    assert.equal(c.stats.fullDownloads, 0);
  });
});

test("IndexClient.coreMetadata() downloads the wheel when the server ignores ranges", async () => {
  await withIndex({ pep658: false, ranges: false }, async (_server, client) => {
    const c = client();
    const p = await c.projectFiles("demo");
    const one = p!.files.find((f) => f.filename.startsWith("demo-1.0"))!;
    assert.equal((await c.coreMetadata(one, { name: "demo", version: "1.0" })).version, "1.0");
    assert.equal(c.stats.fullDownloads, 1);
  });
});

test("IndexClient.coreMetadata() rejects metadata that is not the listed project", async () => {
  await withIndex({}, async (_server, client) => {
    const c = client();
    const p = await c.projectFiles("demo");
    const one = p!.files.find((f) => f.filename.startsWith("demo-1.0"))!;
    await assert.rejects(
      c.coreMetadata(one, { name: "demo", version: "1.1" }),
      (e: unknown) => e instanceof PycontainerError && /listed as 1\.1/.test(e.message),
    );
  });
});

test("IndexClient retries a 500 and then succeeds", async () => {
  await withIndex({ failOnce: ["/simple/demo/"] }, async (server, client) => {
    const events: IndexEvent[] = [];
    const p = await client({ onEvent: (e) => events.push(e) }).projectFiles("demo");
    assert.equal(p?.files.length, 2);
    assert.deepEqual(server.hits.filter((h) => h.path === "/simple/demo/").map((h) => h.status), [
      500,
      200,
    ]);
    assert.equal(events.filter((e) => e.kind === "retry").length, 1);
  });
});

test("IndexClient errors name the index host and the package, with a hint", async () => {
  await withIndex({ auth: { username: "u", password: "right" } }, async (server, client) => {
    const host = new URL(server.url).host;
    await assert.rejects(
      client().projectFiles("demo"),
      (e: unknown) =>
        e instanceof PycontainerError && e.message.includes(host) && e.message.includes("demo") &&
        /HTTP 401/.test(e.message) && /credentials/.test(e.hint ?? ""),
    );
  });
  const refused = new IndexClient({
    indexes: indexesFromConfig(undefined, {}, { indexUrl: "http://127.0.0.1:9/simple/" }),
    netrc: false,
    attempts: 1,
  });
  await assert.rejects(
    refused.projectFiles("flask"),
    (e: unknown) =>
      e instanceof PycontainerError && /127\.0\.0\.1:9/.test(e.message) && /flask/.test(e.message),
  );
});

test("IndexClient sends credentials to the index only, never to another host", async () => {
  // Files live on a second server (like a CDN); the index needs Basic auth.
  const cdn = await startIndexServer({ files: DEMO });
  try {
    await withIndex(
      { auth: { username: "alice", password: "s3cret" }, filesBase: `${cdn.origin}/files/` },
      async (server, client) => {
        const url = server.url.replace("http://", "http://alice:s3cret@");
        const c = client({ indexes: indexesFromConfig(undefined, {}, { indexUrl: url }) });
        const p = await c.projectFiles("demo");
        const one = p!.files.find((f) => f.filename.startsWith("demo-1.0"))!;
        assert.ok(one.url.startsWith(cdn.origin));
        await c.coreMetadata(one, { name: "demo", version: "1.0" });
        const { response } = await c.openUrl(one.url);
        await response.arrayBuffer();
        assert.ok(server.hits.every((h) => h.authorization?.startsWith("Basic ")));
        assert.ok(cdn.hits.length >= 2);
        assert.ok(
          cdn.hits.every((h) => h.authorization === undefined),
          "no credentials on the CDN",
        );
      },
    );
    // A redirect from the authenticated index to another host drops the Authorization header.
    await withIndex(
      { auth: { username: "alice", password: "s3cret" }, redirectFilesTo: `${cdn.origin}/files/` },
      async (server, client) => {
        const url = server.url.replace("http://", "http://alice:s3cret@");
        const c = client({ indexes: indexesFromConfig(undefined, {}, { indexUrl: url }) });
        const before = cdn.hits.length;
        const { response } = await c.openUrl(`${server.origin}/files/demo-1.0-py3-none-any.whl`);
        assert.equal(response.status, 200);
        await response.arrayBuffer();
        const redirected = server.hits.at(-1)!;
        assert.equal(redirected.status, 302);
        assert.ok(redirected.authorization !== undefined);
        assert.equal(cdn.hits.length, before + 1);
        assert.equal(cdn.hits.at(-1)!.authorization, undefined);
      },
    );
  } finally {
    await cdn.close();
  }
});

test("IndexClient takes --index-url / --extra-index-url / env like indexesFromConfig", () => {
  const c = new IndexClient({
    env: { PIP_EXTRA_INDEX_URL: "https://env.example/simple/" },
    indexUrl: "https://main.example/simple",
    extraIndexUrls: ["https://cli.example/simple/"],
  });
  assert.deepEqual(c.indexes.indexes.map((i) => i.url), [
    "https://cli.example/simple/",
    "https://env.example/simple/",
    "https://main.example/simple/",
  ]);
  assert.equal(new IndexClient({ env: {} }).indexes.indexes[0]!.url, "https://pypi.org/simple/");
});

test("IndexClient uses .netrc credentials for the index host", async () => {
  await withIndex({ auth: { username: "n", password: "from-netrc" } }, async (_server, client) => {
    const c = client({ netrc: [{ machine: "127.0.0.1", username: "n", password: "from-netrc" }] });
    assert.equal((await c.projectFiles("demo"))?.files.length, 2);
  });
});

test("IndexClient asks only the pinned index for a pinned package, first index wins otherwise", async () => {
  const other = await startIndexServer({
    files: [syntheticWheel({ name: "demo", version: "9.0" })],
  });
  try {
    await withIndex({}, async (server, client) => {
      const tool = {
        uv: {
          index: [
            { name: "other", url: other.url, explicit: true },
            { name: "main", url: server.url, default: true },
          ],
          sources: { demo: { index: "other" } },
        },
      };
      const c = client({ indexes: indexesFromConfig(tool, {}) });
      assert.deepEqual((await c.projectFiles("demo"))?.files.map((f) => f.filename), [
        "demo-9.0-py3-none-any.whl",
      ]);
      assert.equal((await c.projectFiles("idna"))?.index.url, server.url);
      assert.equal(other.hits.filter((h) => h.path === "/simple/idna/").length, 0, "explicit");
      const first = client({
        indexes: indexesFromConfig(undefined, {}, {
          indexUrl: server.url,
          extraIndexUrls: [other.url],
        }),
      });
      assert.equal((await first.projectFiles("demo"))?.index.url, other.url);
      assert.equal((await first.projectFiles("idna"))?.index.url, server.url);
    });
  } finally {
    await other.close();
  }
});

test("IndexClient reads METADATA of large real wheels by range requests only", async (t) => {
  if (!(await hasRealIndex())) {
    t.skip("run tests/fixtures/wheels_index/fetch.sh first");
    return;
  }
  const server = await startIndexServer({ dirs: [realIndexDir()], pep658: false });
  try {
    const c = new IndexClient({
      indexes: indexesFromConfig(undefined, {}, { indexUrl: server.url }),
      netrc: false,
    });
    for (const project of ["pydantic-core", "django", "uvloop"]) {
      const files = (await c.projectFiles(project))!.files;
      const wheel = files.find((f) => f.filename.endsWith(".whl"))!;
      const version = wheel.filename.split("-")[1]!;
      const md = await c.coreMetadata(wheel, { name: project, version });
      assert.equal(md.version, version);
      assert.ok(md.requiresPython, `${project} declares Requires-Python`);
      const hits = server.hits.filter((h) => h.path === `/files/${wheel.filename}`);
      assert.ok(hits.length >= 1 && hits.every((h) => h.status === 206), project);
    }
    assert.equal(c.stats.fullDownloads, 0);
  } finally {
    await server.close();
  }
});
