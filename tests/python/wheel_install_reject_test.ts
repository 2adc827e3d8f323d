import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { installWheel } from "../../src/python/wheel_install.ts";
import { makeWheel, testRecordHash, writeZip } from "./_zip_writer.ts";
import {
  content,
  find,
  rejectsWith,
  SP,
  TARGET,
  withTemp,
  writeWheel,
} from "./_install_helpers.ts";

test("installWheel() rejects malicious and broken wheels with clear messages", async () => {
  const info = "demo-1.0.dist-info";
  const cases: [string, Uint8Array, RegExp][] = [
    [
      "traversal",
      writeZip([{ name: "../../etc/cron.d/x", data: "x" }]),
      /traversal\.whl is rejected: entry "\.\.\/\.\.\/etc\/cron\.d\/x" escapes/,
    ],
    [
      "absolute",
      writeZip([{ name: "/etc/passwd", data: "x" }]),
      /absolute\.whl is rejected: entry "\/etc\/passwd" has an absolute path/,
    ],
    [
      "backslash",
      writeZip([{ name: "..\\evil.py", data: "x" }]),
      /backslash\.whl is rejected: .* contains a backslash/,
    ],
    [
      "symlink",
      makeWheel({ files: { "demo/link": { data: "/etc/shadow", mode: 0o120777 } } }),
      /symlink\.whl is rejected: "demo\/link" is a symbolic link/,
    ],
    [
      "truncated",
      makeWheel({ files: { "demo.py": "x" } }).subarray(0, 100),
      /truncated\.whl is not a valid ZIP archive/,
    ],
    [
      "no-dist-info",
      writeZip([{ name: "demo.py", data: "x" }]),
      /no-dist-info\.whl has no \.dist-info directory/,
    ],
    [
      "two-dist-info",
      makeWheel({ files: { "other-2.0.dist-info/METADATA": "Name: other\n" } }),
      /has 2 \.dist-info directories \(demo-1\.0\.dist-info, other-2\.0\.dist-info\)/,
    ],
    [
      "unlisted",
      makeWheel({ files: { "demo.py": "x" }, record: (r) => r.replace(/^demo\.py,.*\n/m, "") }),
      /unlisted\.whl has a bad RECORD: "demo\.py" is not listed in RECORD/,
    ],
    [
      "md5",
      makeWheel({
        files: { "demo.py": "x" },
        record: (r) => r.replace(/^demo\.py,sha256=[^,]+/m, "demo.py,md5=abc"),
      }),
      /RECORD has no valid hash for "demo\.py" \(md5=abc\)/,
    ],
    [
      "size",
      makeWheel({
        files: { "demo.py": "x" },
        record: (r) => r.replace(/^(demo\.py,[^,]+),1$/m, "$1,2"),
      }),
      /RECORD says "demo\.py" is 2 bytes, the archive says 1/,
    ],
    [
      "metadata-hash",
      makeWheel({
        files: {},
        record: (r) => r.replace(/^(.*METADATA),sha256=[^,]+/m, `$1,${testRecordHash("other")}`),
      }),
      /metadata-hash\.whl: "demo-1\.0\.dist-info\/METADATA" does not match its RECORD hash/,
    ],
    [
      "scheme",
      makeWheel({ files: { "demo-1.0.data/config/x.cfg": "x" } }),
      /scheme\.whl is not a valid wheel: it uses unknown \.data scheme "config"/,
    ],
    [
      "python",
      makeWheel({ files: { "demo-1.0.data/scripts/python3": "x" } }),
      /has script "python3", which would replace the venv's python/,
    ],
    [
      "script-dir",
      makeWheel({ files: { "demo-1.0.data/scripts/sub/x": "x" } }),
      /has a directory in demo-1\.0\.data\/scripts\//,
    ],
    [
      "twice",
      makeWheel({ files: { "x.py": "1", "demo-1.0.data/purelib/x.py": "2" } }),
      /installs ".*site-packages\/x\.py" twice/,
    ],
    [
      "version",
      makeWheel({ files: {}, wheelFile: "Wheel-Version: 2.0\nRoot-Is-Purelib: true\n" }),
      /uses wheel format 2\.0, which is not supported/,
    ],
    [
      "no-record",
      writeZip([{ name: `${info}/METADATA`, data: "Name: demo\nVersion: 1.0\n" }, {
        name: `${info}/WHEEL`,
        data: "Wheel-Version: 1.0\n",
      }]),
      /no-record\.whl is not a valid wheel: it has no demo-1\.0\.dist-info\/RECORD/,
    ],
    [
      "ep-python",
      makeWheel({ files: {}, entryPoints: "[console_scripts]\npython = demo:main\n" }),
      /script "python" would replace the venv's python/,
    ],
    [
      "ep-bad",
      makeWheel({ files: {}, entryPoints: "[console_scripts]\ntool = demo\n" }),
      /entry_points\.txt line 2: "demo" is not a module:function reference/,
    ],
    [
      "ep-slash",
      makeWheel({ files: {}, entryPoints: "[console_scripts]\n../tool = demo:main\n" }),
      /"\.\.\/tool" is not a safe script name/,
    ],
  ];
  await withTemp(async (dir) => {
    for (const [name, bytes, pattern] of cases) {
      const path = await writeWheel(dir, `${name}.whl`, bytes);
      await assert.rejects(installWheel(path, TARGET), rejectsWith(pattern), name);
    }
    const meta = "Metadata-Version: 2.1\nName: Demo.Pkg\nVersion: 1.0\n";
    const wheelFile = "Wheel-Version: 1.0\nRoot-Is-Purelib: true\n";
    const canonical = await writeWheel(
      dir,
      "canonical.whl",
      writeZip([
        { name: "demo_pkg-1.0.dist-info/METADATA", data: meta },
        { name: "demo_pkg-1.0.dist-info/WHEEL", data: wheelFile },
        {
          name: "demo_pkg-1.0.dist-info/RECORD",
          data: `demo_pkg-1.0.dist-info/METADATA,${testRecordHash(meta)},${meta.length}\n` +
            `demo_pkg-1.0.dist-info/WHEEL,${testRecordHash(wheelFile)},${wheelFile.length}\n` +
            "demo_pkg-1.0.dist-info/RECORD,,\n",
        },
      ]),
    );
    assert.deepEqual((await installWheel(canonical, TARGET)).dist, {
      name: "Demo.Pkg",
      version: "1.0",
    });
    const renamed = await writeWheel(
      dir,
      "renamed.whl",
      writeZip([
        { name: "evil-1.0.dist-info/METADATA", data: "Name: demo\nVersion: 1.0\n" },
        { name: "evil-1.0.dist-info/WHEEL", data: "Wheel-Version: 1.0\n" },
        { name: "evil-1.0.dist-info/RECORD", data: "" },
      ]),
    );
    await assert.rejects(
      installWheel(renamed, TARGET),
      rejectsWith(/has evil-1\.0\.dist-info but METADATA names "demo"/),
    );
    await assert.rejects(
      installWheel(join(dir, "absent.whl"), TARGET),
      rejectsWith(/cannot open .*absent\.whl/),
    );
  });
});

test("installWheel() entries fail when a streamed file doesn't match its RECORD hash", async () => {
  await withTemp(async (dir) => {
    const path = await writeWheel(
      dir,
      "tampered.whl",
      makeWheel({
        files: { "demo.py": "print('good')\n" },
        record: (r) =>
          r.replace(/^demo\.py,sha256=[^,]+/m, `demo.py,${testRecordHash("print('evil')\n")}`),
      }),
    );
    const demo = await installWheel(path, TARGET);
    await assert.rejects(
      content(find(demo, `${SP}/demo.py`)),
      rejectsWith(/tampered\.whl: "demo\.py" does not match its RECORD hash/),
    );
  });
});
