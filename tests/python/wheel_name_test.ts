import { test } from "node:test";
import assert from "node:assert/strict";
import {
  expandTagSet,
  parseSdistFilename,
  parseWheelFilename,
} from "../../src/python/wheel_name.ts";
import { PycontainerError } from "../../src/errors.ts";
import { packagingFixture } from "./_packaging_fixtures.ts";

interface WheelNameFixture {
  wheels: (
    | {
      filename: string;
      name: string;
      version: string;
      build: [number, string] | null;
      tags: string[];
    }
    | { filename: string; error: string }
  )[];
  sdists:
    ({ filename: string; name: string; version: string } | { filename: string; error: string })[];
}

test("parseWheelFilename() agrees with packaging.utils.parse_wheel_filename", () => {
  const fx = packagingFixture<WheelNameFixture>("wheel_names.json");
  for (const c of fx.wheels) {
    if ("error" in c) {
      assert.throws(() => parseWheelFilename(c.filename), (e: unknown) => {
        assert.ok(e instanceof PycontainerError, c.filename);
        assert.ok(e.message.includes(JSON.stringify(c.filename)), e.message);
        return true;
      });
      continue;
    }
    const w = parseWheelFilename(c.filename);
    assert.equal(w.name, c.name, c.filename);
    assert.equal(w.version, c.version, c.filename);
    assert.deepEqual(
      w.build === undefined ? null : [w.build.number, w.build.suffix],
      c.build,
      c.filename,
    );
    assert.deepEqual([...w.tags].sort(), c.tags, c.filename);
  }
});

test("parseSdistFilename() agrees with packaging.utils.parse_sdist_filename", () => {
  const fx = packagingFixture<WheelNameFixture>("wheel_names.json");
  for (const c of fx.sdists) {
    if ("error" in c) {
      assert.throws(() => parseSdistFilename(c.filename), PycontainerError, c.filename);
      continue;
    }
    const s = parseSdistFilename(c.filename);
    assert.equal(s.name, c.name);
    assert.equal(s.version, c.version);
  }
});

test("parseWheelFilename() keeps the compressed tag set components", () => {
  const w = parseWheelFilename(
    "uvloop-0.21.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
  );
  assert.deepEqual(w.pythonTags, ["cp311"]);
  assert.deepEqual(w.abiTags, ["cp311"]);
  assert.deepEqual(w.platformTags, ["manylinux_2_17_x86_64", "manylinux2014_x86_64"]);
  assert.equal(expandTagSet("py3-none"), undefined);
});
