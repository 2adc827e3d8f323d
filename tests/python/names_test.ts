import { test } from "node:test";
import assert from "node:assert/strict";
import {
  distInfoDirName,
  isNormalizedName,
  isValidName,
  normalizeName,
  validateName,
  wheelEscapeName,
} from "../../src/python/names.ts";
import { PycontainerError } from "../../src/errors.ts";
import { packagingFixture } from "./_packaging_fixtures.ts";

test("normalizeName() agrees with packaging.utils.canonicalize_name", () => {
  const fx = packagingFixture<{ cases: { input: string; normalized: string }[] }>("names.json");
  for (const c of fx.cases) assert.equal(normalizeName(c.input), c.normalized, c.input);
  assert.ok(isNormalizedName(normalizeName("Foo.Bar")));
  assert.ok(!isNormalizedName("Foo.Bar"));
});

test("validateName() rejects invalid names naming where they came from", () => {
  assert.ok(isValidName("a"));
  assert.ok(!isValidName("a-"));
  assert.throws(() => validateName("my app", "pyproject.toml"), (e: unknown) => {
    assert.ok(e instanceof PycontainerError);
    assert.equal(e.message, 'invalid project name "my app" in pyproject.toml');
    assert.equal(e.exitCode, 2);
    return true;
  });
});

test("wheelEscapeName() and distInfoDirName() give the on-disk spelling", () => {
  assert.equal(wheelEscapeName("ruamel.yaml"), "ruamel_yaml");
  assert.equal(wheelEscapeName("Foo--Bar"), "foo_bar");
  assert.equal(
    distInfoDirName("typing-extensions", "4.12.2"),
    "typing_extensions-4.12.2.dist-info",
  );
});
