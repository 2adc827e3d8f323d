import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PycontainerError } from "../../../src/errors.ts";
import { readRequirementsTxt } from "../../../src/python/locks/requirements_txt.ts";
import { splitRequirementsLines } from "../../../src/python/locks/requirements_lines.ts";
import { readUvLock } from "../../../src/python/locks/uv_lock.ts";
import { chooseWheel, selectForTarget } from "../../../src/python/locks/select.ts";
import { FIXTURES, linux, windows } from "./_targets.ts";

const REQS = `${FIXTURES}/uv/requirements.txt`;

async function withDir(files: Record<string, string>, f: (dir: string) => Promise<void>) {
  const dir = await mkdtemp(join(tmpdir(), "pycontainer-reqs-"));
  try {
    for (const [name, text] of Object.entries(files)) {
      await mkdir(join(dir, name, ".."), { recursive: true });
      await writeFile(join(dir, name), text);
    }
    await f(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function rejection(p: Promise<unknown>): Promise<PycontainerError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof PycontainerError) return e;
    throw e;
  }
  assert.fail("expected a PycontainerError");
}

test("readRequirementsTxt() reads uv's hashed export: pins, every --hash, markers, lines", async () => {
  const lock = await readRequirementsTxt(REQS);
  const uv = await readUvLock(`${FIXTURES}/uv/uv.lock`);
  const text = (await readFile(REQS, "utf8")).split("\n");
  assert.equal(lock.kind, "requirements.txt");
  assert.equal(lock.unpinned, undefined);
  assert.deepEqual(
    lock.packages.map((p) => `${p.name}==${p.version}`).sort(),
    uv.packages.map((p) => `${p.name}==${p.version}`).sort(),
  );
  for (const p of lock.packages) {
    assert.ok(text[(p.line ?? 0) - 1]?.startsWith(`${p.name}==${p.version}`), p.name);
    assert.deepEqual(p.files, []);
    const twin = uv.packages.find((q) => q.name === p.name);
    assert.deepEqual(
      p.hashes?.slice().sort(),
      twin?.files.map((f) => `sha256:${f.hashes.sha256}`).sort(),
      `${p.name}: every file's hash, across continuation lines`,
    );
  }
  assert.equal(
    lock.packages.find((p) => p.name === "colorama")?.marker,
    "sys_platform == 'win32'",
  );
});

test("selectForTarget() on requirements.txt follows markers and leaves the files to the index", async () => {
  const lock = await readRequirementsTxt(REQS);
  const uv = await readUvLock(`${FIXTURES}/uv/uv.lock`);
  for (const t of [linux("3.11.2", "amd64"), linux("3.13.1", "arm64"), windows("3.12.4")]) {
    const all = { ...t, extras: ["redis"], groups: ["dev"] };
    const sel = selectForTarget(lock, t);
    assert.deepEqual(
      sel.map((s) => s.package.name),
      selectForTarget(uv, all).map((s) => s.package.name),
    );
    assert.ok(sel.every((s) => s.wheel === undefined && s.sdist === undefined));
    // what the index client does next: keep the listed files whose hash is allowed, choose
    for (const s of sel) {
      const files = uv.packages.find((p) => p.name === s.package.name)?.files ?? [];
      const allowed = files.filter((f) => s.package.hashes?.includes(`sha256:${f.hashes.sha256}`));
      const expected = selectForTarget(uv, all).find((u) => u.package.name === s.package.name);
      assert.equal(chooseWheel(allowed, t.tags)?.filename, expected?.wheel?.filename);
    }
  }
});

test("splitRequirementsLines() joins continuations, strips comments and expands only ${VAR}", () => {
  const text = [
    "# comment",
    "six==1.17.0 \\",
    "  --hash=sha256:AA \\",
    "  --hash sha256:bb   # trailing",
    "pkg==1.0 \\",
    "# a comment ends the continuation",
    "-i ${INDEX} --extra-index-url=$HOME/x",
    "--find-links ./wheels",
    "url#frag==1",
  ].join("\n");
  const lines = splitRequirementsLines(text, "r.txt", { INDEX: "https://idx/simple", HOME: "/h" });
  assert.deepEqual(lines.map((l) => l.line), [2, 5, 7, 8, 9]);
  assert.deepEqual(lines[0]?.options, [
    { name: "--hash", value: "sha256:AA" },
    { name: "--hash", value: "sha256:bb" },
  ]);
  assert.equal(lines[1]?.requirement, "pkg==1.0");
  assert.deepEqual(lines[2]?.options, [
    { name: "--index-url", value: "https://idx/simple" },
    { name: "--extra-index-url", value: "$HOME/x" },
  ]);
  assert.equal(lines[4]?.requirement, "url#frag==1");
  assert.throws(
    () => splitRequirementsLines("a==1\nb==2 --frobnicate\n", "r.txt"),
    (e: unknown) =>
      e instanceof PycontainerError && e.message === "r.txt:2: unknown option --frobnicate",
  );
  assert.throws(() => splitRequirementsLines("-r\n", "r.txt"), /r\.txt:1: option -r needs a value/);
});

test("readRequirementsTxt() follows -r and -c relative to the including file", async () => {
  await withDir({
    "requirements.txt":
      "-r reqs/base.txt\n-c constraints.txt\nflask\n--extra-index-url https://extra/simple\n",
    "reqs/base.txt": "-r ../common.txt\nrequests>=2 ; python_version >= '3.8'\n",
    "common.txt": "six==1.17.0\n",
    "constraints.txt": "flask==3.1.0\nnot-required==1.0\nurllib3<3\n",
  }, async (dir) => {
    const lock = await readRequirementsTxt(join(dir, "requirements.txt"));
    assert.deepEqual(lock.packages.map((p) => `${p.name}==${p.version}`), [
      "six==1.17.0",
      "flask==3.1.0",
    ]);
    assert.equal(lock.packages[0]?.file, join(dir, "reqs/../common.txt"));
    assert.deepEqual(lock.unpinned, ["requests>=2 ; python_version >= '3.8'"]);
    assert.deepEqual(lock.constraints, ["flask==3.1.0", "not-required==1.0", "urllib3<3"]);
    assert.deepEqual(lock.indexUrls, ["https://pypi.org/simple", "https://extra/simple"]);
  });
});

test("readRequirementsTxt() records index options, direct references and expands ${VAR}", async () => {
  await withDir({
    "requirements.txt": [
      "--index-url ${IDX}",
      "--extra-index-url https://extra/simple",
      "-f ./wheels",
      "mylib @ https://files.example/mylib-2.0-py3-none-any.whl ; sys_platform == 'linux'",
      "https://files.example/other-1.0-cp312-cp312-manylinux_2_17_x86_64.whl",
      "tool @ git+https://github.com/o/tool@v1#subdirectory=pkg",
      "./wheels/Foo_Bar-1.0-py3-none-any.whl",
      "baz @ file:///abs/baz-2.0-py3-none-any.whl",
    ].join("\n"),
  }, async (dir) => {
    const lock = await readRequirementsTxt(join(dir, "requirements.txt"), {
      env: { IDX: "https://mirror/simple" },
    });
    assert.deepEqual(lock.indexUrls, ["https://mirror/simple", "https://extra/simple"]);
    assert.deepEqual(lock.findLinks, [join(dir, "wheels")]);
    const [mylib, other, tool] = lock.packages;
    assert.deepEqual(mylib?.source, {
      kind: "url",
      url: "https://files.example/mylib-2.0-py3-none-any.whl",
    });
    assert.equal(mylib?.version, "2.0");
    assert.equal(mylib?.marker, "sys_platform == 'linux'");
    assert.equal(other?.name, "other");
    assert.deepEqual(tool?.source, {
      kind: "git",
      url: "https://github.com/o/tool",
      requested: "v1",
      subdirectory: "pkg",
    });
    assert.deepEqual(lock.packages[3]?.source, {
      kind: "path",
      path: "./wheels/Foo_Bar-1.0-py3-none-any.whl",
    });
    assert.equal(lock.packages[3]?.name, "foo-bar");
    assert.equal(lock.packages[3]?.files[0]?.filename, "Foo_Bar-1.0-py3-none-any.whl");
    assert.deepEqual(lock.packages[4]?.source, {
      kind: "path",
      path: "/abs/baz-2.0-py3-none-any.whl",
    });
    const sel = selectForTarget(lock, linux("3.12.4", "amd64"));
    assert.equal(sel[0]?.wheel?.filename, "mylib-2.0-py3-none-any.whl");
    assert.equal(sel[1]?.wheel?.filename, "other-1.0-cp312-cp312-manylinux_2_17_x86_64.whl");
    const arm = await rejection(
      Promise.resolve().then(() => selectForTarget(lock, linux("3.12.4", "arm64"))),
    );
    assert.match(
      arm.message,
      /requirements\.txt:5: no wheel of other 1\.0 fits the target CPython 3\.12\.4, linux\/aarch64, glibc 2\.36; its wheels are cp312-cp312-manylinux_2_17_x86_64$/,
    );
  });
});

test("readRequirementsTxt() enforces hash-checking mode with the line of the offender", async () => {
  await withDir({
    "a.txt": "six==1.17.0 --hash=sha256:aa\nflask>=3\n",
    "b.txt": "six==1.17.0 --hash=sha256:aa\n\nflask==3.1.0\n",
    "c.txt": "--require-hashes\nsix==1.17.0\n",
    "d.txt":
      "lib @ https://f/lib-1.0-py3-none-any.whl --hash=sha256:AB\nsix==1.17.0 --hash=sha256:cd\n",
  }, async (dir) => {
    const d = await readRequirementsTxt(join(dir, "d.txt"));
    assert.deepEqual(d.packages[0]?.files[0]?.hashes, { sha256: "ab" });
    assert.deepEqual(d.packages[1]?.hashes, ["sha256:cd"]);
    const a = await rejection(readRequirementsTxt(join(dir, "a.txt")));
    assert.equal(a.message.split(": ")[0], `${join(dir, "a.txt")}:2`);
    assert.match(a.message, /flask is not pinned with ==/);
    const b = await rejection(readRequirementsTxt(join(dir, "b.txt")));
    assert.match(b.message, /b\.txt:3: flask has no --hash/);
    const c = await rejection(readRequirementsTxt(join(dir, "c.txt")));
    assert.match(c.message, /c\.txt:2: six has no --hash/);
    assert.equal(c.exitCode, 2);
  });
});

test("readRequirementsTxt() skips -e . with a warning and rejects other editables", async () => {
  await withDir({
    "requirements.txt": "-e .\nsix==1.17.0\n",
    "other.txt": "six==1.17.0\n-e ../elsewhere\n",
  }, async (dir) => {
    const lock = await readRequirementsTxt(join(dir, "requirements.txt"));
    assert.deepEqual(lock.packages.map((p) => p.name), ["six"]);
    assert.match(lock.warnings?.[0] ?? "", /requirements\.txt:1: skipped "-e \."/);
    const e = await rejection(readRequirementsTxt(join(dir, "other.txt")));
    assert.match(
      e.message,
      /other\.txt:2: editable requirement "-e \.\.\/elsewhere" cannot be installed/,
    );
    assert.match(e.hint ?? "", /pinned requirement/);
  });
});

test("readRequirementsTxt() rejects bad lines, duplicates, conflicts and include cycles", async () => {
  await withDir({
    "syntax.txt": "six==1.17.0\n\nflask[async==3\n",
    "dup.txt": "six==1.17.0\nSix==1.16.0\n",
    "conflict.txt": "-c c.txt\nsix==1.16.0\n",
    "c.txt": "six==1.17.0\n",
    "loop.txt": "-r loop2.txt\n",
    "loop2.txt": "-r loop.txt\n",
    "bare.txt": "./src/thing.tar.gz\n",
  }, async (dir) => {
    const s = await rejection(readRequirementsTxt(join(dir, "syntax.txt")));
    assert.match(s.message, /syntax\.txt:3: /);
    const d = await rejection(readRequirementsTxt(join(dir, "dup.txt")));
    assert.match(d.message, /dup\.txt:2: Six is required twice \(also at .*dup\.txt:1\)/);
    const c = await rejection(readRequirementsTxt(join(dir, "conflict.txt")));
    assert.match(
      c.message,
      /conflict\.txt:2: six==1\.16\.0 conflicts with the constraint six==1\.17\.0/,
    );
    const l = await rejection(readRequirementsTxt(join(dir, "loop.txt")));
    assert.match(l.message, /loop\.txt: includes itself/);
    const b = await rejection(readRequirementsTxt(join(dir, "bare.txt")));
    assert.match(b.message, /bare\.txt:1: cannot tell the package name/);
    const missing = await rejection(readRequirementsTxt(join(dir, "nope.txt")));
    assert.match(missing.message, /cannot read .*nope\.txt: ENOENT/);
  });
});
