import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeLauncher, parseEntryPoint } from "../../src/project/launcher.ts";
import { PycontainerError } from "../../src/errors.ts";
import { tempProject } from "./temp_project.ts";

test("parseEntryPoint() accepts module:attr with dots, spaces and extras", () => {
  assert.deepEqual(parseEntryPoint("hello.cli:main"), { module: "hello.cli", attr: "main" });
  assert.deepEqual(parseEntryPoint(" pkg.sub : app.run [extra1, extra2] "), {
    module: "pkg.sub",
    attr: "app.run",
  });
});

test("parseEntryPoint() returns undefined for command lines and bare names", () => {
  assert.equal(parseEntryPoint("uvicorn app:app --host 0.0.0.0"), undefined);
  assert.equal(parseEntryPoint("uvicorn"), undefined);
  assert.equal(parseEntryPoint("my-pkg:main"), undefined);
  assert.equal(parseEntryPoint("pkg:"), undefined);
  assert.equal(parseEntryPoint("1pkg:main"), undefined);
});

test("makeLauncher() writes a script that really runs the function with sys.argv and its exit code", async () => {
  const p = await tempProject();
  try {
    await mkdir(join(p.dir, "src/tool"), { recursive: true });
    await writeFile(join(p.dir, "src/tool/__init__.py"), "");
    await writeFile(
      join(p.dir, "src/tool/cli.py"),
      "import sys\n\nclass App:\n    @staticmethod\n    def run():\n        print('args', sys.argv[1:])\n        return 3\n",
    );
    const entry = makeLauncher("tool", { module: "tool.cli", attr: "App.run" }, join(p.dir, "src"));
    assert.ok(entry.type === "file" && entry.content.kind === "bytes");
    const launcher = join(p.dir, "launcher");
    await writeFile(launcher, entry.content.bytes);
    await chmod(launcher, entry.mode);
    let out = "";
    let status = 0;
    try {
      execFileSync(launcher, ["a", "b c"], { cwd: "/", encoding: "utf8" });
    } catch (err) {
      const e = err as { status: number; stdout: string };
      status = e.status;
      out = e.stdout;
    }
    assert.equal(status, 3);
    assert.equal(out, "args ['a', 'b c']\n");
  } finally {
    await p.remove();
  }
});

test("makeLauncher() rejects a script name that cannot be a file name", () => {
  assert.throws(() => makeLauncher("../evil", { module: "m", attr: "f" }, "/app"), (err) => {
    assert.ok(err instanceof PycontainerError);
    assert.equal(err.exitCode, 2);
    assert.equal(err.message, '[project.scripts] name "../evil" is not a valid command name');
    return true;
  });
});
