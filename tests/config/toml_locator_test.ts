import { test } from "node:test";
import assert from "node:assert/strict";
import { parse } from "smol-toml";
import { TomlLocator } from "../../src/config/toml_locator.ts";

/** The locator only runs on documents the parser accepted: check the fixtures are valid TOML. */
function locator(text: string): TomlLocator {
  parse(text);
  return new TomlLocator(text);
}

test("TomlLocator.lineOf() finds keys under table headers", () => {
  const loc = locator([
    "# comment",
    "[build]",
    'workdir = "/app"',
    "  user   =   'x'",
    "",
    "[ build . env ]",
    'PORT = "1"',
    '"quoted.key" = "2"',
    "'literal key' = \"3\"",
  ].join("\n"));
  assert.equal(loc.lineOf(["build"]), 2);
  assert.equal(loc.lineOf(["build", "workdir"]), 3);
  assert.equal(loc.lineOf(["build", "user"]), 4);
  assert.equal(loc.lineOf(["build", "env"]), 6);
  assert.equal(loc.lineOf(["build", "env", "PORT"]), 7);
  assert.equal(loc.lineOf(["build", "env", "quoted.key"]), 8);
  assert.equal(loc.lineOf(["build", "env", "literal key"]), 9);
});

test("TomlLocator.lineOf() follows dotted keys and quoted header parts", () => {
  const loc = locator([
    'build.workdir = "/a"',
    "[tool.pycontainer]",
    'build.env.A = "1"',
    'registry . mirror = "m"',
    '[tool."other tool".build]',
    'user = "u"',
  ].join("\n"));
  assert.equal(loc.lineOf(["build", "workdir"]), 1);
  assert.equal(loc.lineOf(["tool", "pycontainer", "build", "env", "A"]), 3);
  assert.equal(loc.lineOf(["tool", "pycontainer", "registry", "mirror"]), 4);
  assert.equal(loc.lineOf(["tool", "other tool", "build", "user"]), 6);
});

test("TomlLocator.lineOf() falls back to the inline table or the header", () => {
  const loc = locator([
    "[build]",
    'env = { A = "1", B = "2" }',
    "",
    "[registry]",
  ].join("\n"));
  assert.equal(loc.lineOf(["build", "env", "B"]), 2);
  assert.equal(loc.lineOf(["registry", "mirror"]), 4);
  assert.equal(loc.lineOf(["nothing"]), undefined);
});

test("TomlLocator.lineOf() ignores key-like text inside multi-line strings and arrays", () => {
  const loc = locator([
    "[build]",
    'cmd = """',
    'user = "inside a string"',
    '"""',
    "tags = [",
    '  "a=b",',
    "  # user = 1",
    "]",
    "labels = '''",
    "workdir = 'nope'",
    "'''",
    'user = "real" # ] trailing [',
    'workdir = "/real"',
  ].join("\n"));
  assert.equal(loc.lineOf(["build", "user"]), 12);
  assert.equal(loc.lineOf(["build", "workdir"]), 13);
  assert.equal(loc.lineOf(["build", "tags"]), 5);
});

test("TomlLocator.lineOf() handles CRLF line endings", () => {
  const loc = locator('[build]\r\n\r\nworkdir = "/app"\r\n');
  assert.equal(loc.lineOf(["build", "workdir"]), 3);
});

test("TomlLocator.lineOf() handles arrays of tables and escaped quotes in strings", () => {
  const loc = locator([
    "[[servers]]",
    'name = "a \\" [ b"',
    "[build]",
    'user = "x"',
  ].join("\n"));
  assert.equal(loc.lineOf(["servers", "name"]), 2);
  assert.equal(loc.lineOf(["build", "user"]), 4);
});
