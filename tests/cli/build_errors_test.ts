/**
 * Bad input to `pycontainer build`: each case must fail with a one-line message naming the file,
 * flag or registry, a hint, the right exit code (2 usage, 1 build), no stack trace unless
 * --verbose, and nothing written.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, stat, symlink, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "./_run_cli.ts";

let work: string;
let n = 0;

before(async () => {
  work = await mkdtemp(join(tmpdir(), "pycontainer-cli-errors-"));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

async function project(files: Record<string, string>): Promise<string> {
  const dir = join(work, `p${n++}`);
  await mkdir(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(dir, name, ".."), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return dir;
}

const hello = {
  "pyproject.toml": '[project]\nname = "myapp"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n',
  "app.py": 'print("hi")\n',
};

async function assertNothingWritten(dir: string) {
  await assert.rejects(stat(join(dir, "dist")), /ENOENT/);
}

function assertOneErrorLine(stderr: string, pattern: RegExp) {
  const lines = stderr.split("\n");
  const errors = lines.filter((l) => l.startsWith("error: "));
  assert.equal(errors.length, 1, stderr);
  assert.match(errors[0]!, pattern);
  assert.ok(lines.some((l) => l.startsWith("hint: ")), `a hint is printed:\n${stderr}`);
  assert.ok(!/\n\s+at /.test(stderr), `no stack trace without --verbose:\n${stderr}`);
}

test("build without pyproject.toml names the file and exits 2", async () => {
  const dir = await project({ "app.py": "print(1)\n" });
  const r = await runCli(["build", "--context", dir, "--base-image", "scratch"]);
  assert.equal(r.code, 2);
  assertOneErrorLine(r.stderr, /pyproject\.toml/);
  await assertNothingWritten(dir);
});

test("build with malformed pyproject.toml reports file:line:column", async () => {
  const dir = await project({
    ...hello,
    "pyproject.toml": '[project]\nname = "x"\nversion = 0.1.0\n',
  });
  const r = await runCli(["build", "--context", dir, "--base-image", "scratch"]);
  assert.equal(r.code, 2);
  assertOneErrorLine(r.stderr, /pyproject\.toml.*line 3, column \d+/);
});

test("build with an unknown key in pycontainer.toml names file, line, key and a suggestion", async () => {
  const dir = await project({
    ...hello,
    "pycontainer.toml": '[build]\nworkdir = "/srv"\nbsae-image = "scratch"\n',
  });
  const r = await runCli(["build", "--context", dir]);
  assert.equal(r.code, 2);
  assertOneErrorLine(r.stderr, /pycontainer\.toml:3: unknown key "bsae-image"/);
  assert.match(r.stderr, /did you mean "base-image"\?/);
});

test("build with an invalid --tag exits 2 naming the reference", async () => {
  const dir = await project(hello);
  const r = await runCli([
    "build",
    "--context",
    dir,
    "--base-image",
    "scratch",
    "--tag",
    "MyApp:latest",
  ]);
  assert.equal(r.code, 2);
  assertOneErrorLine(r.stderr, /invalid image reference "MyApp:latest"/);
  await assertNothingWritten(dir);
});

test("build with an invalid --platform exits 2 listing the form", async () => {
  const dir = await project(hello);
  const r = await runCli([
    "build",
    "--context",
    dir,
    "--base-image",
    "scratch",
    "--platform",
    "linux/sparc",
  ]);
  assert.equal(r.code, 2);
  assertOneErrorLine(r.stderr, /--platform.*linux\/sparc/);
});

test("build with an unknown flag suggests the right one", async () => {
  const r = await runCli(["build", "--tga", "x:1"]);
  assert.equal(r.code, 2);
  assertOneErrorLine(r.stderr, /unknown flag --tga/);
  assert.match(r.stderr, /did you mean --tag\?/);
});

test("build against an unreachable registry names it and hints at --registry-mirror", async () => {
  const port = await closedPort();
  const dir = await project(hello);
  const r = await runCli([
    "build",
    "--context",
    dir,
    "--base-image",
    `127.0.0.1:${port}/python:3.11-slim`,
  ], {
    PYCONTAINER_CACHE_DIR: join(work, "cache"),
  });
  assert.equal(r.code, 1);
  assertOneErrorLine(r.stderr, new RegExp(`127\\.0\\.0\\.1:${port}`));
  assert.match(r.stderr, /registry-mirror|PYCONTAINER_REGISTRY_MIRROR/);
  await assertNothingWritten(dir);
});

test("build into an unwritable output directory says which and what to do", async () => {
  const dir = await project({ ...hello, "blocker": "a file where a directory should be\n" });
  const r = await runCli([
    "build",
    "--context",
    dir,
    "--base-image",
    "scratch",
    "--output",
    join(dir, "blocker", "image"),
  ], {
    PYCONTAINER_CACHE_DIR: join(work, "cache"),
  });
  assert.equal(r.code, 1);
  assertOneErrorLine(r.stderr, /blocker/);
  assert.match(r.stderr, /--output/);
});

test("build refuses a symlink that escapes the context", async () => {
  const dir = await project(hello);
  await symlink("/etc/passwd", join(dir, "passwd"));
  const r = await runCli(["build", "--context", dir, "--base-image", "scratch"], {
    PYCONTAINER_CACHE_DIR: join(work, "cache"),
  });
  assert.equal(r.code, 1);
  assertOneErrorLine(r.stderr, /passwd.*\/etc\/passwd/);
  await assertNothingWritten(dir);
});

test("build --verbose adds the stack trace to an error", async () => {
  const r = await runCli(["build", "--context", join(work, "does-not-exist"), "--verbose"]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /^error: /m);
  assert.match(r.stderr, /\n\s+at /);
});

test("build --dry-run prints the plan and writes nothing", async () => {
  const dir = await project(hello);
  const r = await runCli(["build", "--context", dir, "--dry-run"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /base image: +python:3\.11-slim/);
  assert.match(r.stdout, /cmd: +\["python3","app.py"\]/);
  await assertNothingWritten(dir);
});

test("pycontainer --version, --help and build --help exit 0", async () => {
  const version = await runCli(["--version"]);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^\d+\.\d+\.\d+$/);
  const help = await runCli(["--help"]);
  assert.match(help.stdout, /build +Build an OCI image/);
  const buildHelp = await runCli(["build", "--help"]);
  assert.equal(buildHelp.code, 0);
  for (const flag of ["--tag", "--base-image", "--registry-mirror", "--dry-run", "--json"]) {
    assert.ok(buildHelp.stdout.includes(flag), flag);
  }
});

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
