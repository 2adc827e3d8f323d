import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parse } from "smol-toml";
import { PycontainerError } from "../../../src/errors.ts";
import { parseUvLock, readUvLock } from "../../../src/python/locks/uv_lock.ts";
import { type SelectedPackage, selectForTarget } from "../../../src/python/locks/select.ts";
import { parseRequirement } from "../../../src/python/requirement.ts";
import { wheelTagPriority } from "../../../src/python/tags.ts";
import { parseWheelFilename } from "../../../src/python/wheel_name.ts";
import { FIXTURES, linux, windows } from "./_targets.ts";

const LOCK = `${FIXTURES}/uv/uv.lock`;
const TEXT = readFileSync(LOCK, "utf8");

function names(sel: SelectedPackage[]): string[] {
  return sel.map((s) => s.package.name);
}

/** The line of `[[package]]` for a name, found independently of the reader's scanner. */
function packageLine(text: string, name: string): number {
  const lines = text.split("\n");
  const at = lines.findIndex((l) => l === `name = "${name}"`);
  assert.ok(at > 0, name);
  assert.equal(lines[at - 1], "[[package]]");
  return at;
}

/** Asserts each chosen wheel fits the target and no other wheel of the package ranks better. */
function assertBestWheels(sel: SelectedPackage[], tags: readonly string[]): void {
  for (const s of sel) {
    const wheel = s.wheel;
    assert.ok(wheel !== undefined, `${s.package.name} has a wheel`);
    const rank = (f: string) => wheelTagPriority(tags, parseWheelFilename(f).tags) ?? Infinity;
    const chosen = rank(wheel.filename);
    assert.ok(chosen < Infinity, `${wheel.filename} fits`);
    for (const f of s.package.files) {
      if (f.filename.endsWith(".whl")) assert.ok(rank(f.filename) >= chosen, f.filename);
    }
    assert.match(wheel.hashes.sha256 ?? "", /^[0-9a-f]{64}$/);
    assert.ok(wheel.url?.endsWith(wheel.filename), wheel.url);
  }
}

test("readUvLock() reads the real uv.lock without the project and with its graph", async () => {
  const lock = await readUvLock(LOCK);
  const pyproject = parse(readFileSync(`${FIXTURES}/uv/pyproject.toml`, "utf8")) as {
    project: { name: string; dependencies: string[] };
  };
  assert.equal(lock.kind, "uv.lock");
  assert.equal(lock.formatVersion, "1");
  assert.ok(!lock.packages.some((p) => p.name === pyproject.project.name));
  assert.deepEqual(
    lock.graph?.root.map((e) => e.name).sort(),
    pyproject.project.dependencies.map((d) => parseRequirement(d).normalizedName).sort(),
  );
  assert.deepEqual(lock.graph?.root.find((e) => e.name === "uvicorn")?.extras, ["standard"]);
  assert.deepEqual(Object.keys(lock.graph?.rootExtras ?? {}), ["redis"]);
  assert.deepEqual(Object.keys(lock.graph?.rootGroups ?? {}), ["dev"]);
  assert.deepEqual(lock.indexUrls, ["https://pypi.org/simple"]);
  assert.equal(lock.requiresPython, ">=3.11");
  for (const p of lock.packages) {
    assert.equal(p.line, packageLine(TEXT, p.name));
    assert.deepEqual(p.source, { kind: "index", url: "https://pypi.org/simple" });
    assert.ok(p.files.length > 0);
    for (const f of p.files) {
      assert.ok(f.size !== undefined && f.size > 0 && f.uploadTime, f.filename);
    }
  }
});

test("selectForTarget() walks uv.lock for cp311 x86_64 glibc: uvicorn[standard] extras, no dev", async () => {
  const lock = await readUvLock(LOCK);
  const target = linux("3.11.7", "amd64");
  const sel = selectForTarget(lock, target);
  const got = names(sel);
  for (
    const n of [
      "fastapi",
      "uvicorn",
      "uvloop",
      "httptools",
      "watchfiles",
      "websockets",
      "pydantic-core",
    ]
  ) {
    assert.ok(got.includes(n), n);
  }
  for (const n of ["colorama", "pytest", "redis", "async-timeout", "iniconfig"]) {
    assert.ok(!got.includes(n), n);
  }
  assertBestWheels(sel, target.tags);
  const uvloop = sel.find((s) => s.package.name === "uvloop")?.wheel?.filename ?? "";
  assert.match(uvloop, /-cp311-cp311-.*manylinux.*x86_64/);
});

test("selectForTarget() on uv.lock gives aarch64 the same packages with aarch64 wheels", async () => {
  const lock = await readUvLock(LOCK);
  const x86 = selectForTarget(lock, linux("3.11.7", "amd64"));
  const arm = selectForTarget(lock, linux("3.11.7", "arm64"));
  assert.deepEqual(names(arm), names(x86));
  assertBestWheels(arm, linux("3.11.7", "arm64").tags);
  const binary = arm.filter((s) => !s.wheel?.filename.endsWith("-none-any.whl"));
  assert.ok(binary.length >= 5);
  for (const s of binary) {
    const platforms = parseWheelFilename(s.wheel?.filename ?? "").platformTags;
    assert.ok(platforms.every((p) => p.endsWith("_aarch64")), s.wheel?.filename);
  }
});

test("selectForTarget() on uv.lock picks cp313 wheels for Python 3.13 and follows python markers", async () => {
  const lock = await readUvLock(LOCK);
  const sel = selectForTarget(lock, linux("3.13.1", "amd64", { extras: ["redis"] }));
  assertBestWheels(sel, linux("3.13.1", "amd64").tags);
  assert.match(
    sel.find((s) => s.package.name === "pydantic-core")?.wheel?.filename ?? "",
    /-cp313-cp313-/,
  );
  assert.ok(names(sel).includes("redis"));
  // async-timeout is only needed by redis below Python 3.11.3
  assert.ok(!names(sel).includes("async-timeout"));
  const old = selectForTarget(lock, linux("3.11.2", "amd64", { extras: ["redis"] }));
  assert.ok(names(old).includes("async-timeout"));
});

test("selectForTarget() on uv.lock follows platform markers: win32 gets colorama, not uvloop", async () => {
  const lock = await readUvLock(LOCK);
  const win = names(selectForTarget(lock, windows("3.12.4")));
  assert.ok(win.includes("colorama"));
  assert.ok(!win.includes("uvloop"));
  const lin = names(selectForTarget(lock, linux("3.12.4", "amd64")));
  assert.deepEqual(
    win.filter((n) => n !== "colorama"),
    lin.filter((n) => n !== "uvloop"),
  );
});

test("selectForTarget() on uv.lock adds extras and dependency groups only when asked", async () => {
  const lock = await readUvLock(LOCK);
  const base = names(selectForTarget(lock, linux("3.12.4", "amd64")));
  const dev = names(selectForTarget(lock, linux("3.12.4", "amd64", { groups: ["dev"] })));
  const added = dev.filter((n) => !base.includes(n));
  assert.ok(added.includes("pytest") && added.includes("pluggy") && added.includes("iniconfig"));
  assert.ok(base.every((n) => dev.includes(n)));
  assert.throws(
    () => selectForTarget(lock, linux("3.12.4", "amd64", { extras: ["postgres"] })),
    (e: unknown) =>
      e instanceof PycontainerError && e.exitCode === 2 &&
      e.message.includes(`no extra "postgres"`) && (e.hint ?? "").includes("redis"),
  );
  assert.throws(
    () => selectForTarget(lock, linux("3.12.4", "amd64", { groups: ["test"] })),
    (e: unknown) => e instanceof PycontainerError && (e.hint ?? "").includes("dev"),
  );
});

test("selectForTarget() on uv.lock names the package, line, target and wheels when none fits", async () => {
  const lock = await readUvLock(LOCK);
  const target = linux("3.11.7", "s390x", { libc: "musl" });
  const err = (() => {
    try {
      selectForTarget(lock, target);
    } catch (e) {
      return e;
    }
  })();
  assert.ok(err instanceof PycontainerError);
  const m = /^(.*):(\d+): no wheel of (\S+) (\S+) fits the target (.*); its wheels are (.*)$/.exec(
    err.message,
  );
  assert.ok(m !== null, err.message);
  assert.equal(m[1], LOCK);
  assert.equal(Number(m[2]), packageLine(TEXT, m[3] as string));
  assert.equal(m[4], lock.packages.find((p) => p.name === m[3])?.version);
  assert.equal(m[5], "CPython 3.11.7, linux/s390x, musl 1.2");
  assert.ok((m[6] ?? "").includes("manylinux"));
  assert.match(err.hint ?? "", /pin a version.*--platform.*on the target/);
  assert.equal(err.exitCode, 1);
  const withSdist = selectForTarget(lock, { ...target, allowSdist: true });
  assert.ok(withSdist.some((s) => s.sdist?.filename.endsWith(".tar.gz")));
});

test("parseUvLock() reports malformed locks with the file and line", () => {
  assert.throws(
    () => parseUvLock('version = 1\n[[package]]\nname = "a" "b"\n', "uv.lock"),
    (e: unknown) =>
      e instanceof PycontainerError && /^uv\.lock:3:\d+: invalid TOML/.test(e.message),
  );
  assert.throws(
    () => parseUvLock("version = 2\n", "uv.lock"),
    (e: unknown) =>
      e instanceof PycontainerError && e.message.includes("unsupported uv.lock version 2"),
  );
  const noSource = 'version = 1\n\n[[package]]\nname = "app"\nsource = { virtual = "." }\n\n' +
    '[[package]]\nname = "six"\nversion = "1.0"\n';
  assert.throws(
    () => parseUvLock(noSource, "uv.lock"),
    (e: unknown) =>
      e instanceof PycontainerError &&
      e.message === 'uv.lock:7: package "six": "source" is missing' && e.exitCode === 2,
  );
  assert.throws(
    () =>
      parseUvLock(
        'version = 1\n[[package]]\nname = "six"\nversion = "1"\nsource = { registry = "x" }\n',
        "uv.lock",
      ),
    (e: unknown) => e instanceof PycontainerError && e.message.includes("no project package"),
  );
});

test("parseUvLock() keeps git, url and path sources and picks versions on forked edges", () => {
  const text = `version = 1
[[package]]
name = "app"
version = "0.1.0"
source = { editable = "." }
dependencies = [
  { name = "lib", version = "1.0", source = { registry = "https://pypi.org/simple" }, marker = "python_full_version < '3.12'" },
  { name = "lib", version = "2.0", source = { registry = "https://pypi.org/simple" }, marker = "python_full_version >= '3.12'" },
  { name = "tool" },
  { name = "member" },
]
[[package]]
name = "lib"
version = "1.0"
source = { registry = "https://pypi.org/simple" }
wheels = [{ url = "https://f/lib-1.0-py3-none-any.whl", hash = "sha256:aa" }]
[[package]]
name = "lib"
version = "2.0"
source = { registry = "https://pypi.org/simple" }
wheels = [{ url = "https://f/lib-2.0-py3-none-any.whl", hash = "sha256:bb" }]
[[package]]
name = "tool"
version = "0.3"
source = { git = "https://github.com/o/tool?rev=main#abcdef0123" }
[[package]]
name = "member"
version = "0.1"
source = { editable = "packages/member" }
`;
  const lock = parseUvLock(text, "uv.lock");
  assert.deepEqual(lock.packages.find((p) => p.name === "tool")?.source, {
    kind: "git",
    url: "https://github.com/o/tool",
    commit: "abcdef0123",
    requested: "main",
  });
  assert.deepEqual(lock.packages.find((p) => p.name === "member")?.source, {
    kind: "path",
    path: "packages/member",
    editable: true,
  });
  const v = (py: string) =>
    selectForTarget(lock, linux(py, "amd64")).find((s) => s.package.name === "lib")?.package
      .version;
  assert.equal(v("3.11.1"), "1.0");
  assert.equal(v("3.12.1"), "2.0");
  const tool = selectForTarget(lock, linux("3.12.1", "amd64")).find((s) =>
    s.package.name === "tool"
  );
  assert.equal(tool?.wheel, undefined);
});

test("selectForTarget() on uv.lock picks musllinux wheels for a musl (Alpine) target", async () => {
  const lock = await readUvLock(LOCK);
  const target = linux("3.12.8", "arm64", { libc: "musl" });
  const sel = selectForTarget(lock, target);
  assertBestWheels(sel, target.tags);
  const binary = sel.filter((s) => !s.wheel?.filename.endsWith("-none-any.whl"));
  assert.ok(binary.length >= 5);
  for (const s of binary) {
    const platforms = parseWheelFilename(s.wheel?.filename ?? "").platformTags;
    assert.ok(platforms.some((p) => /^musllinux_1_\d+_aarch64$/.test(p)), s.wheel?.filename);
    assert.ok(!platforms.some((p) => p.startsWith("manylinux")), s.wheel?.filename);
  }
});

test("selectForTarget() installs one of a uv.lock's conflicting extras or groups, never two", async () => {
  const lock = await readUvLock(`${FIXTURES}/uv_conflicts/uv.lock`);
  assert.deepEqual(lock.exclusive, [["extra new", "extra old"], ["group lint", "group lint2"]]);
  const pins = (extras: string[], groups: string[]) =>
    selectForTarget(lock, linux("3.11.7", "amd64", { extras, groups })).map((s) =>
      `${s.package.name}==${s.package.version}`
    ).sort();
  assert.deepEqual(pins([], []), ["click==8.5.1"]);
  assert.deepEqual(pins(["old"], ["lint"]), ["click==8.5.1", "idna==3.6", "six==1.16.0"]);
  assert.deepEqual(pins(["new"], ["lint2"]), ["click==8.5.1", "idna==3.10", "six==1.17.0"]);
  for (
    const [extras, groups, asked, flags] of [
      [["old", "new"], [], "extra new and extra old", "--extra new or --extra old"],
      [[], ["Lint", "lint2"], "group lint and group lint2", "--group lint or --group lint2"],
    ] as const
  ) {
    assert.throws(
      () =>
        selectForTarget(
          lock,
          linux("3.11.7", "amd64", { extras: [...extras], groups: [...groups] }),
        ),
      (e: unknown) => {
        assert.ok(e instanceof PycontainerError);
        assert.equal(
          e.message,
          `${FIXTURES}/uv_conflicts/uv.lock: ${asked} are declared conflicting ([tool.uv] conflicts), so they can't be installed together`,
        );
        assert.equal(e.hint, `build with only one of ${flags}`);
        assert.equal(e.exitCode, 2);
        return true;
      },
    );
  }
});
