import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmod, mkdir, readFile, symlink, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { collectAppFiles } from "../../src/project/app_files.ts";
import type { LayerEntry } from "../../src/layer/entry.ts";
import { PycontainerError } from "../../src/errors.ts";
import { fixture, tempProject } from "./temp_project.ts";

function paths(entries: LayerEntry[]): string[] {
  return entries.map((e) => e.path);
}

async function readEntry(e: LayerEntry | undefined): Promise<string> {
  assert.ok(e !== undefined && e.type === "file" && e.content.kind === "stream");
  const chunks: Uint8Array[] = [];
  for await (const c of e.content.open()) chunks.push(c);
  return Buffer.concat(chunks).toString("utf8");
}

test("collectAppFiles() copies the hello app: pyproject.toml and app.py", async () => {
  const { entries, excluded, warnings, ignoreFile, layout } = await collectAppFiles(
    fixture("hello"),
  );
  assert.deepEqual(paths(entries), ["app.py", "pyproject.toml"]);
  assert.deepEqual(excluded, []);
  assert.deepEqual(warnings, []);
  assert.equal(ignoreFile, undefined);
  assert.equal(layout.kind, "single-module");
  assert.equal(await readEntry(entries[0]), 'print("Hello from container!")\n');
});

test("collectAppFiles() applies the defaults: no VCS, venv, caches, secrets or build output", async () => {
  const p = await tempProject("hello");
  try {
    for (
      const d of [
        ".git/objects",
        ".venv/bin",
        "pkg/__pycache__",
        ".pytest_cache",
        "node_modules/x",
        "dist",
        "build",
      ]
    ) {
      await mkdir(join(p.dir, d), { recursive: true });
    }
    await writeFile(join(p.dir, ".git/HEAD"), "ref: refs/heads/main\n");
    await writeFile(join(p.dir, ".venv/bin/python"), "");
    await writeFile(join(p.dir, "pkg/__init__.py"), "");
    await writeFile(join(p.dir, "pkg/__pycache__/__init__.cpython-312.pyc"), "");
    await writeFile(join(p.dir, "pkg/stale.pyc"), "");
    await writeFile(join(p.dir, ".env"), "TOKEN=s3cret\n");
    await writeFile(join(p.dir, ".env.local"), "TOKEN=s3cret\n");
    await writeFile(join(p.dir, ".DS_Store"), "");
    const { entries, excluded } = await collectAppFiles(p.dir);
    assert.deepEqual(paths(entries), ["app.py", "pkg", "pkg/__init__.py", "pyproject.toml"]);
    const reasons = Object.fromEntries(excluded.map((x) => [x.path, x.reason]));
    assert.equal(reasons[".git/"], 'matched "**/.git" (default)');
    assert.equal(reasons[".env"], 'matched "**/.env" (default)');
    assert.equal(reasons[".env.local"], 'matched "**/.env.*" (default)');
    assert.equal(reasons["pkg/__pycache__/"], 'matched "**/__pycache__" (default)');
    assert.equal(reasons["pkg/stale.pyc"], 'matched "**/*.pyc" (default)');
    for (const d of [".venv/", ".pytest_cache/", "node_modules/", "dist/", "build/", ".DS_Store"]) {
      assert.ok(d in reasons, `${d} listed as excluded`);
    }
  } finally {
    await p.remove();
  }
});

test("collectAppFiles() honours .dockerignore: secrets out, exceptions back in", async () => {
  const { entries, excluded, ignoreFile } = await collectAppFiles(fixture("secrets_project"));
  assert.equal(ignoreFile, ".dockerignore");
  assert.deepEqual(paths(entries), [
    ".dockerignore",
    ".env.example",
    "config",
    "config/settings.toml",
    "main.py",
    "pyproject.toml",
    "secrets",
    "secrets/public.pem",
  ]);
  const reasons = Object.fromEntries(excluded.map((x) => [x.path, x.reason]));
  assert.equal(reasons[".env"], 'matched "**/.env" (default)');
  assert.equal(reasons[".env.production"], 'matched "**/.env.*" (default)');
  assert.equal(reasons["secrets/id_fixture"], 'matched "secrets" (.dockerignore:2)');
  assert.equal(reasons["config/local.bak"], 'matched "**/*.bak" (.dockerignore:4)');
  assert.equal(reasons["logs/"], 'matched "logs" (.dockerignore:5)');
  for (const e of entries) {
    if (e.type === "file") {
      assert.doesNotMatch(
        await readEntry(e),
        /fixture-secret-token|fixture-prod-password|not-a-real-key/,
      );
    }
  }
});

test("collectAppFiles() reads .containerignore instead of .dockerignore when both exist", async () => {
  const { entries, ignoreFile } = await collectAppFiles(fixture("both_ignores"));
  assert.equal(ignoreFile, ".containerignore");
  assert.deepEqual(paths(entries), [
    ".containerignore",
    ".dockerignore",
    "main.py",
    "pyproject.toml",
  ]);
});

test("collectAppFiles() always excludes the output directory, even against an exception", async () => {
  const p = await tempProject("hello");
  try {
    await mkdir(join(p.dir, "out/image/blobs"), { recursive: true });
    await writeFile(join(p.dir, "out/image/index.json"), "{}");
    await writeFile(join(p.dir, ".dockerignore"), "!out\n");
    const rel = await collectAppFiles(p.dir, { outputDir: "out/image" });
    assert.deepEqual(paths(rel.entries), [".dockerignore", "app.py", "out", "pyproject.toml"]);
    assert.deepEqual(rel.excluded, [{ path: "out/image/", reason: "output directory" }]);
    const abs = await collectAppFiles(p.dir, { outputDir: join(p.dir, "out") });
    assert.deepEqual(paths(abs.entries), [".dockerignore", "app.py", "pyproject.toml"]);
    const outside = await collectAppFiles(p.dir, { outputDir: "/tmp/elsewhere-image" });
    assert.ok(paths(outside.entries).includes("out/image/index.json"));
    await assert.rejects(collectAppFiles(p.dir, { outputDir: "." }), (err) => {
      assert.ok(err instanceof PycontainerError);
      assert.equal(err.exitCode, 2);
      assert.match(err.message, /is the build context itself/);
      return true;
    });
  } finally {
    await p.remove();
  }
});

test("collectAppFiles() sets 0755 for executables, 0644 otherwise, and stable identities", async () => {
  const p = await tempProject("django_site");
  try {
    await chmod(join(p.dir, "manage.py"), 0o700);
    await chmod(join(p.dir, "mysite/settings.py"), 0o600);
    await utimes(join(p.dir, "mysite/settings.py"), 1_700_000_000, 1_700_000_000);
    const { entries } = await collectAppFiles(p.dir);
    const byPath = new Map(entries.map((e) => [e.path, e]));
    const manage = byPath.get("manage.py");
    assert.ok(manage?.type === "file");
    assert.equal(manage.mode, 0o755);
    const settings = byPath.get("mysite/settings.py");
    assert.ok(settings?.type === "file" && settings.content.kind === "stream");
    assert.equal(settings.mode, 0o644);
    const size = (await readFile(join(p.dir, "mysite/settings.py"))).byteLength;
    assert.equal(settings.content.size, size);
    assert.match(
      settings.content.identity ?? "",
      new RegExp(`^file:.*/mysite/settings\\.py:${size}:1700000000\\d{9}:\\d+:\\d+:\\d+$`),
    );
    assert.deepEqual(byPath.get("mysite"), { type: "dir", path: "mysite", mode: 0o755 });
    const sorted = [...paths(entries)].sort();
    assert.deepEqual(paths(entries), sorted);
  } finally {
    await p.remove();
  }
});

test("collectAppFiles() keeps empty directories and adds parents of re-included files", async () => {
  const p = await tempProject("hello");
  try {
    await mkdir(join(p.dir, "data/empty"), { recursive: true });
    await mkdir(join(p.dir, "docs/keep"), { recursive: true });
    await writeFile(join(p.dir, "docs/keep/a.md"), "a");
    await writeFile(join(p.dir, "docs/drop.md"), "b");
    await writeFile(join(p.dir, ".dockerignore"), "docs\n!docs/keep/*.md\n");
    const { entries, excluded } = await collectAppFiles(p.dir);
    assert.deepEqual(paths(entries), [
      ".dockerignore",
      "app.py",
      "data",
      "data/empty",
      "docs",
      "docs/keep",
      "docs/keep/a.md",
      "pyproject.toml",
    ]);
    assert.deepEqual(excluded, [{
      path: "docs/drop.md",
      reason: 'matched "docs" (.dockerignore:1)',
    }]);
  } finally {
    await p.remove();
  }
});

test("collectAppFiles() keeps symlinks that stay inside the context", async () => {
  const p = await tempProject("hello");
  try {
    await mkdir(join(p.dir, "pkg/sub"), { recursive: true });
    await writeFile(join(p.dir, "pkg/data.txt"), "data");
    await symlink("../data.txt", join(p.dir, "pkg/sub/link.txt"));
    await symlink(join(p.dir, "pkg/data.txt"), join(p.dir, "pkg/sub/abs.txt"));
    await symlink("pkg", join(p.dir, "pkgdir"));
    await symlink("missing.txt", join(p.dir, "dangling"));
    const { entries, warnings } = await collectAppFiles(p.dir);
    const links = entries.filter((e) => e.type === "symlink");
    assert.deepEqual(links, [
      { type: "symlink", path: "dangling", target: "missing.txt" },
      { type: "symlink", path: "pkg/sub/abs.txt", target: "../data.txt" },
      { type: "symlink", path: "pkg/sub/link.txt", target: "../data.txt" },
      { type: "symlink", path: "pkgdir", target: "pkg" },
    ]);
    assert.deepEqual(warnings, [
      "symlink dangling -> missing.txt is dangling (its target does not exist)",
    ]);
  } finally {
    await p.remove();
  }
});

test("collectAppFiles() refuses a symlink escaping the context, naming link and target", async () => {
  const p = await tempProject("hello");
  try {
    await mkdir(join(p.dir, "conf"));
    await symlink("../../../etc/passwd", join(p.dir, "conf/passwd"));
    await assert.rejects(collectAppFiles(p.dir), (err) => {
      assert.ok(err instanceof PycontainerError);
      assert.equal(err.exitCode, 1);
      assert.equal(
        err.message,
        "Symlink conf/passwd points outside the build context: ../../../etc/passwd",
      );
      assert.match(err.hint ?? "", /copy|exclude/);
      return true;
    });
  } finally {
    await p.remove();
  }
});

test("collectAppFiles() refuses absolute and chained symlinks that escape, unless ignored", async () => {
  const p = await tempProject("hello");
  try {
    await symlink("/etc/hostname", join(p.dir, "host"));
    await assert.rejects(
      collectAppFiles(p.dir),
      /Symlink host points outside the build context: \/etc\/hostname/,
    );
    await writeFile(join(p.dir, ".dockerignore"), "host\n");
    const ok = await collectAppFiles(p.dir);
    assert.ok(!paths(ok.entries).includes("host"));
    await mkdir(join(p.dir, "a"));
    await symlink("/", join(p.dir, ".venv-root"));
    await writeFile(join(p.dir, ".dockerignore"), "host\n.venv-root\n");
    await symlink("../.venv-root/etc", join(p.dir, "a/etc"));
    await assert.rejects(collectAppFiles(p.dir), /Symlink a\/etc points outside the build context/);
  } finally {
    await p.remove();
  }
});

test("collectAppFiles() skips FIFOs and sockets with a warning", async () => {
  const p = await tempProject("hello");
  try {
    execFileSync("mkfifo", [join(p.dir, "pipe")]);
    execFileSync("python3", [
      "-c",
      "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])",
      join(p.dir, "sock"),
    ]);
    const { entries, warnings } = await collectAppFiles(p.dir);
    assert.deepEqual(paths(entries), ["app.py", "pyproject.toml"]);
    assert.deepEqual(warnings, [
      "skipped FIFO pipe: only files, directories and symlinks are copied",
      "skipped socket sock: only files, directories and symlinks are copied",
    ]);
  } finally {
    await p.remove();
  }
});

test("collectAppFiles() reports the source layout", async () => {
  assert.equal((await collectAppFiles(fixture("src_scripts"))).layout.kind, "src");
  assert.equal((await collectAppFiles(fixture("flat_main"))).layout.kind, "flat");
  assert.equal((await collectAppFiles(fixture("streamlit_app"))).layout.kind, "single-module");
});

test("collectAppFiles() fails with exit code 2 for a missing context", async () => {
  await assert.rejects(collectAppFiles("/nonexistent/project"), (err) => {
    assert.ok(err instanceof PycontainerError);
    assert.equal(err.exitCode, 2);
    assert.equal(err.message, "Build context /nonexistent/project is not a directory");
    return true;
  });
});

test("collectAppFiles() streams big files in chunks with the exact size", async () => {
  const p = await tempProject("hello");
  try {
    const big = new Uint8Array(300_000).map((_, i) => i % 251);
    await writeFile(join(p.dir, "model.bin"), big);
    const { entries } = await collectAppFiles(p.dir);
    const e = entries.find((x) => x.path === "model.bin");
    assert.ok(e?.type === "file" && e.content.kind === "stream");
    assert.equal(e.content.size, 300_000);
    let total = 0;
    let chunks = 0;
    const hash = createHash("sha256");
    for await (const c of e.content.open()) {
      total += c.byteLength;
      chunks++;
      hash.update(c);
    }
    assert.equal(total, 300_000);
    assert.ok(chunks >= 5);
    assert.equal(
      hash.digest("hex"),
      createHash("sha256").update(big).digest("hex"),
    );
  } finally {
    await p.remove();
  }
});

test("collectAppFiles() supports the allowlist style: * then ! exceptions", async () => {
  const p = await tempProject("src_scripts");
  try {
    await writeFile(
      join(p.dir, ".dockerignore"),
      "*\n!pyproject.toml\n!src\n!README.md\nsrc/**/admin.py\n",
    );
    const { entries, excluded } = await collectAppFiles(p.dir);
    assert.deepEqual(paths(entries), [
      "README.md",
      "pyproject.toml",
      "src",
      "src/greeter",
      "src/greeter/__init__.py",
      "src/greeter/cli.py",
    ]);
    assert.deepEqual(excluded.map((x) => x.path), [
      ".dockerignore",
      "LICENSE",
      "src/greeter/admin.py",
      "tests/",
    ]);
  } finally {
    await p.remove();
  }
});
