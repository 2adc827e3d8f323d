import { test } from "node:test";
import assert from "node:assert/strict";
import {
  choosePythonVersion,
  DEFAULT_PYTHON,
  MAINTAINED_PYTHONS,
  parsePythonVersionFile,
} from "../../src/project/python_version.ts";
import { projectPythonVersion, readProject } from "../../src/project/facts.ts";
import { PycontainerError } from "../../src/errors.ts";
import { fixture } from "./temp_project.ts";

function pick(requiresPython: string): string {
  return choosePythonVersion({ requiresPython, pyprojectPath: "/p/pyproject.toml" }).version;
}

test("choosePythonVersion() picks the lowest maintained version a lower bound allows", () => {
  assert.equal(pick(">=3.11"), "3.11");
  assert.equal(pick(">=3.12"), "3.12");
  assert.equal(pick(">3.11"), "3.11", ">3.11 allows 3.11.1");
  assert.equal(pick(">=3.11.4"), "3.11");
  assert.equal(pick(">=3.8,<4"), "3.11");
  assert.equal(pick(">=3.6"), "3.11");
});

test("choosePythonVersion() follows ~=, ==X.Y.* and upper bounds", () => {
  assert.equal(pick("~=3.12"), "3.12");
  assert.equal(pick("~=3.12.1"), "3.12");
  assert.equal(pick("==3.12.*"), "3.12");
  assert.equal(pick("==3.13.2"), "3.13");
  assert.equal(pick("<3.13,>=3.12"), "3.12");
  assert.equal(pick(">=3.13, <3.14"), "3.13");
  assert.equal(pick(">=3.10,!=3.10.*,!=3.11.*"), "3.12");
  assert.equal(pick(">=3.12.99"), "3.12");
});

test("choosePythonVersion() never picks a version an upper bound excludes", () => {
  for (const spec of ["<3.13", "<=3.12.9", ">=3.12,<3.13", "<3.13.0"]) {
    assert.notEqual(pick(spec), "3.13", spec);
    assert.notEqual(pick(spec), "3.14", spec);
  }
  assert.equal(pick("<3.14,>3.13"), "3.13");
  assert.equal(pick(">=3.14"), "3.14");
});

test("choosePythonVersion() fails naming pyproject and requires-python when nothing is allowed", () => {
  for (const spec of ["<3.10", ">=4", "==3.9.*", ">=3.16"]) {
    assert.throws(() => pick(spec), (err) => {
      assert.ok(err instanceof PycontainerError);
      assert.equal(err.exitCode, 2);
      assert.equal(
        err.message,
        `requires-python "${spec}" in /p/pyproject.toml allows none of the maintained Python versions ${
          MAINTAINED_PYTHONS.join(", ")
        }`,
      );
      assert.match(err.hint ?? "", /\.python-version/);
      return true;
    });
  }
});

test("choosePythonVersion() rejects an invalid requires-python with exit code 2", () => {
  assert.throws(() => pick(">=three"), (err) => {
    assert.ok(err instanceof PycontainerError);
    assert.equal(err.exitCode, 2);
    assert.match(err.message, /^Invalid requires-python ">=three" in \/p\/pyproject\.toml: /);
    return true;
  });
});

test("choosePythonVersion() defaults to 3.12 when nothing says, with a reason", () => {
  const c = choosePythonVersion({});
  assert.equal(DEFAULT_PYTHON, "3.12");
  assert.deepEqual(c, {
    version: "3.12",
    source: "default",
    reason: "no .python-version or requires-python: default 3.12",
    warnings: [],
  });
  const r = choosePythonVersion({ requiresPython: ">=3.11" });
  assert.equal(r.source, "requires-python");
  assert.equal(r.reason, 'lowest maintained version allowed by requires-python ">=3.11"');
});

test("choosePythonVersion() prefers .python-version and warns when requires-python disagrees", () => {
  const c = choosePythonVersion({
    pythonVersionFile: { path: "/p/.python-version", text: "3.10\n" },
    requiresPython: ">=3.11",
    pyprojectPath: "/p/pyproject.toml",
  });
  assert.equal(c.version, "3.10");
  assert.equal(c.source, "python-version-file");
  assert.equal(c.reason, "/p/.python-version says 3.10");
  assert.deepEqual(c.warnings, [
    '/p/.python-version asks for Python 3.10, which requires-python ">=3.11" in /p/pyproject.toml does not allow',
  ]);
  const ok = choosePythonVersion({
    pythonVersionFile: { path: ".python-version", text: "3.12\n" },
    requiresPython: ">=3.11",
  });
  assert.deepEqual(ok.warnings, []);
});

test("parsePythonVersionFile() accepts pyenv and uv spellings", () => {
  const cases: [string, string][] = [
    ["3.12", "3.12"],
    ["3.12.4\n", "3.12"],
    ["cpython-3.12", "3.12"],
    ["cpython-3.11.9-linux-x86_64-gnu", "3.11"],
    ["cpython@3.13", "3.13"],
    ["python3.10", "3.10"],
    ["3.13t", "3.13"],
    ["3.14.0rc2", "3.14"],
    ["\uFEFF# comment\n\n  3.11  \n3.12\n", "3.11"],
  ];
  for (const [text, want] of cases) {
    assert.equal(parsePythonVersionFile(text, ".python-version"), want, text);
  }
});

test("parsePythonVersionFile() rejects empty files and non-CPython versions, naming the line", () => {
  assert.throws(() => parsePythonVersionFile("# only a comment\n", "/p/.python-version"), (err) => {
    assert.ok(err instanceof PycontainerError);
    assert.equal(err.exitCode, 2);
    assert.equal(err.message, "/p/.python-version is empty");
    return true;
  });
  assert.throws(
    () => parsePythonVersionFile("\npypy3.10\n", "/p/.python-version"),
    /^PycontainerError: \/p\/\.python-version:2: cannot read a CPython version from "pypy3\.10"$/,
  );
  assert.throws(
    () => parsePythonVersionFile("system", ".python-version"),
    /cannot read a CPython version/,
  );
});

test("projectPythonVersion() reads the fixtures' .python-version and requires-python", async () => {
  const pinned = projectPythonVersion((await readProject(fixture("pinned_python"))).facts);
  assert.equal(pinned.version, "3.13");
  assert.equal(pinned.source, "python-version-file");
  assert.equal(projectPythonVersion((await readProject(fixture("hello"))).facts).version, "3.11");
  assert.equal(
    projectPythonVersion((await readProject(fixture("src_scripts"))).facts).version,
    "3.12",
  );
  assert.equal(
    projectPythonVersion((await readProject(fixture("flat_main"))).facts).version,
    "3.11",
  );
  assert.equal(
    projectPythonVersion((await readProject(fixture("fastapi_app"))).facts).version,
    "3.11",
  );
  assert.equal(
    projectPythonVersion((await readProject(fixture("streamlit_app"))).facts).version,
    "3.12",
  );
  assert.equal(
    projectPythonVersion((await readProject(fixture("flask_factory"))).facts).version,
    "3.12",
  );
});
