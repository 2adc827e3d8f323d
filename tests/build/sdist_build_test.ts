import { test } from "node:test";
import assert from "node:assert/strict";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  buildWheelFromSdist,
  checkBuiltWheel,
  findSdistBuilder,
  redactUserinfo,
} from "../../src/build/sdist_build.ts";
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

test("redactUserinfo() hides URL credentials in tool output", () => {
  assert.equal(
    redactUserinfo(
      "Looking in indexes: https://user:s3cret@pypi.example/simple/ and http://tok@x/",
    ),
    "Looking in indexes: https://***@pypi.example/simple/ and http://***@x/",
  );
  assert.equal(redactUserinfo("no urls here: a@b"), "no urls here: a@b");
});

test("buildWheelFromSdist() reports a failing tool with the end of its output, redacted", async () => {
  const dir = await mkdtemp(join(tmpdir(), "pycontainer-fake-pip-"));
  try {
    const pip = join(dir, "pip");
    await writeFile(
      pip,
      '#!/bin/sh\necho "Looking in indexes: $PIP_INDEX_URL"\necho "error: backend failed" >&2\nexit 1\n',
    );
    await chmod(pip, 0o755);
    await assert.rejects(
      buildWheelFromSdist(join(dir, "pkg-1.0.tar.gz"), "pkg 1.0", {
        builder: { tool: "pip", command: [pip] },
        outDir: dir,
        env: { PATH: "/usr/bin:/bin" },
        indexUrl: "https://user:s3cret@pypi.example/simple/",
      }),
      (err) => {
        assert.ok(err instanceof PycontainerError);
        assert.match(
          err.message,
          /^pkg 1\.0 has no wheel for the target, only an sdist: pip could not build/,
        );
        assert.match(
          err.message,
          /https:\/\/\*\*\*@pypi\.example\/simple\/ \| error: backend failed/,
        );
        assert.doesNotMatch(err.message, /s3cret/);
        return true;
      },
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
