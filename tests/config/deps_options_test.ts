import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadFileConfig } from "../../src/config/load_file_config.ts";
import { mergeConfig } from "../../src/config/merge_config.ts";
import { PycontainerError } from "../../src/errors.ts";
import { overridesFrom } from "../../src/cli/build_command.ts";
import { parseFlags } from "../../src/cli/args.ts";
import { buildCommand } from "../../src/cli/build_command.ts";
import { dependencyOptions } from "../../src/build/dependency_layers.ts";

async function withToml<T>(text: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "pycontainer-deps-config-"));
  try {
    await writeFile(join(dir, "pycontainer.toml"), text);
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("loadFileConfig() reads the dependency keys of [build] with their lines", async () => {
  const toml = [
    "[build]",
    "include-deps = true",
    'index-url = "https://pypi.example/simple/"',
    'extra-index-urls = ["https://extra.example/simple/"]',
    'find-links = "wheels"',
    'extras = ["prod"]',
    'groups = ["server"]',
    'lock = "pylock.prod.toml"',
    "",
  ].join("\n");
  await withToml(toml, async (dir) => {
    const layer = (await loadFileConfig(dir)).pycontainerToml!;
    assert.deepEqual(layer.build, {
      includeDeps: true,
      indexUrl: "https://pypi.example/simple/",
      extraIndexUrls: ["https://extra.example/simple/"],
      findLinks: ["wheels"],
      extras: ["prod"],
      groups: ["server"],
      lockFile: "pylock.prod.toml",
    });
    assert.equal(layer.lines["build.indexUrl"], 3);
    assert.equal(layer.lines["build.lockFile"], 8);
  });
});

test("loadFileConfig() accepts extra/group/extra-index-url aliases and snake_case", async () => {
  const toml =
    '[build]\nextra = "prod"\ngroup = ["a", "b"]\nextra_index_url = "https://x/simple/"\n';
  await withToml(toml, async (dir) => {
    const layer = (await loadFileConfig(dir)).pycontainerToml!;
    assert.deepEqual(layer.build, {
      extras: ["prod"],
      groups: ["a", "b"],
      extraIndexUrls: ["https://x/simple/"],
    });
  });
});

test("loadFileConfig() rejects a wrongly typed dependency key, naming file and line", async () => {
  await withToml("[build]\n\nextras = [1]\n", async (dir) => {
    await assert.rejects(loadFileConfig(dir), (err) => {
      assert.ok(err instanceof PycontainerError);
      assert.match(err.message, /pycontainer\.toml:3: .*extras/);
      assert.equal(err.exitCode, 2);
      return true;
    });
  });
  await withToml('[build]\nwrite-lock = "pylock.toml"\n', async (dir) => {
    await assert.rejects(loadFileConfig(dir), /unknown key "write-lock"/);
  });
});

test("overridesFrom() maps the dependency flags; flags win over the file", async () => {
  const { values } = parseFlags("build", buildCommand.flags, [
    "--include-deps",
    "--index-url",
    "http://127.0.0.1:1/simple/",
    "--extra-index-url",
    "http://a/simple/",
    "--extra-index-url",
    "http://b/simple/",
    "--extra",
    "prod,server",
    "--group",
    "dev",
    "--find-links",
    "wheels",
    "--lock",
    "requirements.lock.txt",
    "--write-lock",
    "pylock.toml",
  ]);
  const o = overridesFrom(values);
  assert.deepEqual(o.build?.extraIndexUrls, ["http://a/simple/", "http://b/simple/"]);
  assert.deepEqual(o.build?.extras, ["prod", "server"]);
  assert.deepEqual(o.build?.groups, ["dev"]);
  assert.equal(o.build?.writeLock, "pylock.toml");
  await withToml('[build]\nindex-url = "https://file/simple/"\nextras = ["x"]\n', async (dir) => {
    const config = mergeConfig(dir, o, await loadFileConfig(dir));
    const deps = dependencyOptions(config);
    assert.equal(deps.indexUrl, "http://127.0.0.1:1/simple/");
    assert.deepEqual(deps.extras, ["prod", "server"]);
    assert.equal(deps.lockFile, "requirements.lock.txt");
    assert.deepEqual(deps.findLinks, ["wheels"]);
    assert.equal(config.sources["build.indexUrl"] !== undefined, true);
  });
  const none = overridesFrom(parseFlags("build", buildCommand.flags, []).values);
  for (const key of ["indexUrl", "extraIndexUrls", "extras", "groups", "lockFile", "writeLock"]) {
    assert.equal((none.build as Record<string, unknown>)[key], undefined, key);
  }
});
