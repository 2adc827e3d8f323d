import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { PycontainerError } from "../../../src/errors.ts";
import { parsePylock, readPylock } from "../../../src/python/locks/pylock.ts";
import { readUvLock } from "../../../src/python/locks/uv_lock.ts";
import { type SelectedPackage, selectForTarget } from "../../../src/python/locks/select.ts";
import { FIXTURES, linux, windows } from "./_targets.ts";

const UV_PYLOCK = `${FIXTURES}/uv/pylock.toml`;
const MULTI = `${FIXTURES}/pylock/pylock.multi.toml`;

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

test("readPylock() reads uv's pylock.toml export: versions, index, files with hashes and times", async () => {
  const lock = await readPylock(UV_PYLOCK);
  const uv = await readUvLock(`${FIXTURES}/uv/uv.lock`);
  assert.equal(lock.kind, "pylock.toml");
  assert.equal(lock.formatVersion, "1.0");
  assert.equal(lock.requiresPython, uv.requiresPython);
  assert.deepEqual(lock.indexUrls, uv.indexUrls);
  // the same packages and files as the uv.lock it was exported from
  assert.deepEqual(
    lock.packages.map((p) => `${p.name}==${p.version}`).sort(),
    uv.packages.map((p) => `${p.name}==${p.version}`).sort(),
  );
  for (const p of lock.packages) {
    const twin = uv.packages.find((q) => q.name === p.name);
    assert.deepEqual(
      p.files.map((f) => `${f.filename} ${f.hashes.sha256} ${f.size}`).sort(),
      twin?.files.map((f) => `${f.filename} ${f.hashes.sha256} ${f.size}`).sort(),
    );
    assert.match(p.files[0]?.uploadTime ?? "", /^\d{4}-\d\d-\d\dT/);
  }
});

test("selectForTarget() on uv's pylock.toml equals uv.lock with every extra and group", async () => {
  const lock = await readPylock(UV_PYLOCK);
  const uv = await readUvLock(`${FIXTURES}/uv/uv.lock`);
  for (const [py, arch] of [["3.11.7", "amd64"], ["3.11.2", "arm64"], ["3.13.1", "amd64"]]) {
    const all = { extras: ["redis"], groups: ["dev"] };
    assert.deepEqual(
      pins(selectForTarget(lock, linux(py as string, arch as string))),
      pins(selectForTarget(uv, linux(py as string, arch as string, all))),
      `${py} ${arch}`,
    );
  }
  const win = selectForTarget(lock, windows("3.12.4")).map((s) => s.package.name);
  assert.ok(win.includes("colorama") && !win.includes("uvloop"));
});

test("selectForTarget() on a multi-use pylock evaluates extras, dependency groups and default-groups", async () => {
  const lock = await readPylock(MULTI);
  assert.deepEqual(lock.defaultGroups, ["docs"]);
  const names = (t: Parameters<typeof selectForTarget>[1]) =>
    selectForTarget(lock, t).map((s) => s.package.name);
  const plain = names(linux("3.12.4", "amd64"));
  assert.ok(plain.includes("mkdocs-theme"), "default group docs");
  assert.ok(!plain.includes("pytest") && !plain.includes("redis") && !plain.includes("colorama"));
  assert.ok(plain.includes("uvloop") && plain.includes("click"));
  const dev = names(linux("3.12.4", "amd64", { groups: ["dev"] }));
  assert.ok(
    dev.includes("pytest") && !dev.includes("mkdocs-theme"),
    "asked groups replace defaults",
  );
  const redis = names(linux("3.11.2", "amd64", { extras: ["redis"] }));
  assert.ok(redis.includes("redis") && redis.includes("async-timeout"));
  assert.ok(!names(linux("3.11.4", "amd64", { extras: ["redis"] })).includes("async-timeout"));
  const win = names(windows("3.12.4", { groups: ["dev"] }));
  assert.ok(win.includes("colorama") && !win.includes("uvloop"));
});

test("parsePylock() maps vcs, directory and archive sources", async () => {
  const lock = await readPylock(MULTI);
  const by = (n: string) => lock.packages.find((p) => p.name === n);
  assert.deepEqual(by("mkdocs-theme")?.source, {
    kind: "git",
    url: "https://github.com/example/mkdocs-theme.git",
    commit: "0123456789abcdef0123456789abcdef01234567",
    requested: "v1.0.0",
  });
  assert.deepEqual(by("localpkg")?.source, { kind: "path", path: "packages/localpkg" });
  assert.deepEqual(by("vendored")?.source, {
    kind: "url",
    url: "https://example.com/dl/vendored-2.0-py3-none-any.whl",
  });
  const sel = selectForTarget(lock, linux("3.12.4", "amd64"));
  assert.equal(
    sel.find((s) => s.package.name === "vendored")?.wheel?.filename,
    "vendored-2.0-py3-none-any.whl",
  );
  assert.equal(sel.find((s) => s.package.name === "localpkg")?.wheel, undefined);
});

test("selectForTarget() on pylock refuses unknown extras/groups, other Pythons and environments", async () => {
  const lock = await readPylock(MULTI);
  const extra = errorOf(() => selectForTarget(lock, linux("3.12.4", "amd64", { extras: ["pg"] })));
  assert.match(extra.message, /pylock\.multi\.toml: the lock has no extra "pg"/);
  assert.match(extra.hint ?? "", /redis/);
  const group = errorOf(() => selectForTarget(lock, linux("3.12.4", "amd64", { groups: ["ci"] })));
  assert.match(group.hint ?? "", /dev, docs/);
  const py = errorOf(() => selectForTarget(lock, linux("3.10.12", "amd64")));
  assert.match(py.message, /requires Python >=3\.11 but the target has 3\.10\.12/);
  assert.equal(py.exitCode, 2);
  const darwin = linux("3.12.4", "arm64");
  darwin.markerEnv = { ...darwin.markerEnv, sys_platform: "darwin" };
  const env = errorOf(() => selectForTarget(lock, darwin));
  assert.match(env.message, /covers only sys_platform == 'linux' \| sys_platform == 'win32'/);
});

test("parsePylock() reports bad documents with the line of the package", () => {
  const text = readFileSync(MULTI, "utf8");
  const broken = text.replace(/^marker = "'dev' in dependency_groups"\n/m, "$&bogus = [\n");
  assert.match(
    errorOf(() => parsePylock(broken, "pylock.toml")).message,
    /^pylock\.toml:\d+:\d+: invalid TOML/,
  );
  assert.match(
    errorOf(() => parsePylock('lock-version = "2.0"\n', "pylock.toml")).message,
    /pylock\.toml:1: unsupported lock-version "2\.0"/,
  );
  const noHash =
    'lock-version = "1.0"\ncreated-by = "x"\n\n[[packages]]\nname = "a"\nversion = "1"\n' +
    'wheels = [{ url = "https://f/a-1-py3-none-any.whl", hashes = {} }]\n';
  const e = errorOf(() => parsePylock(noHash, "pylock.toml"));
  assert.equal(
    e.message,
    'pylock.toml:4: package "a" wheel #1: has no hashes (PEP 751 requires at least one)',
  );
  const noSource =
    'lock-version = "1.0"\n[[packages]]\nname = "a"\n\n[[packages]]\nname = "b"\nversion = "1"\n';
  assert.match(
    errorOf(() => parsePylock(noSource, "p.toml")).message,
    /^p\.toml:2: package "a": has no source/,
  );
  const both = 'lock-version = "1.0"\n[[packages]]\nname = "a"\ndirectory = { path = "." }\n' +
    'archive = { path = "a.whl", hashes = { sha256 = "aa" } }\n';
  assert.match(
    errorOf(() => parsePylock(both, "p.toml")).message,
    /directory and archive cannot be used together/,
  );
});

test("selectForTarget() on pylock refuses two versions of one package for a target", () => {
  const text = `lock-version = "1.0"
created-by = "x"
[[packages]]
name = "lib"
version = "1.0"
marker = "python_version < '3.13'"
wheels = [{ url = "https://f/lib-1.0-py3-none-any.whl", hashes = { sha256 = "aa" } }]
[[packages]]
name = "lib"
version = "2.0"
marker = "python_version >= '3.12'"
wheels = [{ url = "https://f/lib-2.0-py3-none-any.whl", hashes = { sha256 = "bb" } }]
`;
  const lock = parsePylock(text, "pylock.toml");
  assert.equal(selectForTarget(lock, linux("3.11.1", "amd64"))[0]?.package.version, "1.0");
  assert.equal(selectForTarget(lock, linux("3.13.1", "amd64"))[0]?.package.version, "2.0");
  const e = errorOf(() => selectForTarget(lock, linux("3.12.1", "amd64")));
  assert.match(e.message, /^pylock\.toml:8: lib is selected twice .*\(1\.0 and 2\.0\)/);
});
