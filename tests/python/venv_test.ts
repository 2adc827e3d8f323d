import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { PycontainerError } from "../../src/errors.ts";
import type { LayerEntry } from "../../src/layer/entry.ts";
import { venvEntries, venvLayout } from "../../src/python/venv.ts";
import { installWheel } from "../../src/python/wheel_install.ts";
import { mergeInstalls } from "../../src/python/install_merge.ts";
import { REAL_WHEELS, type RealWheel, realWheel } from "./_real_wheels.ts";

const dec = new TextDecoder();

function text(entries: LayerEntry[], path: string): string {
  const e = entries.find((x) => x.path === path);
  assert.ok(e && e.type === "file" && e.content.kind === "bytes", path);
  return dec.decode(e.content.bytes);
}

test("venvEntries() lays out a venv as uv does", () => {
  const entries = venvEntries({
    venvDir: "app/.venv",
    pythonHome: "/usr/local/bin/",
    pythonVersion: "3.12",
    pythonFullVersion: "3.12.7",
  });
  assert.deepEqual(
    entries.map((e) => [e.path, e.type, e.type === "symlink" ? e.target : e.mode.toString(8)]),
    [
      ["app/.venv", "dir", "755"],
      ["app/.venv/.gitignore", "file", "644"],
      ["app/.venv/CACHEDIR.TAG", "file", "644"],
      ["app/.venv/bin", "dir", "755"],
      ["app/.venv/bin/activate", "file", "644"],
      ["app/.venv/bin/python", "symlink", "/usr/local/bin/python3.12"],
      ["app/.venv/bin/python3", "symlink", "python"],
      ["app/.venv/bin/python3.12", "symlink", "python"],
      ["app/.venv/lib", "dir", "755"],
      ["app/.venv/lib/python3.12", "dir", "755"],
      ["app/.venv/lib/python3.12/site-packages", "dir", "755"],
      ["app/.venv/lib64", "symlink", "lib"],
      ["app/.venv/pyvenv.cfg", "file", "644"],
    ],
  );
  assert.equal(
    text(entries, "app/.venv/pyvenv.cfg"),
    "home = /usr/local/bin\nimplementation = CPython\nversion = 3.12.7\nversion_info = 3.12.7\n" +
      "include-system-site-packages = false\n",
  );
  assert.equal(text(entries, "app/.venv/.gitignore"), "*");
  assert.match(
    text(entries, "app/.venv/CACHEDIR.TAG"),
    /^Signature: 8a477f597d28d172789f06886806bc55\n/,
  );
});

test("venvEntries() honours the interpreter name, prompt and activate options", () => {
  const entries = venvEntries({
    venvDir: "opt/venv",
    pythonHome: "/usr/bin",
    pythonVersion: "3.11",
    interpreter: "python3",
    prompt: "myapp",
    activate: false,
  });
  const python = entries.find((e) => e.path === "opt/venv/bin/python");
  assert.ok(python?.type === "symlink" && python.target === "/usr/bin/python3");
  assert.ok(!entries.some((e) => e.path.endsWith("/activate")));
  assert.match(text(entries, "opt/venv/pyvenv.cfg"), /^version = 3\.11\nversion_info = 3\.11\n/m);
  assert.match(text(entries, "opt/venv/pyvenv.cfg"), /^prompt = myapp\n$/m);
});

test("venvEntries() and venvLayout() reject malformed input with usage errors", () => {
  const bad: [() => unknown, RegExp][] = [
    [
      () => venvLayout({ venvDir: "/app/.venv", pythonVersion: "3.12" }),
      /invalid venv directory "\/app\/\.venv"/,
    ],
    [() => venvLayout({ venvDir: "app/../etc", pythonVersion: "3.12" }), /invalid venv directory/],
    [() => venvLayout({ venvDir: "", pythonVersion: "3.12" }), /invalid venv directory/],
    [() => venvLayout({ venvDir: "app/.venv", pythonVersion: "3" }), /invalid Python version "3"/],
    [
      () => venvLayout({ venvDir: "app/.venv", pythonVersion: "2.7" }),
      /invalid Python version "2\.7"/,
    ],
    [
      () => venvEntries({ venvDir: "app/.venv", pythonHome: "usr/bin", pythonVersion: "3.12" }),
      /invalid Python home "usr\/bin"/,
    ],
    [
      () =>
        venvEntries({
          venvDir: "app/.venv",
          pythonHome: "/usr/bin",
          pythonVersion: "3.12",
          pythonFullVersion: "3.11.2",
        }),
      /Python version 3\.11\.2 does not match 3\.12/,
    ],
  ];
  for (const [fn, pattern] of bad) {
    assert.throws(fn, (error: unknown) => {
      assert.ok(error instanceof PycontainerError);
      assert.match(error.message, pattern);
      assert.equal(error.exitCode, 2);
      assert.ok(error.hint);
      return true;
    });
  }
});

/** Writes entries under `root` (test-only: the product never unpacks to disk). */
async function materialize(root: string, entries: readonly LayerEntry[]): Promise<void> {
  for (const entry of entries) {
    const path = join(root, entry.path);
    await mkdir(entry.type === "dir" ? path : dirname(path), { recursive: true });
    if (entry.type === "symlink") await symlink(entry.target, path);
    else if (entry.type === "file") {
      const data = entry.content.kind === "bytes"
        ? entry.content.bytes
        : new Uint8Array(await new Response(entry.content.open()).arrayBuffer());
      await writeFile(path, data);
      await chmod(path, entry.mode);
    }
  }
}

function hostPython(): { home: string; exe: string; version: string; full: string } | undefined {
  try {
    const out = execFileSync("python3", [
      "-c",
      "import sys,os;print(os.path.realpath(sys.executable));print('%d.%d.%d' % sys.version_info[:3])",
    ], { encoding: "utf8" }).trim().split("\n");
    const exe = out[0]!;
    const full = out[1]!;
    return {
      home: dirname(exe),
      exe: exe.slice(dirname(exe).length + 1),
      version: full.replace(/\.\d+$/, ""),
      full,
    };
  } catch {
    return undefined;
  }
}

test(
  "venvEntries() plus installed wheels work with a real interpreter (.pth, launchers, scripts, .so)",
  {
    timeout: 60_000,
  },
  async (t) => {
    const py = hostPython();
    if (!py) return t.skip("no python3 on this machine");
    const wheels: RealWheel[] = [REAL_WHEELS.six, REAL_WHEELS.docutils, REAL_WHEELS.setuptools];
    if (py.version === "3.11") wheels.push(REAL_WHEELS.markupsafe);
    const paths: string[] = [];
    for (const wheel of wheels) {
      const got = await realWheel(wheel);
      if ("error" in got) return t.skip(got.error);
      paths.push(got.path);
    }
    const root = await mkdtemp(join(tmpdir(), "pyc-venv-"));
    try {
      // The venv's image path is the temp dir itself, so its absolute paths are real on this host.
      const venvDir = join(root, "app/.venv").slice(1);
      const target = { venvDir, pythonVersion: py.version };
      const venv = venvEntries({
        ...target,
        pythonHome: py.home,
        pythonFullVersion: py.full,
        interpreter: py.exe,
      });
      const installs = [];
      for (const path of paths) {
        installs.push(await installWheel(path, target, { requested: true }));
      }
      await materialize("/", mergeInstalls([{ label: "venv", entries: venv }, ...installs]));
      const bin = join("/", venvDir, "bin");
      const run = (cmd: string, args: string[]) =>
        execFileSync(cmd, args, { encoding: "utf8", env: { PATH: "/usr/bin:/bin" } }).trim();
      const probe = run(join(bin, "python"), [
        "-c",
        "import sys, six, distutils, site; print(sys.prefix); print(six.__file__); " +
        "print(distutils.__file__); print(sys.flags.no_site)",
      ]).split("\n");
      assert.equal(probe[0], join("/", venvDir));
      assert.equal(probe[1], join("/", venvDir, `lib/python${py.version}/site-packages/six.py`));
      // distutils-precedence.pth made setuptools' vendored distutils win: .pth files work.
      assert.match(probe[2]!, /site-packages\/setuptools\/_distutils\/__init__\.py$/);
      assert.match(run(join(bin, "docutils"), ["--version"]), /Docutils 0\.20\.1/);
      assert.match(run(join(bin, "rst2html.py"), ["--version"]), /0\.20\.1/);
      if (py.version === "3.11") {
        assert.equal(
          run(join(bin, "python"), ["-c", "import markupsafe._speedups as s; print(s.__name__)"]),
          "markupsafe._speedups",
        );
      }
      const activate = run("/bin/sh", [
        "-c",
        `. ${join(bin, "activate")}; echo "$VIRTUAL_ENV"; command -v python`,
      ]);
      assert.equal(activate, `${join("/", venvDir)}\n${join(bin, "python")}`);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  },
);
