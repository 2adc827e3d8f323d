import { test } from "node:test";
import assert from "node:assert/strict";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkBuiltWheel, findSdistBuilder } from "../../src/build/sdist_build.ts";
import { compatibleTags } from "../../src/python/tags.ts";
import { PycontainerError } from "../../src/errors.ts";

const tags = compatibleTags({
  pythonVersion: "3.11",
  arch: "amd64",
  libc: { family: "glibc", version: "2.36" },
});

test("checkBuiltWheel() accepts a pure-Python wheel", () => {
  checkBuiltWheel("pkg-1.0-py3-none-any.whl", "pkg 1.0", tags, "CPython 3.11.2");
  checkBuiltWheel("pkg-1.0-py2.py3-none-any.whl", "pkg 1.0", tags, "CPython 3.11.2");
});

test("checkBuiltWheel() refuses host-built binary wheels even when the tag list has them", () => {
  assert.ok(tags.includes("cp311-cp311-linux_x86_64"));
  assert.throws(
    () => checkBuiltWheel("pkg-1.0-cp311-cp311-linux_x86_64.whl", "pkg 1.0", tags, "T"),
    (err) => {
      assert.ok(err instanceof PycontainerError);
      assert.match(
        err.message,
        /^pkg 1\.0 has no wheel for the target, only an sdist: .*does not fit T/,
      );
      assert.match(err.hint ?? "", /pin a version .*build the wheel on the target .*--find-links/);
      return true;
    },
  );
  assert.throws(() => checkBuiltWheel("pkg-1.0-py2-none-any.whl", "pkg 1.0", tags, "T"));
});

test("findSdistBuilder() prefers uv, then pip, on PATH; none when disabled", async () => {
  const dir = await mkdtemp(join(tmpdir(), "pycontainer-builders-"));
  try {
    assert.equal(await findSdistBuilder({ PATH: dir }), undefined);
    await writeFile(join(dir, "pip"), "#!/bin/sh\n");
    await chmod(join(dir, "pip"), 0o755);
    assert.deepEqual(await findSdistBuilder({ PATH: dir }), {
      tool: "pip",
      command: [join(dir, "pip")],
    });
    await writeFile(join(dir, "uv"), "#!/bin/sh\n");
    await chmod(join(dir, "uv"), 0o755);
    assert.equal((await findSdistBuilder({ PATH: `/nonexistent:${dir}` }))?.tool, "uv");
    assert.equal(
      await findSdistBuilder({ PATH: dir, PYCONTAINER_NO_SDIST_BUILD: "1" }),
      undefined,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
