import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { localUrlsAsPaths, writeLockFile } from "../../src/build/write_lock.ts";
import { readPylock } from "../../src/python/locks/pylock.ts";
import { markerEnvironmentFor } from "../../src/python/marker_environment.ts";
import type { Resolution } from "../../src/python/resolver_types.ts";
import { PycontainerError } from "../../src/errors.ts";
import { selectForTarget } from "../../src/python/locks/select.ts";
import { compatibleTags } from "../../src/python/tags.ts";

const wheel = (filename: string, url: string, sha256: string) => ({
  filename,
  url,
  hashes: { sha256 },
  requiresPython: undefined,
  yanked: false as const,
  size: 10,
  uploadTime: undefined,
  coreMetadata: false as const,
});

const resolution: Resolution = {
  packages: [
    {
      name: "six",
      displayName: "six",
      version: "1.17.0",
      indexUrl: "https://pypi.org/simple/",
      wheel: wheel("six-1.17.0-py2.py3-none-any.whl", "https://f/six.whl", "a".repeat(64)),
      requires: [],
      dependencies: [],
      extras: [],
      requiredBy: ["<root>"],
      path: ["six"],
      requiresPython: undefined,
    },
    {
      name: "local",
      displayName: "local",
      version: "2.0",
      indexUrl: "",
      wheel: wheel(
        "local-2.0-py3-none-any.whl",
        "file:///w/d%20ir/local-2.0-py3-none-any.whl",
        "b".repeat(64),
      ),
      requires: [],
      dependencies: [],
      extras: [],
      requiredBy: ["<root>"],
      path: ["local"],
      requiresPython: undefined,
    },
  ],
  requirements: ["six", "local"],
  pythonFullVersion: "3.11.2",
  stats: { rounds: 2, backjumps: 0, metadata: 2 },
};

test("writeLockFile() writes a pylock.toml the lock reader reads back", async () => {
  const dir = await mkdtemp(join(tmpdir(), "pycontainer-write-lock-"));
  try {
    const path = join(dir, "sub", "pylock.toml");
    const markerEnv = markerEnvironmentFor({ pythonFullVersion: "3.11.2", arch: "arm64" });
    const n = await writeLockFile(path, [{ resolution, markerEnv }], { requiresPython: ">=3.11" });
    assert.equal(n, 2);
    const set = await readPylock(path);
    assert.deepEqual(set.packages.map((p) => `${p.name}==${p.version}`), [
      "local==2.0",
      "six==1.17.0",
    ]);
    const local = set.packages[0]!.files[0]!;
    assert.equal(local.path, "/w/d ir/local-2.0-py3-none-any.whl");
    assert.equal(local.url, undefined);
    assert.equal(set.packages[1]!.files[0]!.hashes.sha256, "a".repeat(64));
    assert.match(await readFile(path, "utf8"), /platform_machine == 'aarch64'/);
    assert.deepEqual(await readdir(join(dir, "sub")), ["pylock.toml"]); // no temp file left
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("writeLockFile() names the file it cannot write", async () => {
  const markerEnv = markerEnvironmentFor({ pythonFullVersion: "3.11.2", arch: "amd64" });
  await assert.rejects(
    writeLockFile("/proc/version/pylock.toml", [{ resolution, markerEnv }]),
    (err) => {
      assert.ok(err instanceof PycontainerError);
      assert.match(err.message, /cannot write the lock file \/proc\/version\/pylock\.toml/);
      return true;
    },
  );
});

test("localUrlsAsPaths() leaves remote URLs alone", () => {
  const t = 'url = "https://files/x.whl", size = 1';
  assert.equal(localUrlsAsPaths(t), t);
});

test("writeLockFile() merges several platforms into one lock each target selects from", async () => {
  const dir = await mkdtemp(join(tmpdir(), "pycontainer-write-lock-"));
  try {
    const pkg = (name: string, version: string, filename: string, sha: string) => ({
      ...resolution.packages[0]!,
      name,
      displayName: name,
      version,
      wheel: wheel(filename, `https://f/${filename}`, sha.repeat(64)),
      path: [name],
    });
    const amd = markerEnvironmentFor({ pythonFullVersion: "3.11.2", arch: "amd64" });
    const arm = markerEnvironmentFor({ pythonFullVersion: "3.11.2", arch: "arm64" });
    const six = pkg("six", "1.17.0", "six-1.17.0-py2.py3-none-any.whl", "a");
    const res = (packages: typeof resolution.packages) => ({ ...resolution, packages });
    const targets = [
      {
        markerEnv: amd,
        resolution: res([
          six,
          pkg("uvloop", "0.23.0", "uvloop-0.23.0-cp311-cp311-manylinux_2_17_x86_64.whl", "c"),
        ]),
      },
      {
        markerEnv: arm,
        resolution: res([
          six,
          pkg("uvloop", "0.23.0", "uvloop-0.23.0-cp311-cp311-manylinux_2_17_aarch64.whl", "d"),
          pkg("armonly", "1.0", "armonly-1.0-py3-none-any.whl", "e"),
        ]),
      },
    ];
    const path = join(dir, "pylock.toml");
    assert.equal(await writeLockFile(path, targets), 3);
    const set = await readPylock(path);
    assert.equal(set.environments?.length, 2);
    const pick = (env: typeof amd, arch: string) =>
      selectForTarget(set, {
        markerEnv: env,
        tags: compatibleTags({
          pythonVersion: "3.11",
          arch,
          libc: { family: "glibc", version: "2.36" },
        }),
      }).map((s) => s.wheel?.filename).sort();
    assert.deepEqual(pick(amd, "amd64"), [
      "six-1.17.0-py2.py3-none-any.whl",
      "uvloop-0.23.0-cp311-cp311-manylinux_2_17_x86_64.whl",
    ]);
    assert.deepEqual(pick(arm, "arm64"), [
      "armonly-1.0-py3-none-any.whl",
      "six-1.17.0-py2.py3-none-any.whl",
      "uvloop-0.23.0-cp311-cp311-manylinux_2_17_aarch64.whl",
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
