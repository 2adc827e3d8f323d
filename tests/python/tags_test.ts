import { test } from "node:test";
import assert from "node:assert/strict";
import { compatibleTags, platformTags, wheelTagPriority } from "../../src/python/tags.ts";
import { parseWheelFilename } from "../../src/python/wheel_name.ts";
import { PycontainerError } from "../../src/errors.ts";
import { packagingFixture } from "./_packaging_fixtures.ts";

interface TagFixture {
  targets: {
    python_version: string;
    free_threaded: boolean;
    arch: string;
    libc: "glibc" | "musl";
    libc_version: string;
    platforms: string[];
    tags: string[];
  }[];
}

test("compatibleTags() lists the same tags in the same order as packaging", () => {
  const fx = packagingFixture<TagFixture>("tags.json");
  assert.ok(fx.targets.length >= 9);
  for (const t of fx.targets) {
    const libc = { family: t.libc, version: t.libc_version };
    const what = `cp${t.python_version} ${t.arch} ${t.libc} ${t.libc_version}`;
    assert.deepEqual(platformTags(t.arch, libc), t.platforms, what);
    const tags = compatibleTags({
      pythonVersion: t.python_version,
      arch: t.arch,
      libc,
      freeThreaded: t.free_threaded,
    });
    assert.deepEqual(tags, t.tags, what);
  }
});

test("compatibleTags() accepts OCI architecture names", () => {
  const a = compatibleTags({
    pythonVersion: "3.12",
    arch: "arm64",
    libc: { family: "glibc", version: "2.41" },
  });
  const b = compatibleTags({
    pythonVersion: "3.12.7",
    arch: "aarch64",
    libc: { family: "glibc", version: "2.41" },
  });
  assert.deepEqual(a, b);
  assert.ok(!a.some((t) => t.includes("x86_64") || t.includes("musllinux")));
});

test("compatibleTags() rejects unsupported targets", () => {
  assert.throws(
    () =>
      compatibleTags({
        pythonVersion: "3",
        arch: "amd64",
        libc: { family: "glibc", version: "2.36" },
      }),
    PycontainerError,
  );
  assert.throws(
    () =>
      compatibleTags({
        pythonVersion: "3.12",
        arch: "sparc",
        libc: { family: "glibc", version: "2.36" },
      }),
    /unsupported architecture/,
  );
});

test("wheelTagPriority() ranks real wheel names for a target", () => {
  const tags = compatibleTags({
    pythonVersion: "3.12",
    arch: "amd64",
    libc: { family: "glibc", version: "2.36" },
  });
  const rank = (f: string) => wheelTagPriority(tags, parseWheelFilename(f).tags);
  const specific = rank(
    "pydantic_core-2.23.4-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
  );
  const abi3 = rank("cryptography-43.0.1-cp39-abi3-manylinux_2_28_x86_64.whl");
  const pure = rank("six-1.16.0-py2.py3-none-any.whl");
  assert.ok(specific !== undefined && abi3 !== undefined && pure !== undefined);
  assert.ok(specific < abi3 && abi3 < pure);
  assert.equal(rank("numpy-2.1.0-cp312-cp312-manylinux_2_17_aarch64.whl"), undefined);
  assert.equal(rank("numpy-2.1.0-cp311-cp311-manylinux_2_17_x86_64.whl"), undefined);
  assert.equal(rank("numpy-2.1.0-cp312-cp312-manylinux_2_39_x86_64.whl"), undefined);
  assert.equal(rank("numpy-2.1.0-cp312-cp312-musllinux_1_2_x86_64.whl"), undefined);
  assert.equal(
    wheelTagPriority(tags, ["CP312-CP312-MANYLINUX1_X86_64"]),
    tags.indexOf("cp312-cp312-manylinux1_x86_64"),
  );
});
