import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PycontainerError } from "../../src/errors.ts";
import {
  launcherScript,
  parseScriptEntryPoints,
  rewriteScriptShebang,
  shebang,
} from "../../src/python/script_launcher.ts";

test("parseScriptEntryPoints() reads console and gui scripts and ignores other groups", () => {
  const text = [
    "# comment",
    "[console_scripts]",
    "tool = pkg.cli:main",
    "tool-x=pkg.cli : App.run  [extra1, extra2]  ",
    "; another comment",
    "",
    "[pkg.plugins]",
    "not-a-script = pkg:plugin",
    "[gui_scripts]",
    "viewer = pkg.gui:start",
  ].join("\n");
  assert.deepEqual(parseScriptEntryPoints(text, "pkg.whl", 12), [
    { name: "tool", module: "pkg.cli", attr: "main", kind: "console" },
    { name: "tool-x", module: "pkg.cli", attr: "App.run", kind: "console" },
    { name: "viewer", module: "pkg.gui", attr: "start", kind: "gui" },
  ]);
});

test("parseScriptEntryPoints() renames pip3.N launchers to the target's minor version", () => {
  const eps = parseScriptEntryPoints(
    "[console_scripts]\npip = pip._internal.cli.main:main\npip3 = pip._internal.cli.main:main\n" +
      "pip3.11 = pip._internal.cli.main:main\n",
    "pip.whl",
    13,
  );
  assert.deepEqual(eps.map((e) => e.name), ["pip", "pip3", "pip3.13"]);
});

test("parseScriptEntryPoints() rejects malformed lines and dangerous names", () => {
  const cases: [string, RegExp][] = [
    ["[console_scripts]\nno delimiter here\n", /line 2: "no delimiter here" has no "="/],
    ["[console_scripts]\nx = pkg\n", /line 2: "pkg" is not a module:function reference/],
    ["[console_scripts]\nx = :main\n", /is not a module:function reference/],
    ["[console_scripts]\nbin/x = pkg:main\n", /"bin\/x" is not a safe script name/],
    ["[console_scripts]\n.. = pkg:main\n", /"\.\." is not a safe script name/],
    [
      "[gui_scripts]\npython3.12 = pkg:main\n",
      /script "python3\.12" would replace the venv's python/,
    ],
    ["x = pkg:main\n", /line 1: a value before any \[section\]/],
  ];
  for (const [text, pattern] of cases) {
    assert.throws(() => parseScriptEntryPoints(text, "bad.whl", 12), (error: unknown) => {
      assert.ok(error instanceof PycontainerError);
      assert.match(error.message, /^bad\.whl: entry_points\.txt /);
      assert.match(error.message, pattern);
      assert.ok(error.hint);
      return true;
    }, text);
  }
});

test("rewriteScriptShebang() replaces the whole #!python line and leaves other scripts alone", () => {
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const py = "/app/.venv/bin/python";
  assert.equal(dec.decode(rewriteScriptShebang(enc.encode("#!python\nx\n"), py)), `#!${py}\nx\n`);
  assert.equal(dec.decode(rewriteScriptShebang(enc.encode("#!pythonw -E\r\nx"), py)), `#!${py}\nx`);
  assert.equal(dec.decode(rewriteScriptShebang(enc.encode("#!python"), py)), `#!${py}\n`);
  assert.equal(rewriteScriptShebang(enc.encode("#!/usr/bin/env python\n"), py), undefined);
  assert.equal(rewriteScriptShebang(new Uint8Array([0x7f, 0x45, 0x4c, 0x46]), py), undefined);
});

test("shebang() uses a /bin/sh trampoline for long or spaced paths, and it runs", async (t) => {
  assert.equal(shebang("/app/.venv/bin/python"), "#!/app/.venv/bin/python");
  const long = "/" + "d".repeat(130) + "/bin/python";
  assert.match(shebang(long), /^#!\/bin\/sh\n'''exec' '\/d+\/bin\/python' "\$0" "\$@"\n' '''$/);
  assert.match(shebang("/my venv/bin/python"), /^#!\/bin\/sh\n'''exec' '\/my venv\/bin\/python'/);

  let python: string;
  try {
    python = execFileSync("python3", [
      "-c",
      "import sys, os; print(os.path.realpath(sys.executable))",
    ], {
      encoding: "utf8",
    }).trim();
  } catch {
    return t.skip("no python3 on this machine");
  }
  const root = await mkdtemp(join(tmpdir(), "pyc-shebang-"));
  try {
    // A venv-like python link under a path too long for a kernel shebang line, with a space.
    const bin = join(root, "x".repeat(140), "with space", "bin");
    await mkdir(bin, { recursive: true });
    await symlink(python, join(bin, "python"));
    await mkdir(join(root, "pkg"));
    await writeFile(
      join(root, "pkg", "__init__.py"),
      "def main():\n    import sys\n    print('args', sys.argv[1:])\n    return 3\n",
    );
    const script = join(root, "tool");
    await writeFile(
      script,
      launcherScript(
        { name: "tool", module: "pkg", attr: "main", kind: "console" },
        join(bin, "python"),
      ),
    );
    await chmod(script, 0o755);
    let status = 0;
    let stdout = "";
    try {
      execFileSync(script, ["a b", "c"], {
        encoding: "utf8",
        env: { PYTHONPATH: root, PATH: "/usr/bin:/bin" },
      });
    } catch (error) {
      status = (error as { status: number }).status;
      stdout = (error as { stdout: string }).stdout;
    }
    assert.equal(status, 3);
    assert.equal(stdout.trim(), "args ['a b', 'c']");
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
