import { test } from "node:test";
import assert from "node:assert/strict";
import { projectRequirements } from "../../src/build/project_requirements.ts";
import type { PyprojectFacts } from "../../src/project/pyproject.ts";
import { PycontainerError } from "../../src/errors.ts";

const project: PyprojectFacts = {
  path: "/p/pyproject.toml",
  name: "My_Api",
  dynamic: [],
  licenseFiles: [],
  urls: {},
  dependencies: ["fastapi", "uvicorn[standard]"],
  optionalDependencies: {
    Prod: ["gunicorn>=22"],
    all: ["my-api[prod]", "orjson; sys_platform == 'linux'"],
  },
  scripts: {},
  guiScripts: {},
  dependencyGroups: {
    test: ["pytest"],
    dev: [{ includeGroup: "test" }, "ruff", "fastapi"],
    loop: [{ includeGroup: "loop2" }],
    loop2: [{ includeGroup: "loop" }],
  },
  tool: {},
};

test("projectRequirements() is [project.dependencies] without extras or groups", () => {
  assert.deepEqual(projectRequirements(project), ["fastapi", "uvicorn[standard]"]);
});

test("projectRequirements() expands extras, following self-references", () => {
  assert.deepEqual(projectRequirements(project, ["ALL"]), [
    "fastapi",
    "uvicorn[standard]",
    "gunicorn>=22",
    "orjson; sys_platform == 'linux'",
  ]);
});

test("projectRequirements() adds groups with include-group, without duplicates", () => {
  assert.deepEqual(projectRequirements(project, [], ["dev"]), [
    "fastapi",
    "uvicorn[standard]",
    "pytest",
    "ruff",
  ]);
});

test("projectRequirements() rejects unknown extras and groups, listing the known ones", () => {
  assert.throws(() => projectRequirements(project, ["prd"]), (err) => {
    assert.ok(err instanceof PycontainerError);
    assert.match(err.message, /--extra: the project has no extra "prd"/);
    assert.match(err.hint ?? "", /prod, all/);
    assert.equal(err.exitCode, 2);
    return true;
  });
  assert.throws(
    () => projectRequirements(project, [], ["docs"]),
    /pyproject\.toml: the project has no dependency group "docs"/,
  );
  assert.throws(() => projectRequirements(project, [], ["loop"]), /includes itself/);
});
