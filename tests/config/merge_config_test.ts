import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { loadFileConfig } from "../../src/config/load_file_config.ts";
import { mergeConfig } from "../../src/config/merge_config.ts";
import type { BuildConfig } from "../../src/config/types.ts";
import type { ConfigOverrides } from "../../src/config/merge_config.ts";
import { PycontainerError } from "../../src/errors.ts";

/** Writes the files into a temp project, loads and merges them with `cli`, removes the project. */
async function merged(
  files: Record<string, string>,
  cli: ConfigOverrides = {},
  env: Record<string, string | undefined> = {},
): Promise<{ dir: string; config: BuildConfig }> {
  const dir = await mkdtemp(join(tmpdir(), "pycontainer-merge-"));
  try {
    for (const [name, text] of Object.entries(files)) {
      await mkdir(join(dir, name, ".."), { recursive: true });
      await writeFile(join(dir, name), text);
    }
    const layers = await loadFileConfig(dir);
    return { dir, config: mergeConfig(dir, cli, layers, { env }) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const PYPROJECT = [
  "[project]",
  'name = "app"',
  "",
  "[tool.pycontainer.build]",
  'workdir = "/from-pyproject"',
  'user = "pyproject-user"',
  'tags = ["pyproject:1"]',
  'base-image = "python:3.11-slim"',
  "",
  "[tool.pycontainer.build.env]",
  'A = "pyproject"',
  'B = "pyproject"',
  'C = "pyproject"',
].join("\n");

const PYCONTAINER = [
  "[build]",
  'workdir = "/from-toml"',
  'tags = ["toml:1", "toml:2"]',
  "",
  "[build.env]",
  'B = "toml"',
  'C = "toml"',
].join("\n");

test("mergeConfig() uses defaults when nothing is configured", async () => {
  const { dir, config } = await merged({});
  assert.equal(config.context, dir);
  assert.deepEqual(config.build, {
    workdir: "/app",
    platforms: ["linux/amd64"],
    output: join(dir, "dist", "image"),
  });
  assert.deepEqual(config.registry, {});
  assert.deepEqual(config.sources, {
    "build.workdir": "default",
    "build.platforms": "default",
    "build.output": "default",
  });
});

test("mergeConfig() lets pycontainer.toml beat [tool.pycontainer], which beats defaults", async () => {
  const { config } = await merged({ "pyproject.toml": PYPROJECT, "pycontainer.toml": PYCONTAINER });
  assert.equal(config.build.workdir, "/from-toml");
  assert.equal(config.sources["build.workdir"], "pycontainer.toml:2");
  assert.equal(config.build.user, "pyproject-user");
  assert.equal(config.sources["build.user"], "pyproject.toml [tool.pycontainer]:6");
  assert.equal(config.build.baseImage, "python:3.11-slim");
  assert.deepEqual(config.build.platforms, ["linux/amd64"]);
  assert.equal(config.sources["build.platforms"], "default");
});

test("mergeConfig() replaces lists from a higher layer instead of appending", async () => {
  const { config } = await merged({ "pyproject.toml": PYPROJECT, "pycontainer.toml": PYCONTAINER });
  assert.deepEqual(config.build.tags, ["toml:1", "toml:2"]);
  assert.equal(config.sources["build.tags"], "pycontainer.toml:3");
  const cli = await merged(
    { "pyproject.toml": PYPROJECT, "pycontainer.toml": PYCONTAINER },
    { build: { tags: ["cli:1"], expose: ["9000"] } },
  );
  assert.deepEqual(cli.config.build.tags, ["cli:1"]);
  assert.equal(cli.config.sources["build.tags"], "--tag");
  assert.deepEqual(cli.config.build.expose, ["9000"]);
  assert.equal(cli.config.sources["build.expose"], "--expose");
});

test("mergeConfig() merges env key by key with the same precedence", async () => {
  const { config } = await merged(
    { "pyproject.toml": PYPROJECT, "pycontainer.toml": PYCONTAINER },
    { build: { env: { C: "cli", D: "cli" } } },
  );
  assert.deepEqual(config.build.env, { A: "pyproject", B: "toml", C: "cli", D: "cli" });
  assert.equal(config.sources["build.env.A"], "pyproject.toml [tool.pycontainer]:11");
  assert.equal(config.sources["build.env.B"], "pycontainer.toml:6");
  assert.equal(config.sources["build.env.C"], "--env");
  assert.equal(config.sources["build.env.D"], "--env");
});

test("mergeConfig() merges labels key by key", async () => {
  const { config } = await merged(
    { "pycontainer.toml": '[build.labels]\ntier = "web"\nteam = "a"\n' },
    { build: { labels: { team: "b" } } },
  );
  assert.deepEqual(config.build.labels, { tier: "web", team: "b" });
  assert.equal(config.sources["build.labels.tier"], "pycontainer.toml:2");
  assert.equal(config.sources["build.labels.team"], "--label");
});

test("mergeConfig() lets a given flag beat every file, and an absent flag beat none", async () => {
  const { config } = await merged(
    { "pyproject.toml": PYPROJECT, "pycontainer.toml": PYCONTAINER },
    { build: { workdir: "/from-cli" } },
  );
  assert.equal(config.build.workdir, "/from-cli");
  assert.equal(config.sources["build.workdir"], "--workdir");
  assert.equal(config.build.user, "pyproject-user");
  assert.equal(config.build.baseImage, "python:3.11-slim");
  assert.equal(config.sources["build.baseImage"], "pyproject.toml [tool.pycontainer]:8");
});

test("mergeConfig() treats an explicitly undefined flag as not given", () => {
  const dir = resolve("/tmp/none");
  const cli = { build: { workdir: undefined, user: "cli" } } as unknown as ConfigOverrides;
  const config = mergeConfig(dir, cli, {
    pycontainerToml: {
      path: join(dir, "pycontainer.toml"),
      display: "pycontainer.toml",
      label: "pycontainer.toml",
      build: { workdir: "/file" },
      registry: {},
      lines: { "build.workdir": 2 },
    },
  });
  assert.equal(config.build.workdir, "/file");
  assert.equal(config.build.user, "cli");
});

test("mergeConfig() resolves relative output paths: files against the context, CLI against cwd", async () => {
  const fromFile = await merged({ "pycontainer.toml": '[build]\noutput = "build/oci"\n' });
  assert.equal(fromFile.config.build.output, join(fromFile.dir, "build", "oci"));
  assert.equal(fromFile.config.sources["build.output"], "pycontainer.toml:2");
  const fromCli = await merged({ "pycontainer.toml": '[build]\noutput = "x"\n' }, {
    build: { output: "rel/out" },
  });
  assert.equal(fromCli.config.build.output, resolve("rel/out"));
  assert.equal(fromCli.config.sources["build.output"], "--output");
});

test("mergeConfig() takes the registry mirror from CLI, then the env var, then files", async () => {
  const files = { "pycontainer.toml": '[registry]\nmirror = "file-mirror:5000"\n' };
  const fileOnly = await merged(files);
  assert.equal(fileOnly.config.registry.mirror, "file-mirror:5000");
  assert.equal(fileOnly.config.sources["registry.mirror"], "pycontainer.toml:2");

  const env = { PYCONTAINER_REGISTRY_MIRROR: "env-mirror:5000" };
  const fromEnv = await merged(files, {}, env);
  assert.equal(fromEnv.config.registry.mirror, "env-mirror:5000");
  assert.equal(fromEnv.config.sources["registry.mirror"], "PYCONTAINER_REGISTRY_MIRROR");

  const fromCli = await merged(files, { registry: { mirror: "cli-mirror" } }, env);
  assert.equal(fromCli.config.registry.mirror, "cli-mirror");
  assert.equal(fromCli.config.sources["registry.mirror"], "--registry-mirror");

  const blank = await merged(files, {}, { PYCONTAINER_REGISTRY_MIRROR: "" });
  assert.equal(blank.config.registry.mirror, "file-mirror:5000");
});

test("mergeConfig() names api as the source of API overrides", () => {
  const config = mergeConfig("/srv/app", { build: { tags: ["a:1"] } }, {}, { origin: "api" });
  assert.equal(config.sources["build.tags"], "api");
});

test("mergeConfig() validates the merged result and names the value's source", async () => {
  await assert.rejects(
    () => merged({ "pycontainer.toml": '\n[build]\nworkdir = "app"\n' }),
    (err: unknown) => {
      assert.ok(err instanceof PycontainerError);
      assert.equal(err.message, 'pycontainer.toml:3: workdir "app" is not an absolute path');
      assert.equal(err.exitCode, 2);
      return true;
    },
  );
  await assert.rejects(
    () => merged({}, { build: { platforms: ["linux/sparc"] } }),
    (err: unknown) => {
      assert.ok(err instanceof PycontainerError);
      assert.equal(err.message, '--platform: unknown platform "linux/sparc"');
      return true;
    },
  );
});

test("mergeConfig() normalises platform aliases from files", async () => {
  const { config } = await merged({
    "pyproject.toml": '[tool.pycontainer.build]\nplatforms = ["linux/aarch64", "linux/x86_64"]\n',
  });
  assert.deepEqual(config.build.platforms, ["linux/arm64", "linux/amd64"]);
  assert.equal(config.sources["build.platforms"], "pyproject.toml [tool.pycontainer]:2");
});
