import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  normalizeName,
  parsePyproject,
  readPyproject,
  requirementName,
} from "../../src/project/pyproject.ts";
import { PycontainerError } from "../../src/errors.ts";
import { fixture } from "./temp_project.ts";

test("readPyproject() reads the hello app's [project] table", async () => {
  const facts = await readPyproject(fixture("hello"));
  assert.equal(facts.path, join(fixture("hello"), "pyproject.toml"));
  assert.equal(facts.name, "hello");
  assert.equal(facts.version, "0.1.0");
  assert.equal(facts.requiresPython, ">=3.11");
  assert.deepEqual(facts.dependencies, []);
  assert.deepEqual(facts.scripts, {});
  assert.equal(facts.description, undefined);
  assert.equal(facts.license, undefined);
});

test("readPyproject() reads metadata, scripts in file order, urls and dependency groups", async () => {
  const facts = await readPyproject(fixture("src_scripts"));
  assert.equal(facts.name, "greeter");
  assert.equal(facts.description, "Greets people from a container");
  assert.equal(facts.readme, "README.md");
  assert.deepEqual(facts.license, { kind: "expression", value: "Apache-2.0" });
  assert.deepEqual(facts.licenseFiles, ["LICENSE"]);
  assert.equal(facts.sourceUrl, "https://github.com/example/greeter");
  assert.equal(facts.urls["Homepage"], "https://example.org/greeter");
  assert.deepEqual(Object.keys(facts.scripts), ["greet-admin", "greeter"]);
  assert.equal(facts.scripts["greeter"], "greeter.cli:main");
  assert.deepEqual(facts.dependencyGroups, {
    test: ["pytest>=8"],
    dev: [{ includeGroup: "test" }, "ruff"],
  });
  assert.ok("build-system" in facts === false);
});

test("parsePyproject() understands legacy license tables, readme tables and optional deps", () => {
  const facts = parsePyproject(
    `[project]
name = "x"
dynamic = ["version"]
readme = { file = "README.rst", content-type = "text/x-rst" }
license = { text = "MIT" }
dependencies = ["flask"]
gui-scripts = { xgui = "x.gui:main" }

[project.optional-dependencies]
server = ["gunicorn>=22"]

[project.urls]
"Source Code" = "https://git.example/x"
homepage = "https://x.example"

[tool.pycontainer]
workdir = "/srv"
`,
    "/p/pyproject.toml",
  );
  assert.equal(facts.version, undefined);
  assert.deepEqual(facts.dynamic, ["version"]);
  assert.equal(facts.readme, "README.rst");
  assert.deepEqual(facts.license, { kind: "text", value: "MIT" });
  assert.deepEqual(facts.optionalDependencies, { server: ["gunicorn>=22"] });
  assert.deepEqual(facts.guiScripts, { xgui: "x.gui:main" });
  assert.equal(facts.sourceUrl, "https://git.example/x");
  assert.deepEqual(JSON.parse(JSON.stringify(facts.tool)), { pycontainer: { workdir: "/srv" } });
  const fileLicense = parsePyproject(
    '[project]\nname = "y"\nlicense = { file = "COPYING" }\n',
    "p",
  );
  assert.deepEqual(fileLicense.license, { kind: "file", path: "COPYING" });
  const homeOnly = parsePyproject(
    '[project]\nname = "y"\nurls = { Homepage = "https://h" }\n',
    "p",
  );
  assert.equal(homeOnly.sourceUrl, "https://h");
});

test("readPyproject() without pyproject.toml names the path and shows a minimal [project] table", async () => {
  const dir = fixture("no_pyproject");
  await assert.rejects(readPyproject(dir), (err) => {
    assert.ok(err instanceof PycontainerError);
    assert.equal(err.exitCode, 2);
    assert.equal(
      err.message,
      `No pyproject.toml in ${dir} (looked for ${join(dir, "pyproject.toml")})`,
    );
    assert.match(
      err.hint ?? "",
      /\[project\]\nname = "myapp"\nversion = "0.1.0"\nrequires-python = ">=3.11"$/,
    );
    return true;
  });
});

test("readPyproject() reports malformed TOML with file, line and column", async () => {
  const path = join(fixture("malformed"), "pyproject.toml");
  await assert.rejects(readPyproject(fixture("malformed")), (err) => {
    assert.ok(err instanceof PycontainerError);
    assert.equal(err.exitCode, 2);
    assert.match(
      err.message,
      new RegExp(`^Cannot parse ${path.replace(/[./]/g, "\\$&")}: .+ at line 5, column \\d+$`),
    );
    assert.doesNotMatch(err.message, /\n/);
    return true;
  });
});

test("readPyproject() requires [project].name and names the file", async () => {
  const path = join(fixture("no_name"), "pyproject.toml");
  await assert.rejects(readPyproject(fixture("no_name")), (err) => {
    assert.ok(err instanceof PycontainerError);
    assert.equal(err.exitCode, 2);
    assert.equal(err.message, `${path} has no [project].name`);
    return true;
  });
  assert.throws(
    () => parsePyproject("[tool.x]\na = 1\n", "pp.toml"),
    /pp\.toml has no \[project\] table/,
  );
});

test("parsePyproject() rejects wrongly typed fields naming the key and line", () => {
  assert.throws(
    () => parsePyproject('[project]\nname = "x"\n\ndependencies = "flask"\n', "/p/pyproject.toml"),
    (err) => {
      assert.ok(err instanceof PycontainerError);
      assert.equal(err.exitCode, 2);
      assert.equal(
        err.message,
        "/p/pyproject.toml:4: project.dependencies must be an array of strings",
      );
      return true;
    },
  );
  assert.throws(
    () => parsePyproject('[project]\nname = "x"\n[project.scripts]\nrun = 3\n', "pp"),
    /pp:4: project\.scripts\.run must be a string/,
  );
  assert.throws(
    () => parsePyproject('[project]\nname = "x"\nlicense = 3\n', "pp"),
    /project\.license must be/,
  );
  assert.throws(
    () => parsePyproject("[project]\nname = 7\n", "pp"),
    /project\.name must be a string/,
  );
});

test("requirementName() and normalizeName() normalise per PEP 503", () => {
  assert.equal(requirementName("Flask>=3"), "flask");
  assert.equal(requirementName("uvicorn[standard]>=0.29"), "uvicorn");
  assert.equal(
    requirementName("Django_Rest.Framework ; python_version<'4'"),
    "django-rest-framework",
  );
  assert.equal(requirementName("pkg @ https://example.org/pkg.whl"), "pkg");
  assert.equal(requirementName("   "), undefined);
  assert.equal(normalizeName("A__b..C-d"), "a-b-c-d");
});
