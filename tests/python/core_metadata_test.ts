import { test } from "node:test";
import assert from "node:assert/strict";
import {
  parseCoreMetadata,
  parseCoreMetadataFor,
  parseMetadataHeaders,
} from "../../src/python/core_metadata.ts";
import { PycontainerError } from "../../src/errors.ts";

const UVICORN = `Metadata-Version: 2.3
Name: uvicorn
Version: 0.30.6
Summary: The lightning-fast ASGI server.
Requires-Python: >=3.8
Provides-Extra: standard
Requires-Dist: click>=7.0
Requires-Dist: h11>=0.8
Requires-Dist: colorama>=0.4; (sys_platform == 'win32') and extra == 'standard'
Requires-Dist: uvloop!=0.15.0,!=0.15.1,>=0.14.0; (sys_platform != 'win32' and (sys_platform != 'cygwin' and platform_python_implementation != 'PyPy')) and extra == 'standard'
Description-Content-Type: text/markdown

# uvicorn
Requires-Dist: not-a-header-this-is-the-body
`;

test("parseCoreMetadata() reads name, version, requirements, python and extras", () => {
  const md = parseCoreMetadata(UVICORN);
  assert.equal(md.name, "uvicorn");
  assert.equal(md.version, "0.30.6");
  assert.equal(md.metadataVersion, "2.3");
  assert.equal(md.requiresPython, ">=3.8");
  assert.deepEqual(md.providesExtra, ["standard"]);
  assert.equal(md.requiresDist.length, 4);
  assert.ok(md.requiresDist[3]!.startsWith("uvloop!=0.15.0"));
  assert.ok(!md.requiresDist.some((r) => r.includes("not-a-header")), "body is not headers");
  assert.equal(md.headers.get("summary")?.[0], "The lightning-fast ASGI server.");
});

test("parseMetadataHeaders() joins folded lines and keeps repeated headers in order", () => {
  const h = parseMetadataHeaders(
    "Name: x\r\nLicense: line one\r\n        line two\r\nRequires-Dist: a\r\nRequires-Dist: b\r\n",
  );
  assert.equal(h.get("license")?.[0], "line one\nline two");
  assert.deepEqual(h.get("requires-dist"), ["a", "b"]);
});

test("parseCoreMetadata() normalises extras and treats empty Requires-Python as absent", () => {
  const md = parseCoreMetadata(
    "Name: a\nVersion: 1\nRequires-Python: \nProvides-Extra: Foo_Bar\nProvides-Extra: foo-bar\n",
  );
  assert.equal(md.requiresPython, undefined);
  assert.deepEqual(md.providesExtra, ["foo-bar"]);
});

test("parseCoreMetadata() rejects metadata without a Version", () => {
  assert.throws(
    () => parseCoreMetadata("Metadata-Version: 2.1\nName: broken\n", "broken.metadata"),
    (e: unknown) =>
      e instanceof PycontainerError && e.message.includes("broken.metadata") &&
      e.message.includes("no Version") && e.exitCode === 1,
  );
});

test("parseCoreMetadataFor() accepts equivalent spellings and rejects another project", () => {
  const bytes = new TextEncoder().encode("Name: Typing_Extensions\nVersion: 4.12.0\n");
  assert.equal(
    parseCoreMetadataFor(bytes, { name: "typing-extensions", version: "4.12" }).version,
    "4.12.0",
  );
  assert.throws(
    () => parseCoreMetadataFor(bytes, { name: "six", version: "4.12.0" }, "six.metadata"),
    /six\.metadata describes Typing_Extensions, not six/,
  );
  assert.throws(
    () => parseCoreMetadataFor(bytes, { name: "typing-extensions", version: "4.13.0" }),
    /says version 4\.12\.0, but the file is listed as 4\.13\.0/,
  );
});
