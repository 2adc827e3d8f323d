import { test } from "node:test";
import assert from "node:assert/strict";
import {
  decodeHtmlEntities,
  parseHtmlProjectPage,
  parseJsonProjectPage,
} from "../../src/python/index_page.ts";
import { PycontainerError } from "../../src/errors.ts";

const PAGE = "https://pkgs.example.com/simple/demo/";

test("parseJsonProjectPage() resolves URLs and reads hashes, yanked, size, metadata", () => {
  const page = parseJsonProjectPage({
    meta: { "api-version": "1.1" },
    name: "demo",
    files: [
      {
        filename: "demo-1.0-py3-none-any.whl",
        url: "../../files/demo-1.0-py3-none-any.whl#sha256=ABCDEF",
        hashes: { sha256: "0123ab", md5: "ff" },
        "requires-python": ">=3.9",
        "core-metadata": { sha256: "aa" },
        yanked: false,
        size: 1234,
        "upload-time": "2024-05-01T10:00:00.123456Z",
      },
      {
        filename: "demo-0.9.tar.gz",
        url: "https://cdn.example.net/demo-0.9.tar.gz",
        hashes: {},
        "dist-info-metadata": true,
        yanked: "broken build",
      },
      { filename: "demo-0.8.tar.gz", url: "/f/demo-0.8.tar.gz", hashes: {}, yanked: true },
      { nonsense: true },
    ],
  }, PAGE);
  assert.equal(page.name, "demo");
  assert.equal(page.files.length, 3);
  const [a, b, c] = page.files;
  assert.equal(a!.url, "https://pkgs.example.com/files/demo-1.0-py3-none-any.whl");
  assert.deepEqual(a!.hashes, { sha256: "0123ab", md5: "ff" }, "the hashes object wins");
  assert.equal(a!.requiresPython, ">=3.9");
  assert.deepEqual(a!.coreMetadata, { sha256: "aa" });
  assert.equal(a!.yanked, false);
  assert.equal(a!.size, 1234);
  assert.equal(a!.uploadTime, "2024-05-01T10:00:00.123456Z");
  assert.deepEqual(b!.coreMetadata, {}, "legacy dist-info-metadata: true");
  assert.equal(b!.yanked, "broken build");
  assert.equal(c!.yanked, "");
  assert.equal(c!.coreMetadata, false);
  assert.equal(c!.url, "https://pkgs.example.com/f/demo-0.8.tar.gz");
});

test("parseJsonProjectPage() rejects pages that are not simple API v1", () => {
  assert.throws(
    () => parseJsonProjectPage({ meta: { "api-version": "2.0" }, files: [] }, PAGE),
    (e: unknown) =>
      e instanceof PycontainerError && /unsupported simple API version 2/.test(e.message),
  );
  assert.throws(() => parseJsonProjectPage({ name: "x" }, PAGE), /no "files" list/);
  assert.throws(() => parseJsonProjectPage("x", PAGE), /not a JSON object/);
});

test("parseHtmlProjectPage() reads anchors, entities, fragments and data attributes", () => {
  const html = `<!DOCTYPE html><html><head><base href="https://mirror.example.org/pkgs/"></head>
<body><h1>Links for demo</h1>
<a href="demo-1.0-py3-none-any.whl#sha256=AA11" data-requires-python="&gt;=3.8,&lt;4"
   data-core-metadata="sha256=bb22">demo-1.0-py3-none-any.whl</a><br/>
<a href='demo-0.9.tar.gz' data-yanked="bad &amp; broken" data-dist-info-metadata=true>demo-0.9.tar.gz</a>
<A HREF="/abs/demo-0.8-py3-none-any.whl">demo-0.8-py3-none-any.whl</A>
<a name="anchor-without-href">x</a>
</body></html>`;
  const page = parseHtmlProjectPage(html, PAGE, "demo");
  assert.equal(page.files.length, 3);
  const [a, b, c] = page.files;
  assert.equal(a!.url, "https://mirror.example.org/pkgs/demo-1.0-py3-none-any.whl");
  assert.deepEqual(a!.hashes, { sha256: "aa11" });
  assert.equal(a!.requiresPython, ">=3.8,<4");
  assert.deepEqual(a!.coreMetadata, { sha256: "bb22" });
  assert.equal(a!.yanked, false);
  assert.equal(b!.yanked, "bad & broken");
  assert.deepEqual(b!.coreMetadata, {});
  assert.equal(c!.url, "https://mirror.example.org/abs/demo-0.8-py3-none-any.whl");
  assert.equal(c!.filename, "demo-0.8-py3-none-any.whl");
});

test("decodeHtmlEntities() decodes named, decimal and hex references", () => {
  assert.equal(decodeHtmlEntities("&lt;&#62;&#x3D;&quot;&unknown;"), '<>="&unknown;');
});
