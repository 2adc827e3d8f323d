import { test } from "node:test";
import assert from "node:assert/strict";
import { detectLayout, moduleName } from "../../src/project/layout.ts";

test("detectLayout() finds a src layout and its packages", () => {
  const l = detectLayout([
    "pyproject.toml",
    "src/greeter/__init__.py",
    "src/greeter/cli.py",
    "src/greeter/__main__.py",
    "src/other/__init__.py",
    "tests/__init__.py",
  ]);
  assert.equal(l.kind, "src");
  assert.equal(l.importRoot, "src");
  assert.deepEqual(l.packages, [
    { name: "greeter", dir: "src/greeter", hasMain: true },
    { name: "other", dir: "src/other", hasMain: false },
  ]);
});

test("detectLayout() finds flat packages, ignoring tests, docs and src itself", () => {
  const l = detectLayout([
    "weather/__init__.py",
    "weather/__main__.py",
    "tests/__init__.py",
    "tests/__main__.py",
    "docs/__init__.py",
    "run.py",
  ]);
  assert.equal(l.kind, "flat");
  assert.equal(l.importRoot, "");
  assert.deepEqual(l.packages.map((p) => p.name), ["weather"]);
  assert.deepEqual(l.modules, ["run.py"]);
});

test("detectLayout() treats a directory with only __main__.py as a runnable package", () => {
  const l = detectLayout(["tool/__main__.py", "tool/impl.py"]);
  assert.deepEqual(l.packages, [{ name: "tool", dir: "tool", hasMain: true }]);
});

test("detectLayout() recognises an app/ directory without __init__.py", () => {
  const l = detectLayout(["app/main.py", "app/models.py", "pyproject.toml"]);
  assert.equal(l.kind, "app-dir");
  assert.deepEqual(l.packages, []);
});

test("detectLayout() recognises single-module apps and empty projects", () => {
  const l = detectLayout(["manage.py", "app.py", "README.md", "src/tool.py"]);
  assert.equal(l.kind, "single-module");
  assert.deepEqual(l.modules, ["app.py", "manage.py", "src/tool.py"]);
  assert.deepEqual(l.pythonFiles, ["app.py", "manage.py", "src/tool.py"]);
  assert.equal(detectLayout(["README.md", "lib/x.py"]).kind, "none");
});

test("moduleName() maps files to dotted module names", () => {
  assert.equal(moduleName("src/mypkg/api/main.py", "src"), "mypkg.api.main");
  assert.equal(moduleName("src/mypkg/__init__.py", "src"), "mypkg");
  assert.equal(moduleName("main.py", ""), "main");
  assert.equal(moduleName("app/main.py", "src"), undefined);
  assert.equal(moduleName("my-app/main.py", ""), undefined);
  assert.equal(moduleName("README.md", ""), undefined);
});
