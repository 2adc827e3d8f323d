import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PycontainerError } from "../../src/errors.ts";
import type { LayerEntry } from "../../src/layer/entry.ts";
import { directUrlJson, installWheel, type WheelInstall } from "../../src/python/wheel_install.ts";
import { mergeInstalls } from "../../src/python/install_merge.ts";
import { writeLayer } from "../../src/layer/tar_writer.ts";
import { venvEntries } from "../../src/python/venv.ts";
import { parseRecord } from "../../src/python/record.ts";
import { bytesSource } from "../../src/python/random_access.ts";
import { readZipDirectory } from "../../src/python/zip_reader.ts";
import { readEntryBytes } from "../../src/python/zip_entry_stream.ts";
import { makeWheel, testRecordHash, writeZip } from "./_zip_writer.ts";
import { REAL_WHEELS, type RealWheel, realWheel } from "./_real_wheels.ts";

const TARGET = { venvDir: "app/.venv", pythonVersion: "3.12" };
const SP = "app/.venv/lib/python3.12/site-packages";
const dec = new TextDecoder();

async function content(entry: LayerEntry): Promise<Uint8Array> {
  assert.equal(entry.type, "file");
  if (entry.type !== "file") throw new Error("not a file");
  if (entry.content.kind === "bytes") return entry.content.bytes;
  const chunks: Uint8Array[] = [];
  const reader = entry.content.open().getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

function find(install: WheelInstall, path: string): LayerEntry {
  const entry = install.entries.find((e) => e.path === path);
  assert.ok(
    entry,
    `no entry ${path}; have ${install.entries.map((e) => e.path).slice(0, 20).join(", ")}`,
  );
  return entry;
}

function rejectsWith(pattern: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof PycontainerError, `expected PycontainerError, got ${error}`);
    assert.match(error.message, pattern);
    assert.equal(error.exitCode, 1);
    assert.ok(error.hint);
    return true;
  };
}

/** Checks RECORD against the entries: every file listed once, hashes and sizes recomputed from content. */
async function checkRecord(install: WheelInstall, distInfo: string): Promise<void> {
  const recordEntry = find(install, `${SP}/${distInfo}/RECORD`);
  const rows = parseRecord(dec.decode(await content(recordEntry)), "installed");
  const files = install.entries.filter((e) => e.type === "file");
  assert.equal(rows.length, files.length);
  const byPath = new Map(rows.map((r) => [join("/", SP, r.path).slice(1), r]));
  for (const entry of files) {
    const row = byPath.get(entry.path);
    assert.ok(row, `RECORD lacks ${entry.path}`);
    if (entry.path.endsWith(`${distInfo}/RECORD`)) {
      assert.equal(row.hash + row.size, "");
      continue;
    }
    const bytes = await content(entry);
    assert.equal(row.hash, testRecordHash(bytes), entry.path);
    assert.equal(row.size, String(bytes.length), entry.path);
  }
}

async function real(
  t: { skip: (msg: string) => void },
  wheel: RealWheel,
): Promise<string | undefined> {
  const got = await realWheel(wheel);
  if ("error" in got) {
    t.skip(got.error);
    return undefined;
  }
  return got.path;
}

async function withTemp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "pyc-wheel-"));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function writeWheel(dir: string, name: string, bytes: Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

test("installWheel() installs a pure-Python wheel with a rewritten RECORD and streamed files", async (t) => {
  const path = await real(t, REAL_WHEELS.six);
  if (!path) return;
  const wheelSha = createHash("sha256").update(await readFile(path)).digest("hex");
  const six = await installWheel(path, TARGET, { requested: true });
  assert.deepEqual(six.dist, { name: "six", version: "1.16.0" });
  assert.equal(six.label, "six 1.16.0 (six-1.16.0-py2.py3-none-any.whl)");
  assert.deepEqual(six.entries.map((e) => e.path), [
    `${SP}/six-1.16.0.dist-info/INSTALLER`,
    `${SP}/six-1.16.0.dist-info/LICENSE`,
    `${SP}/six-1.16.0.dist-info/METADATA`,
    `${SP}/six-1.16.0.dist-info/RECORD`,
    `${SP}/six-1.16.0.dist-info/REQUESTED`,
    `${SP}/six-1.16.0.dist-info/WHEEL`,
    `${SP}/six-1.16.0.dist-info/top_level.txt`,
    `${SP}/six.py`,
  ]);
  const sixPy = find(six, `${SP}/six.py`);
  assert.ok(sixPy.type === "file" && sixPy.content.kind === "stream");
  assert.equal(sixPy.content.identity, `wheel:${wheelSha}:six.py`);
  assert.equal(sixPy.mode, 0o644);
  assert.match(
    dec.decode(await content(sixPy)),
    /^"""Utilities for writing code that runs on Python 2 and 3"""$/m,
  );
  assert.equal(
    dec.decode(await content(find(six, `${SP}/six-1.16.0.dist-info/INSTALLER`))),
    "pycontainer\n",
  );
  assert.equal((await content(find(six, `${SP}/six-1.16.0.dist-info/REQUESTED`))).length, 0);
  assert.deepEqual(six.consoleScripts, []);
  await checkRecord(six, "six-1.16.0.dist-info");
  // Streams can be opened again (a layer may be written twice, e.g. for two outputs).
  assert.deepEqual(await content(sixPy), await content(sixPy));
});

test("installWheel() keeps binary extension modules bit-exact and executable", async (t) => {
  const path = await real(t, REAL_WHEELS.markupsafe);
  if (!path) return;
  const ms = await installWheel(path, TARGET);
  const so = find(ms, `${SP}/markupsafe/_speedups.cpython-311-x86_64-linux-gnu.so`);
  assert.equal(so.type === "file" && so.mode, 0o755);
  const bytes = await content(so);
  assert.deepEqual([...bytes.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46]); // ELF
  // Bit-exact: same bytes as an independent read of the archive member.
  const zipBytes = await readFile(path);
  const source = bytesSource(new Uint8Array(zipBytes));
  const dir = await readZipDirectory(source);
  const member = dir.entries.find((e) =>
    e.name === "markupsafe/_speedups.cpython-311-x86_64-linux-gnu.so"
  )!;
  assert.deepEqual(bytes, await readEntryBytes(source, member));
  const init = find(ms, `${SP}/markupsafe/__init__.py`);
  assert.equal(init.type === "file" && init.mode, 0o644);
  await checkRecord(ms, "MarkupSafe-2.1.5.dist-info");
});

test("installWheel() writes console_scripts launchers and rewrites #!python in .data/scripts", async (t) => {
  const path = await real(t, REAL_WHEELS.docutils);
  if (!path) return;
  const du = await installWheel(path, TARGET);
  assert.deepEqual(du.consoleScripts, [{
    name: "docutils",
    module: "docutils.__main__",
    attr: "main",
    kind: "console",
    path: "app/.venv/bin/docutils",
  }]);
  const launcher = find(du, "app/.venv/bin/docutils");
  assert.equal(launcher.type === "file" && launcher.mode, 0o755);
  assert.equal(
    dec.decode(await content(launcher)),
    [
      "#!/app/.venv/bin/python",
      "# -*- coding: utf-8 -*-",
      "import sys",
      "from docutils.__main__ import main",
      'if __name__ == "__main__":',
      '    if sys.argv[0].endswith("-script.pyw"):',
      "        sys.argv[0] = sys.argv[0][:-11]",
      '    elif sys.argv[0].endswith(".exe"):',
      "        sys.argv[0] = sys.argv[0][:-4]",
      "    sys.exit(main())",
      "",
    ].join("\n"),
  );
  const script = find(du, "app/.venv/bin/rst2html.py");
  assert.equal(script.type === "file" && script.mode, 0o755);
  const text = dec.decode(await content(script));
  const original = dec.decode(
    await readEntryBytes(
      bytesSource(new Uint8Array(await readFile(path))),
      (await readZipDirectory(bytesSource(new Uint8Array(await readFile(path))))).entries.find((
        e,
      ) => e.name === "docutils-0.20.1.data/scripts/rst2html.py")!,
    ),
  );
  assert.ok(original.startsWith("#!python\n"));
  assert.equal(text, "#!/app/.venv/bin/python\n" + original.slice("#!python\n".length));
  assert.ok(!du.entries.some((e) => e.path.includes(".data/")));
  const record = dec.decode(await content(find(du, `${SP}/docutils-0.20.1.dist-info/RECORD`)));
  assert.match(record, /^\.\.\/\.\.\/\.\.\/bin\/docutils,sha256=[\w-]{43},\d+$/m);
  assert.match(record, /^\.\.\/\.\.\/\.\.\/bin\/rst2html\.py,sha256=[\w-]{43},\d+$/m);
  await checkRecord(du, "docutils-0.20.1.dist-info");
});

test("installWheel() puts .data/headers under include/site and .data/data at the venv root", async (t) => {
  const gpath = await real(t, REAL_WHEELS.greenlet);
  const kpath = gpath && await real(t, REAL_WHEELS.ipykernel);
  if (!gpath || !kpath) return;
  const greenlet = await installWheel(gpath, TARGET);
  assert.match(
    dec.decode(
      await content(find(greenlet, "app/.venv/include/site/python3.12/greenlet/greenlet.h")),
    ),
    /Greenlet/,
  );
  assert.ok(
    !greenlet.entries.some((e) => e.type !== "file"),
    "zip directory entries are not copied",
  );
  await checkRecord(greenlet, "greenlet-3.1.1.dist-info");
  const ipk = await installWheel(kpath, TARGET);
  const kernel = JSON.parse(
    dec.decode(await content(find(ipk, "app/.venv/share/jupyter/kernels/python3/kernel.json"))),
  );
  assert.ok(Array.isArray(kernel.argv));
  find(ipk, `${SP}/ipykernel-6.29.5.dist-info/licenses/LICENSE`);
  await checkRecord(ipk, "ipykernel-6.29.5.dist-info");
});

test("installWheel() installs .pth files and large wheels quickly, never touching the disk", async (t) => {
  const spath = await real(t, REAL_WHEELS.setuptools);
  const wpath = spath && await real(t, REAL_WHEELS.wheel);
  if (!spath || !wpath) return;
  await withTemp(async (dir) => {
    const copy = join(dir, REAL_WHEELS.setuptools.filename);
    await writeFile(copy, await readFile(spath));
    const started = performance.now();
    const st = await installWheel(copy, TARGET);
    let total = 0;
    for (const entry of st.entries) total += (await content(entry)).length;
    const elapsed = performance.now() - started;
    const members = (await readZipDirectory(bytesSource(new Uint8Array(await readFile(copy)))))
      .entries.filter((e) => !e.isDirectory);
    assert.equal(members.length, 504); // pinned wheel: 504 files, RECORD among them
    assert.equal(st.entries.length, members.length + 1); // + INSTALLER
    const recordSize = members.find((e) => e.name === "setuptools-75.6.0.dist-info/RECORD")!.size;
    const newRecord = await content(find(st, `${SP}/setuptools-75.6.0.dist-info/RECORD`));
    const installer = "pycontainer\n".length;
    assert.equal(
      total,
      members.reduce((n, e) => n + e.size, 0) - recordSize + newRecord.length + installer,
    );
    assert.ok(elapsed < 20_000, `installing and reading setuptools took ${elapsed} ms`);
    const pth = dec.decode(await content(find(st, `${SP}/distutils-precedence.pth`)));
    assert.match(pth, /^import os; var = 'SETUPTOOLS_USE_DISTUTILS'/);
    assert.deepEqual(await readdir(dir), [REAL_WHEELS.setuptools.filename]);
    await checkRecord(st, "setuptools-75.6.0.dist-info");
  });
  const wh = await installWheel(wpath, TARGET);
  assert.deepEqual(wh.consoleScripts.map((s) => [s.name, s.module, s.attr]), [[
    "wheel",
    "wheel.cli",
    "main",
  ]]);
});

test("installWheel() writes direct_url.json without credentials", async () => {
  await withTemp(async (dir) => {
    const path = await writeWheel(
      dir,
      "demo-1.0-py3-none-any.whl",
      makeWheel({ files: { "demo.py": "x = 1\n" } }),
    );
    const sha = createHash("sha256").update(await readFile(path)).digest("hex");
    const demo = await installWheel(path, TARGET, {
      directUrl: "https://user:s3cret@files.example.com/demo-1.0-py3-none-any.whl",
      installer: "uv",
    });
    const text = dec.decode(await content(find(demo, `${SP}/demo-1.0.dist-info/direct_url.json`)));
    assert.ok(!text.includes("s3cret") && !text.includes("user"));
    assert.deepEqual(JSON.parse(text), {
      archive_info: { hash: `sha256=${sha}`, hashes: { sha256: sha } },
      url: "https://files.example.com/demo-1.0-py3-none-any.whl",
    });
    assert.equal(
      dec.decode(await content(find(demo, `${SP}/demo-1.0.dist-info/INSTALLER`))),
      "uv\n",
    );
    assert.ok(!demo.entries.some((e) => e.path.endsWith("/REQUESTED")));
    await checkRecord(demo, "demo-1.0.dist-info");
    assert.equal(
      JSON.parse(directUrlJson("file:///wheels/x.whl", "ab")).url,
      "file:///wheels/x.whl",
    );
  });
});

test("installWheel() handles gui_scripts, #!pythonw and scripts shadowed by entry points", async () => {
  await withTemp(async (dir) => {
    const path = await writeWheel(
      dir,
      "demo.whl",
      makeWheel({
        files: {
          "demo/__init__.py": "",
          "demo-1.0.data/scripts/tool": "#!pythonw -u\nprint('tool')\n",
          "demo-1.0.data/scripts/demo-gui": "#!python\nshadowed\n",
          "demo-1.0.data/scripts/plain.sh": { data: "#!/bin/sh\necho hi\n", mode: 0o100644 },
          "demo-1.0.data/purelib/extra.py": "y = 2\n",
          "demo-1.0.data/platlib/plat.py": "z = 3\n",
        },
        entryPoints:
          "[gui_scripts]\ndemo-gui = demo.app:App.run [gui]\n\n[demo.plugins]\nx = demo:y\n",
      }),
    );
    const demo = await installWheel(path, TARGET);
    assert.deepEqual(demo.consoleScripts.map((s) => [s.name, s.kind, s.attr]), [[
      "demo-gui",
      "gui",
      "App.run",
    ]]);
    const gui = dec.decode(await content(find(demo, "app/.venv/bin/demo-gui")));
    assert.match(gui, /^#!\/app\/\.venv\/bin\/python\n/);
    assert.match(gui, /from demo\.app import App\n/);
    assert.match(gui, /sys\.exit\(App\.run\(\)\)/);
    assert.equal(
      dec.decode(await content(find(demo, "app/.venv/bin/tool"))),
      "#!/app/.venv/bin/python\nprint('tool')\n",
    );
    const plain = find(demo, "app/.venv/bin/plain.sh");
    assert.equal(plain.type === "file" && plain.mode, 0o755);
    assert.equal(dec.decode(await content(plain)), "#!/bin/sh\necho hi\n");
    find(demo, `${SP}/extra.py`);
    find(demo, `${SP}/plat.py`);
    await checkRecord(demo, "demo-1.0.dist-info");
  });
});

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

test("mergeInstalls() keeps identical files once and rejects conflicting ones", async (t) => {
  const path = await real(t, REAL_WHEELS.six);
  if (!path) return;
  const six = await installWheel(path, TARGET);
  const venv = { label: "venv", entries: venvEntries({ ...TARGET, pythonHome: "/usr/local/bin" }) };
  const merged = mergeInstalls([venv, six, six]);
  assert.equal(merged.length, venv.entries.length + six.entries.length);
  assert.deepEqual(merged.map((e) => e.path), [...merged.map((e) => e.path)].sort());

  await withTemp(async (dir) => {
    const a = await installWheel(
      await writeWheel(
        dir,
        "a.whl",
        makeWheel({ name: "a", files: { "shared/__init__.py": "", "shared/x.py": "A\n" } }),
      ),
      TARGET,
    );
    const b = await installWheel(
      await writeWheel(
        dir,
        "b.whl",
        makeWheel({ name: "b", files: { "shared/__init__.py": "", "shared/y.py": "B\n" } }),
      ),
      TARGET,
    );
    const c = await installWheel(
      await writeWheel(dir, "c.whl", makeWheel({ name: "c", files: { "shared/x.py": "C\n" } })),
      TARGET,
    );
    const ab = mergeInstalls([a, b]);
    assert.equal(ab.filter((e) => e.path === `${SP}/shared/__init__.py`).length, 1);
    assert.throws(
      () => mergeInstalls([a, b, c]),
      rejectsWith(
        /a 1\.0 \(a\.whl\) and c 1\.0 \(c\.whl\) both install ".*\/shared\/x\.py" with different content/,
      ),
    );
    const clobber = await installWheel(
      await writeWheel(
        dir,
        "d.whl",
        makeWheel({ name: "d", files: { "d-1.0.data/data/bin/python": "#!/bin/sh\n" } }),
      ),
      TARGET,
    );
    assert.throws(
      () => mergeInstalls([venv, clobber]),
      rejectsWith(/venv and d 1\.0 \(d\.whl\) both install "app\/\.venv\/bin\/python"/),
    );
  });
});

test("installWheel() entries stream into a real layer, reproducibly, and a tampered file fails it", async (t) => {
  const paths = [];
  for (const wheel of [REAL_WHEELS.six, REAL_WHEELS.markupsafe, REAL_WHEELS.docutils]) {
    const path = await real(t, wheel);
    if (!path) return;
    paths.push(path);
  }
  const installs: WheelInstall[] = [];
  for (const path of paths) installs.push(await installWheel(path, TARGET));
  const venv = { label: "venv", entries: venvEntries({ ...TARGET, pythonHome: "/usr/local/bin" }) };
  const entries = mergeInstalls([venv, ...installs]);
  await withTemp(async (dir) => {
    const write = async (name: string, list: readonly LayerEntry[]) => {
      const file = join(dir, name);
      const chunks: Uint8Array[] = [];
      const sink = new WritableStream<Uint8Array>({ write: (c) => void chunks.push(c) });
      const layer = await writeLayer(list, sink);
      await writeFile(file, Buffer.concat(chunks));
      return { file, layer };
    };
    const first = await write("a.tar.gz", entries);
    const second = await write("b.tar.gz", entries);
    assert.equal(first.layer.digest, second.layer.digest);
    const listing = execFileSync("tar", ["-tvzf", first.file], { encoding: "utf8" });
    assert.match(listing, /^-rwxr-xr-x .* app\/\.venv\/bin\/docutils$/m);
    assert.match(
      listing,
      /^-rwxr-xr-x .* app\/\.venv\/lib\/python3\.12\/site-packages\/markupsafe\/_speedups\.cpython-311-x86_64-linux-gnu\.so$/m,
    );
    assert.match(listing, /^-rw-r--r-- .* app\/\.venv\/lib\/python3\.12\/site-packages\/six\.py$/m);
    assert.match(
      listing,
      /^lrwxrwxrwx .* app\/\.venv\/bin\/python -> \/usr\/local\/bin\/python3\.12$/m,
    );
    const sixInTar = execFileSync("tar", ["-xzOf", first.file, `${SP}/six.py`]);
    assert.deepEqual(new Uint8Array(sixInTar), await content(find(installs[0]!, `${SP}/six.py`)));

    const tampered = await installWheel(
      await writeWheel(
        dir,
        "tampered.whl",
        makeWheel({
          files: { "demo.py": "print('good')\n" },
          record: (r) =>
            r.replace(/^demo\.py,sha256=[^,]+/m, `demo.py,${testRecordHash("print('evil')\n")}`),
        }),
      ),
      TARGET,
    );
    await assert.rejects(
      write("bad.tar.gz", mergeInstalls([venv, tampered])),
      rejectsWith(/tampered\.whl: "demo\.py" does not match its RECORD hash/),
    );
  });
});
