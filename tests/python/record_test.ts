import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { PycontainerError } from "../../src/errors.ts";
import {
  checkRecordBytes,
  formatRecord,
  indexWheelRecord,
  parseRecord,
  parseRecordHash,
  recordHash,
  recordVerifier,
} from "../../src/python/record.ts";
import { findDistInfo, parseEmailHeaders, parseWheelFile } from "../../src/python/dist_info.ts";

const enc = new TextEncoder();

test("parseRecord() reads Python csv quoting, CRLF line ends and blank lines", () => {
  const text =
    'a.py,sha256=x,1\r\n"we,ird ""name"".py",sha256=y,2\r\n\r\n"multi\nline.txt",,\r\nlast,,';
  assert.deepEqual(parseRecord(text, "t.whl"), [
    { path: "a.py", hash: "sha256=x", size: "1" },
    { path: 'we,ird "name".py', hash: "sha256=y", size: "2" },
    { path: "multi\nline.txt", hash: "", size: "" },
    { path: "last", hash: "", size: "" },
  ]);
});

test("formatRecord() output parses back to the same rows", () => {
  const rows = [
    { path: "plain.py", hash: "sha256=abc", size: "10" },
    { path: 'odd, "quoted".py', hash: "sha256=def", size: "20" },
    { path: "pkg-1.0.dist-info/RECORD", hash: "", size: "" },
  ];
  const text = formatRecord(rows);
  assert.equal(text.split("\n")[1], '"odd, ""quoted"".py",sha256=def,20');
  assert.deepEqual(parseRecord(text, "t"), rows);
});

test("parseRecord() rejects rows without three fields and unterminated quotes", () => {
  for (
    const [text, pattern] of [["a.py,sha256=x\n", /RECORD line 1 has 2 fields/], [
      '"a.py,sha256=x,1\n',
      /unterminated quote/,
    ]] as const
  ) {
    assert.throws(() => parseRecord(text, "t.whl"), (error: unknown) => {
      assert.ok(error instanceof PycontainerError);
      assert.match(error.message, /^t\.whl: RECORD /);
      assert.match(error.message, pattern);
      return true;
    });
  }
});

test("recordHash() and parseRecordHash() use urlsafe base64 without padding", () => {
  const data = enc.encode("hello\n");
  const expected = createHash("sha256").update(data).digest("base64").replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");
  assert.equal(recordHash(data), `sha256=${expected}`);
  assert.match(recordHash(data, "sha512"), /^sha512=[\w-]{86}$/);
  assert.deepEqual(parseRecordHash(`sha256=${expected}=`), {
    algorithm: "sha256",
    digest: expected,
  });
  assert.equal(parseRecordHash("sha1=abc"), undefined);
  assert.equal(parseRecordHash("sha256=a+b/c"), undefined);
  assert.equal(parseRecordHash(""), undefined);
});

test("recordVerifier() passes matching content and errors on a hash or size mismatch", async () => {
  const data = enc.encode("print(1)\n");
  const run = (row: { path: string; hash: string; size: string }) =>
    new Response(new Blob([data]).stream().pipeThrough(recordVerifier(row, "v.whl"))).text();
  assert.equal(
    await run({ path: "a.py", hash: recordHash(data, "sha384"), size: String(data.length) }),
    "print(1)\n",
  );
  for (
    const row of [
      { path: "a.py", hash: recordHash(enc.encode("other")), size: String(data.length) },
      { path: "a.py", hash: recordHash(data), size: "3" },
    ]
  ) {
    await assert.rejects(run(row), (error: unknown) => {
      assert.ok(error instanceof PycontainerError);
      assert.match(error.message, /^v\.whl: "a\.py" does not match its RECORD hash/);
      return true;
    });
  }
  assert.throws(
    () => checkRecordBytes(data, { path: "a.py", hash: recordHash(data), size: "1" }, "v.whl"),
    /does not match/,
  );
  checkRecordBytes(data, { path: "a.py", hash: recordHash(data), size: "" }, "v.whl");
});

test("indexWheelRecord() ignores rows for absent files and strips leading slashes", () => {
  const data = enc.encode("x");
  const text = `/abs.py,${recordHash(data)},1\nghost.py,${recordHash(data)},1\nd/RECORD,,\n`;
  const rows = indexWheelRecord(
    text,
    [{ name: "abs.py", size: 1 }, { name: "d/RECORD", size: 9 }],
    (n) => n === "d/RECORD",
    "w.whl",
  );
  assert.equal(rows.get("abs.py")?.size, "1");
});

test("parseEmailHeaders() joins continuation lines and stops at the body", () => {
  const h = parseEmailHeaders(
    "Name: demo\nSummary: one\n  two\nTag: a\nTag: b\n\nName: not-a-header\n",
  );
  assert.deepEqual(h.get("name"), ["demo"]);
  assert.deepEqual(h.get("summary"), ["one\ntwo"]);
  assert.deepEqual(h.get("tag"), ["a", "b"]);
});

test("parseWheelFile() accepts 1.x and refuses other major versions or none", () => {
  assert.equal(
    parseWheelFile("Wheel-Version: 1.9\nRoot-Is-Purelib: false\n", "w.whl").rootIsPurelib,
    false,
  );
  assert.throws(
    () => parseWheelFile("Root-Is-Purelib: true\n", "w.whl"),
    /w\.whl: WHEEL has no valid Wheel-Version/,
  );
  assert.throws(() => parseWheelFile("Wheel-Version: 2.0\n", "w.whl"), /uses wheel format 2\.0/);
  assert.deepEqual(
    findDistInfo(["a/b.py", "x-1.dist-info/RECORD", "x-1.dist-info/METADATA"], "w.whl").data,
    "x-1.data",
  );
});
