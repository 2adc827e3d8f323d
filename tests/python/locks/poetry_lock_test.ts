import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { PycontainerError } from "../../../src/errors.ts";
import {
  parsePoetryLock,
  poetryMarkerToPep751,
  readPoetryLock,
} from "../../../src/python/locks/poetry_lock.ts";
import {
  poetryConstraintToPep440,
  poetryPythonMarker,
} from "../../../src/python/locks/poetry_constraint.ts";
import { readUvLock } from "../../../src/python/locks/uv_lock.ts";
import { type SelectedPackage, selectForTarget } from "../../../src/python/locks/select.ts";
import { FIXTURES, linux, windows } from "./_targets.ts";

const LOCK = `${FIXTURES}/poetry/poetry.lock`;
const TEXT = readFileSync(LOCK, "utf8");

function pins(sel: SelectedPackage[]): string[] {
  return sel.map((s) => `${s.package.name}==${s.package.version} ${s.wheel?.filename}`);
}

function errorOf(f: () => unknown): PycontainerError {
  try {
    f();
  } catch (e) {
    if (e instanceof PycontainerError) return e;
    throw e;
  }
  assert.fail("expected a PycontainerError");
}

test("readPoetryLock() reads Poetry 2's lock: files by name and hash, legacy source, lines", async () => {
  const lock = await readPoetryLock(LOCK);
  assert.equal(lock.kind, "poetry.lock");
  assert.equal(lock.formatVersion, "2.1");
  assert.equal(lock.requiresPython, ">=3.11");
  assert.deepEqual(lock.indexUrls, ["https://pypi.org/simple"]);
  assert.deepEqual(lock.declaredExtras, ["redis"]);
  assert.deepEqual(lock.declaredGroups?.sort(), ["dev", "main"]);
  const lines = TEXT.split("\n");
  for (const p of lock.packages) {
    assert.equal(lines[(p.line ?? 0) - 1], "[[package]]");
    assert.equal(lines[p.line ?? 0], `name = "${p.name}"`);
    assert.deepEqual(p.source, { kind: "index", url: "https://pypi.org/simple" });
    assert.ok(p.files.length > 0);
    for (const f of p.files) {
      assert.equal(f.url, undefined);
      assert.match(f.hashes.sha256 ?? "", /^[0-9a-f]{64}$/);
      assert.ok(TEXT.includes(`{file = "${f.filename}", hash = "sha256:${f.hashes.sha256}"}`));
    }
  }
});

test("selectForTarget() on poetry.lock matches uv.lock for the same project and targets", async () => {
  const lock = await readPoetryLock(LOCK);
  const uv = await readUvLock(`${FIXTURES}/uv/uv.lock`);
  const cases: [string, string, { extras?: string[]; groups?: string[] }][] = [
    ["3.11.7", "amd64", {}],
    ["3.11.7", "arm64", {}],
    ["3.13.1", "amd64", {}],
    ["3.11.2", "amd64", { extras: ["redis"] }],
    ["3.12.4", "arm64", { extras: ["redis"], groups: ["dev"] }],
  ];
  for (const [py, arch, extra] of cases) {
    const poetry = pins(selectForTarget(lock, linux(py, arch, extra)));
    assert.deepEqual(poetry, pins(selectForTarget(uv, linux(py, arch, extra))), `${py} ${arch}`);
  }
  const win = selectForTarget(lock, windows("3.12.4")).map((s) => s.package.name);
  assert.ok(win.includes("colorama") && !win.includes("uvloop"));
  const winDev = selectForTarget(lock, windows("3.12.4", { groups: ["dev"] }))
    .map((s) => s.package.name);
  assert.ok(winDev.includes("pytest") && winDev.includes("colorama"));
});

test("selectForTarget() on poetry.lock refuses an unknown group or extra", async () => {
  const lock = await readPoetryLock(LOCK);
  const e = errorOf(() => selectForTarget(lock, linux("3.12.4", "amd64", { groups: ["docs"] })));
  assert.match(e.message, /poetry\.lock: the lock has no dependency group "docs"/);
  assert.match(e.hint ?? "", /main/);
  assert.throws(
    () => selectForTarget(lock, linux("3.12.4", "amd64", { extras: ["x"] })),
    /no extra "x"/,
  );
});

test("poetryMarkerToPep751() turns extra tests into set membership", () => {
  assert.equal(
    poetryMarkerToPep751('sys_platform == "win32" and extra == "Standard" or extra != \'a_b\''),
    `sys_platform == "win32" and 'standard' in extras or 'a-b' not in extras`,
  );
});

test("poetryConstraintToPep440() converts caret, tilde, wildcards and lists", () => {
  assert.equal(poetryConstraintToPep440("^3.11"), ">=3.11,<4.0");
  assert.equal(poetryConstraintToPep440("^0.2.3"), ">=0.2.3,<0.3");
  assert.equal(poetryConstraintToPep440("~3.11.2"), ">=3.11.2,<3.12");
  assert.equal(poetryConstraintToPep440("3.11.*"), "==3.11.*");
  assert.equal(poetryConstraintToPep440(">=3.9 <4"), ">=3.9,<4");
  assert.equal(poetryConstraintToPep440("*"), "");
  assert.equal(poetryConstraintToPep440(">=2.7,!=3.0.* || >=3.8"), undefined);
});

test("parsePoetryLock() maps git, url, directory sources and per-group markers", () => {
  const text = `[[package]]
name = "tool"
version = "0.3"
optional = false
python-versions = "*"
groups = ["main"]
files = []

[package.source]
type = "git"
url = "https://github.com/o/tool.git"
reference = "main"
resolved_reference = "abcdef"

[[package]]
name = "lib"
version = "1.0"
optional = false
python-versions = "*"
groups = ["main", "test"]
markers = {main = "sys_platform == \\"linux\\"", test = "python_version >= \\"3.12\\""}
files = [{file = "lib-1.0-py3-none-any.whl", hash = "sha256:AA"}]

[[package]]
name = "local"
version = "0.1"
optional = false
python-versions = "*"
groups = ["test"]
files = []

[package.source]
type = "directory"
url = "../local"

[metadata]
lock-version = "2.1"
python-versions = "^3.11"
content-hash = "00"
`;
  const lock = parsePoetryLock(text, "poetry.lock");
  assert.deepEqual(lock.packages[0]?.source, {
    kind: "git",
    url: "https://github.com/o/tool.git",
    commit: "abcdef",
    requested: "main",
  });
  assert.deepEqual(lock.packages[2]?.source, { kind: "path", path: "../local" });
  assert.equal(lock.packages[1]?.files[0]?.hashes.sha256, "aa");
  assert.equal(lock.requiresPython, ">=3.11,<4.0");
  const names = (t: ReturnType<typeof linux>) =>
    selectForTarget(lock, t).map((s) => s.package.name);
  assert.deepEqual(names(linux("3.11.4", "amd64")), ["tool", "lib"]);
  assert.deepEqual(names(windows("3.11.4")), ["tool"]);
  assert.deepEqual(names(windows("3.12.4", { groups: ["test"] })), ["tool", "lib", "local"]);
});

test("parsePoetryLock() reports bad locks with the line; Poetry 1 locks need pyproject.toml", () => {
  const missing = '[[package]]\nname = "a"\nversion = "1"\ngroups = ["main"]\n\n' +
    '[[package]]\nname = "b"\ngroups = ["main"]\n\n[metadata]\nlock-version = "2.1"\n';
  const e = errorOf(() => parsePoetryLock(missing, "poetry.lock"));
  assert.equal(e.message, 'poetry.lock:6: package "b": "version" is missing');
  assert.equal(e.exitCode, 2);
  const badHash = '[[package]]\nname = "a"\nversion = "1"\ngroups = ["main"]\n' +
    'files = [{file = "a-1.tar.gz", hash = "md5-nope"}]\n[metadata]\nlock-version = "2.1"\n';
  assert.match(
    errorOf(() => parsePoetryLock(badHash, "poetry.lock")).message,
    /^poetry\.lock:1: .*invalid hash/,
  );
  assert.match(
    errorOf(() => parsePoetryLock('[[package]]\nname = "a"\n', "poetry.lock")).message,
    /no \[metadata\] lock-version/,
  );
  const old = '[[package]]\nname = "a"\nversion = "1"\ncategory = "main"\noptional = false\n' +
    'python-versions = "*"\n\n[metadata]\nlock-version = "1.1"\npython-versions = "^3.8"\n' +
    'content-hash = "0"\n\n[metadata.files]\na = [{file = "a-1-py3-none-any.whl", hash = "sha256:bb"}]\n';
  const lock = parsePoetryLock(old, "poetry.lock");
  assert.equal(lock.packages[0]?.files[0]?.filename, "a-1-py3-none-any.whl");
  const err = errorOf(() => selectForTarget(lock, linux("3.11.4", "amd64")));
  assert.match(err.message, /lock-version 1\.1 \(Poetry 1\) records no groups or markers/);
  assert.match(err.hint ?? "", /pyproject\.toml next to poetry\.lock/);
});

test("selectForTarget() walks a Poetry 1 lock from pyproject.toml and matches uv.lock", async () => {
  const lock = await readPoetryLock(`${FIXTURES}/poetry1/poetry.lock`);
  const uv = await readUvLock(`${FIXTURES}/uv/uv.lock`);
  assert.equal(lock.formatVersion, "2.0");
  assert.equal(lock.graph?.projectName, "myapi");
  assert.equal(lock.requiresPython, ">=3.11,<4.0");
  const cases: [string, string, { extras?: string[]; groups?: string[] }][] = [
    ["3.11.7", "amd64", {}],
    ["3.13.1", "arm64", {}],
    ["3.11.2", "amd64", { extras: ["redis"] }],
    ["3.11.4", "amd64", { extras: ["redis"], groups: ["dev"] }],
  ];
  for (const [py, arch, extra] of cases) {
    assert.deepEqual(
      pins(selectForTarget(lock, linux(py, arch, extra))),
      pins(selectForTarget(uv, linux(py, arch, extra))),
      `${py} ${arch} ${JSON.stringify(extra)}`,
    );
  }
  const win = selectForTarget(lock, windows("3.12.4")).map((s) => s.package.name);
  assert.ok(win.includes("colorama") && !win.includes("uvloop"));
  assert.throws(
    () => selectForTarget(lock, linux("3.12.4", "amd64", { groups: ["docs"] })),
    (e: unknown) => e instanceof PycontainerError && (e.hint ?? "").includes("dev"),
  );
});

test("poetryPythonMarker() turns Poetry python constraints into markers", () => {
  assert.equal(
    poetryPythonMarker("^3.8"),
    'python_full_version >= "3.8" and python_full_version < "4.0"',
  );
  assert.equal(
    poetryPythonMarker("<3.9 || >=3.12"),
    '(python_full_version < "3.9") or (python_full_version >= "3.12")',
  );
  assert.equal(poetryPythonMarker("*"), undefined);
});
