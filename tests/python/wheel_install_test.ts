import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { installWheel } from "../../src/python/wheel_install.ts";
import { directUrlJson } from "../../src/python/wheel_schemes.ts";
import { bytesSource } from "../../src/python/random_access.ts";
import { readZipDirectory } from "../../src/python/zip_reader.ts";
import { readEntryBytes } from "../../src/python/zip_entry_stream.ts";
import { makeWheel } from "./_zip_writer.ts";
import { REAL_WHEELS } from "./_real_wheels.ts";
import {
  checkRecord,
  content,
  dec,
  find,
  real,
  SP,
  TARGET,
  withTemp,
  writeWheel,
} from "./_install_helpers.ts";

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
