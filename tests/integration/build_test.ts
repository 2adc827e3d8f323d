/**
 * End-to-end: `pycontainer build` on real projects, pulling a real Python base image (Debian
 * bookworm + python3, built by make_base_image.sh) from a real registry (Debian's
 * docker-registry on loopback), then running the result with umoci + runc and asserting on what
 * the container prints.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { main } from "../../cli.ts";
import { runImage, runtimeSkipReason } from "./_runtime.ts";
import {
  baseLayoutPath,
  pushLayoutToRegistry,
  startRegistry,
  type TestRegistry,
} from "./_registry.ts";

const projects = join(import.meta.dirname!, "..", "fixtures", "projects");
const e2e = join(import.meta.dirname!, "..", "fixtures", "e2e");
const skip = await runtimeSkipReason();
let registry: TestRegistry;
let work: string;
let baseLayout: string;

before(async () => {
  if (skip) return;
  work = await mkdtemp(join(tmpdir(), "pycontainer-e2e-"));
  baseLayout = baseLayoutPath();
  registry = await startRegistry();
  await pushLayoutToRegistry(baseLayout, "bookworm", `${registry.host}/base/python:bookworm`);
  await pushLayoutToRegistry(baseLayout, "bookworm", `${registry.host}/library/python:3.11-slim`);
});

after(async () => {
  if (skip) return;
  await registry?.stop();
  await rm(work, { recursive: true, force: true });
});

/** Runs the CLI in-process, capturing everything it prints. */
async function cli(args: string[], env: Record<string, string> = {}) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await main(args, {
    stdout: (s) => stdout.push(s),
    stderr: (s) => stderr.push(s),
    env: { ...process.env, PYCONTAINER_CACHE_DIR: join(work, "cache"), ...env },
    isTTY: false,
  });
  return { code, stdout: stdout.join("\n"), stderr: stderr.join("\n") };
}

async function copyProject(from: string, name: string): Promise<string> {
  const dir = join(work, name);
  await cp(from, dir, { recursive: true });
  return dir;
}

test(
  "build pulls the base from a registry and the hello image prints its greeting",
  { skip },
  async () => {
    const dir = await copyProject(join(projects, "hello"), "hello");
    await writeFile(join(dir, "app.py"), 'print("Hello from container!")\n');
    const r = await cli([
      "build",
      "--context",
      dir,
      "--tag",
      "myapp:latest",
      "--base-image",
      `${registry.host}/base/python:bookworm`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^sha256:[0-9a-f]{64}$/);
    const run = await runImage(join(dir, "dist", "image"), "latest");
    assert.equal(run.stdout.trim(), "Hello from container!", run.stderr);
    assert.equal(run.exitCode, 0);
  },
);

test("build resolves python:3.11-slim through --registry-mirror", { skip }, async () => {
  const dir = await copyProject(join(projects, "hello"), "hello-mirror");
  const r = await cli(["build", "--context", dir, "--registry-mirror", registry.host, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.equal(result.base[0].reference, "docker.io/library/python:3.11-slim");
  assert.equal(result.images[0].layers.length, 2);
  const index = JSON.parse(await readFile(join(dir, "dist", "image", "index.json"), "utf8"));
  assert.equal(index.manifests[0].annotations["org.opencontainers.image.ref.name"], "latest");
  const run = await runImage(join(dir, "dist", "image"), "latest");
  assert.equal(run.exitCode, 0, run.stderr);
  assert.notEqual(run.stdout.trim(), "");
});

test("build runs a src-layout package's [project.scripts] function", { skip }, async () => {
  const dir = await copyProject(join(projects, "src_scripts"), "src-scripts");
  const r = await cli([
    "build",
    "--context",
    dir,
    "--tag",
    "greeter:1",
    "--base-image",
    `oci-layout:${baseLayout}:bookworm`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const run = await runImage(join(dir, "dist", "image"), "1");
  assert.equal(run.stdout.trim(), "Hello, container!", run.stderr);
  const withArg = await runImage(join(dir, "dist", "image"), "1", {
    args: ["/app/.pycontainer/bin/greeter", "tests"],
  });
  assert.equal(withArg.stdout.trim(), "Hello, tests!", withArg.stderr);
});

test("build runs a [project.scripts] command line in exec form", { skip }, async () => {
  const dir = await copyProject(join(e2e, "cmdline_plain"), "cmdline");
  const r = await cli([
    "build",
    "--context",
    dir,
    "--base-image",
    `oci-layout:${baseLayout}:bookworm`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const run = await runImage(join(dir, "dist", "image"), "latest");
  assert.equal(run.stdout.trim(), "Hello from a command line!", run.stderr);
});

test("build leaves secrets and ignored files out of the image", { skip }, async () => {
  const dir = await copyProject(join(projects, "secrets_project"), "secrets");
  const r = await cli(["build", "--context", dir, "--base-image", "scratch", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  const appLayer = result.images[0].layers.at(-1);
  const tar = gunzipSync(
    await readFile(join(dir, "dist", "image", "blobs", "sha256", appLayer.digest.slice(7))),
  );
  const names = tarNames(new Uint8Array(tar));
  assert.ok(names.includes("app/main.py"), names.join());
  for (
    const secret of [
      ".env",
      ".env.production",
      "secrets/id_fixture",
      "config/local.bak",
      "logs/old.txt",
    ]
  ) {
    assert.ok(!names.includes(`app/${secret}`), `${secret} must not be in the image`);
  }
  assert.ok(!tar.toString("latin1").includes("fixture-secret"), "no secret content in the layer");
});

/** Entry names of a tar (ustar names; fixtures have short paths). */
function tarNames(tar: Uint8Array): string[] {
  const names: string[] = [];
  for (let off = 0; off + 512 <= tar.length;) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const name = new TextDecoder().decode(header.subarray(0, 100)).replace(/\0.*$/s, "");
    const size = parseInt(
      new TextDecoder().decode(header.subarray(124, 136)).replace(/\0.*$/s, "").trim() || "0",
      8,
    );
    names.push(name.replace(/\/$/, ""));
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return names;
}
