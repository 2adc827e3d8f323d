import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileEntry, type LayerEntry } from "../../src/layer/entry.ts";
import { writeLayer } from "../../src/layer/tar_writer.ts";
import { installWheel, type WheelInstall } from "../../src/python/wheel_install.ts";
import { mergeInstalls } from "../../src/python/install_merge.ts";
import { venvEntries } from "../../src/python/venv.ts";
import { makeWheel, testRecordHash } from "./_zip_writer.ts";
import { REAL_WHEELS } from "./_real_wheels.ts";
import {
  content,
  find,
  real,
  rejectsWith,
  SP,
  TARGET,
  withTemp,
  writeWheel,
} from "./_install_helpers.ts";

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
    const through = await installWheel(
      await writeWheel(
        dir,
        "e.whl",
        makeWheel({ name: "e", files: { "e-1.0.data/data/lib64/evil.py": "x\n", "e.py": "" } }),
      ),
      TARGET,
    );
    assert.throws(
      () => mergeInstalls([venv, through]),
      rejectsWith(
        /e 1\.0 \(e\.whl\) installs "app\/\.venv\/lib64\/evil\.py" below symlink "app\/\.venv\/lib64" from venv/,
      ),
    );
    assert.throws(
      () =>
        mergeInstalls([a, {
          label: "f",
          entries: [fileEntry(`${SP}/shared`, "file, not a package")],
        }]),
      rejectsWith(
        /a 1\.0 \(a\.whl\) installs ".*\/shared\/__init__\.py" below file ".*\/shared" from f/,
      ),
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
