import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { DependencyIndex } from "../../src/build/dependency_index.ts";
import { redact } from "../../src/build/direct_reference.ts";
import { PycontainerError } from "../../src/errors.ts";
import { IndexClient } from "../../src/python/index_client.ts";
import { indexesFromConfig } from "../../src/python/index_config.ts";
import { markerEnvironmentFor } from "../../src/python/markers.ts";
import { resolve } from "../../src/python/resolver.ts";
import { compatibleTags } from "../../src/python/tags.ts";
import { type MemoryFile, startIndexServer, syntheticWheel } from "../python/_index_server.ts";

const PY = "3.11.7";
const tags = compatibleTags({
  pythonVersion: PY,
  arch: "amd64",
  libc: { family: "glibc", version: "2.36" },
});
const target = {
  markerEnv: markerEnvironmentFor({ pythonFullVersion: PY, arch: "amd64" }),
  tags,
  pythonFullVersion: PY,
};

const direct = syntheticWheel({ name: "pyco-direct", version: "2.0", requires: ["dep-a>=1"] });
const files: MemoryFile[] = [
  syntheticWheel({ name: "pyco-direct", version: "3.0" }),
  syntheticWheel({ name: "dep-a", version: "1.5" }),
  syntheticWheel({
    name: "dep-b",
    version: "1.0",
    requires: [`pyco-direct @ https://example.org/x.whl`],
  }),
];
const misnamed: MemoryFile = { filename: "other-2.0-py3-none-any.whl", bytes: direct.bytes };
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** A local index with the files above, a separate file server for the direct wheel, and a source over both. */
async function withSource(
  fn: (
    source: DependencyIndex,
    urls: { wheel: string; index: string },
    hits: () => string[],
  ) => Promise<void>,
): Promise<void> {
  const index = await startIndexServer({ files });
  const host = await startIndexServer({ files: [direct, misnamed] });
  const cacheDir = await mkdtemp(join(tmpdir(), "pycontainer-direct-"));
  try {
    const client = new IndexClient({
      indexes: indexesFromConfig(undefined, {}, { indexUrl: index.url }),
      netrc: false,
    });
    const source = new DependencyIndex({
      index: client,
      findLinks: [],
      tags,
      targetName: "linux/amd64",
      cacheDir,
      env: {},
      emit: () => {},
    });
    await fn(
      source,
      { wheel: `${host.origin}/files/${direct.filename}`, index: index.url },
      () => host.hits.map((h) => `${h.method} ${h.path}`),
    );
  } finally {
    await index.close();
    await host.close();
    await rm(cacheDir, { recursive: true, force: true });
  }
}

test("resolve() uses a direct wheel reference instead of the index, and its dependencies from the index", async () => {
  await withSource(async (source, urls) => {
    const r = await resolve({
      requirements: [`pyco-direct @ ${urls.wheel}`],
      target,
      index: source,
    });
    const pins = Object.fromEntries(r.packages.map((p) => [p.name, p.version]));
    assert.deepEqual(pins, { "pyco-direct": "2.0", "dep-a": "1.5" }, "not the index's 3.0");
    const p = r.packages.find((x) => x.name === "pyco-direct")!;
    assert.equal(p.wheel.url, urls.wheel);
    assert.equal(p.wheel.hashes["sha256"], sha(direct.bytes), "hashed once so a lock pins it");
    assert.equal(p.indexUrl, "");
  });
});

test("a direct reference with #sha256= is not downloaded to resolve it", async () => {
  await withSource(async (source, urls, hits) => {
    const hash = sha(direct.bytes);
    const file = await source.directFile("pyco-direct", `${urls.wheel}#sha256=${hash}`);
    assert.equal(file.hashes["sha256"], hash);
    assert.equal(file.url, urls.wheel, "the fragment is not part of the download URL");
    assert.deepEqual(hits(), []);
  });
});

test("a requirement on the direct reference's project must accept its version", async () => {
  await withSource(async (source, urls) => {
    await assert.rejects(
      resolve({
        requirements: [`pyco-direct @ ${urls.wheel}`, "pyco-direct>=3"],
        target,
        index: source,
      }),
      (e: unknown) => e instanceof PycontainerError && /pyco-direct/.test(e.message),
    );
  });
});

test("directFile() reads a file: URL wheel and hashes it", async () => {
  await withSource(async (source) => {
    const dir = await mkdtemp(join(tmpdir(), "pycontainer-direct-file-"));
    try {
      const path = join(dir, direct.filename);
      await writeFile(path, direct.bytes);
      const file = await source.directFile("PYCO_Direct", pathToFileURL(path).href);
      assert.equal(file.hashes["sha256"], sha(direct.bytes));
      assert.equal(file.filename, direct.filename);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

test("direct references that can't be used fail with the package, the URL and what to do", async () => {
  await withSource(async (source, urls) => {
    const cases: [string, string, RegExp, RegExp][] = [
      [
        "pyco-direct",
        "git+https://example.org/pyco.git@v2",
        /version-control references/,
        /uv lock/,
      ],
      [
        "pyco-direct",
        "https://user:tok3n@example.org/x.whl",
        /credentials in a direct reference/,
        /netrc \(machine example\.org\)/,
      ],
      ["pyco-direct", "ftp://example.org/x.whl", /ftp: URLs are not supported/, /https:/],
      [
        "pyco-direct",
        `${urls.wheel.replace(direct.filename, "other-2.0-py3-none-any.whl")}`,
        /is a wheel of other, not pyco-direct/,
        /fix the URL/,
      ],
      [
        "pyco-direct",
        `${urls.wheel}.missing.whl`,
        /cannot download it \(HTTP 404\)/,
        /check the URL/,
      ],
      [
        "pyco-direct",
        `${urls.wheel.replace(/[^/]+$/, "README")}`,
        /neither a wheel nor an sdist/,
        /\.whl/,
      ],
    ];
    for (const [name, url, message, hint] of cases) {
      await assert.rejects(source.directFile(name, url), (e: unknown) => {
        assert.ok(e instanceof PycontainerError, String(e));
        assert.match(e.message, message);
        assert.match(e.hint ?? "", hint);
        assert.doesNotMatch(e.message, /tok3n/);
        return true;
      }, url);
    }
  });
});

test("resolve() refuses a direct reference made by a dependency, and two URLs for one package", async () => {
  await withSource(async (source, urls) => {
    await assert.rejects(
      resolve({ requirements: ["dep-b"], target, index: source }),
      /dep-b 1\.0 depends on pyco-direct @ https:\/\/example\.org\/x\.whl: a direct URL reference from a package/,
    );
    await assert.rejects(
      resolve({
        requirements: [`pyco-direct @ ${urls.wheel}`, `pyco-direct @ ${urls.wheel}?v=2`],
        target,
        index: source,
      }),
      /pyco-direct is required from two URLs/,
    );
  });
});

test("redact() drops URL credentials", () => {
  assert.equal(redact("https://u:p@h.example/a.whl"), "https://h.example/a.whl");
  assert.equal(redact("https://h.example/a.whl"), "https://h.example/a.whl");
});
