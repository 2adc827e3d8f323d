import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadFileConfig } from "../../src/config/load_file_config.ts";
import { PycontainerError } from "../../src/errors.ts";

/** Creates a temp project with the given files, runs `fn`, removes the directory. */
async function withProject(
  files: Record<string, string>,
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "pycontainer-config-"));
  try {
    for (const [name, text] of Object.entries(files)) {
      await mkdir(join(dir, name, ".."), { recursive: true });
      await writeFile(join(dir, name), text);
    }
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs `fn`, asserts it rejects with a PycontainerError, and returns that error. */
async function rejection(fn: () => Promise<unknown>): Promise<PycontainerError> {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof PycontainerError, `expected PycontainerError, got ${err}`);
    return err;
  }
  assert.fail("expected a rejection");
}

test("loadFileConfig() reads every kebab-case key of pycontainer.toml with its line", async () => {
  const toml = [
    "# project image",
    "[build]",
    'tags = ["app:1", "app:latest"]',
    'base-image = "python:3.12-slim"',
    'workdir = "/srv"',
    'platforms = ["linux/amd64", "linux/arm64"]',
    'entrypoint = ["python", "-m", "app"]',
    'cmd = "--port 8080"',
    'user = "1000:1000"',
    'expose = [8000, "53/udp"]',
    'output = "out/img"',
    'python-version = "3.12"',
    "include-deps = true",
    "",
    "[build.env]",
    'PORT = "8000"',
    "",
    "[build.labels]",
    '"org.opencontainers.image.title" = "app"',
    "",
    "[registry]",
    'mirror = "mirror.gcr.io"',
    'insecure = ["registry.local:5000"]',
    "",
  ].join("\n");
  await withProject({ "pycontainer.toml": toml }, async (dir) => {
    const { pycontainerToml: layer, pyproject } = await loadFileConfig(dir);
    assert.equal(pyproject, undefined);
    assert.ok(layer);
    assert.equal(layer.path, join(dir, "pycontainer.toml"));
    assert.equal(layer.label, "pycontainer.toml");
    assert.deepEqual(layer.build, {
      tags: ["app:1", "app:latest"],
      baseImage: "python:3.12-slim",
      workdir: "/srv",
      platforms: ["linux/amd64", "linux/arm64"],
      entrypoint: ["python", "-m", "app"],
      cmd: ["--port", "8080"],
      user: "1000:1000",
      expose: ["8000", "53/udp"],
      output: join(dir, "out", "img"),
      pythonVersion: "3.12",
      includeDeps: true,
      env: { PORT: "8000" },
      labels: { "org.opencontainers.image.title": "app" },
    });
    assert.deepEqual(layer.registry, {
      mirror: "mirror.gcr.io",
      insecure: ["registry.local:5000"],
    });
    assert.equal(layer.lines["build.tags"], 3);
    assert.equal(layer.lines["build.baseImage"], 4);
    assert.equal(layer.lines["build.includeDeps"], 13);
    assert.equal(layer.lines["build.env.PORT"], 16);
    assert.equal(layer.lines["build.labels.org.opencontainers.image.title"], 19);
    assert.equal(layer.lines["registry.insecure"], 23);
  });
});

test("loadFileConfig() accepts snake_case keys and the tag/platform aliases", async () => {
  const toml = [
    "[build]",
    'base_image = "python:3.11-slim"',
    "include_deps = false",
    'python_version = "3.11"',
    'tag = "legacy:1"',
    'platform = "linux/arm64"',
  ].join("\n");
  await withProject({ "pycontainer.toml": toml }, async (dir) => {
    const layer = (await loadFileConfig(dir)).pycontainerToml;
    assert.deepEqual(layer?.build, {
      baseImage: "python:3.11-slim",
      includeDeps: false,
      pythonVersion: "3.11",
      tags: ["legacy:1"],
      platforms: ["linux/arm64"],
    });
    assert.equal(layer?.lines["build.platforms"], 6);
  });
});

test("loadFileConfig() rejects both spellings of one key in a table", async () => {
  const toml = '[build]\nbase-image = "a"\nbase_image = "b"\n';
  await withProject({ "pycontainer.toml": toml }, async (dir) => {
    const err = await rejection(() => loadFileConfig(dir));
    assert.equal(
      err.message,
      'pycontainer.toml:3: "base_image" and "base-image" in [build] set the same option',
    );
    assert.equal(err.exitCode, 2);
  });
});

test("loadFileConfig() reads [tool.pycontainer] from pyproject.toml with its own label", async () => {
  const pyproject = [
    "[project]",
    'name = "app"',
    "",
    "[tool.pycontainer.build]",
    'workdir = "/opt/app"',
    "",
    "[tool.pycontainer.build.env]",
    'MODE = "prod"',
    "",
    "[tool.pycontainer]",
    'registry.mirror = "localhost:5000"',
  ].join("\n");
  await withProject({ "pyproject.toml": pyproject }, async (dir) => {
    const { pycontainerToml, pyproject: layer } = await loadFileConfig(dir);
    assert.equal(pycontainerToml, undefined);
    assert.equal(layer?.label, "pyproject.toml [tool.pycontainer]");
    assert.deepEqual(layer?.build, { workdir: "/opt/app", env: { MODE: "prod" } });
    assert.deepEqual(layer?.registry, { mirror: "localhost:5000" });
    assert.equal(layer?.lines["build.workdir"], 5);
    assert.equal(layer?.lines["build.env.MODE"], 8);
    assert.equal(layer?.lines["registry.mirror"], 11);
  });
});

test("loadFileConfig() returns no layers for a project without configuration", async () => {
  await withProject({ "pyproject.toml": '[project]\nname = "app"\n' }, async (dir) => {
    assert.deepEqual(await loadFileConfig(dir), {});
  });
  await withProject({}, async (dir) => {
    assert.deepEqual(await loadFileConfig(dir), {});
  });
});

test("loadFileConfig() uses an explicit --config file instead of pycontainer.toml", async () => {
  await withProject({
    "pycontainer.toml": '[build]\nuser = "auto"\n',
    "ci/release.toml": '\n[build]\nuser = "release"\n',
  }, async (dir) => {
    const layer = (await loadFileConfig(dir, { configFile: join(dir, "ci/release.toml") }))
      .pycontainerToml;
    assert.deepEqual(layer?.build, { user: "release" });
    assert.equal(layer?.label, join("ci", "release.toml"));
    assert.equal(layer?.lines["build.user"], 3);
  });
});

test("loadFileConfig() fails when the explicit --config file does not exist", async () => {
  await withProject({ "pycontainer.toml": "[build]\n" }, async (dir) => {
    const missing = join(dir, "nope.toml");
    const err = await rejection(() => loadFileConfig(dir, { configFile: missing }));
    assert.equal(err.message, "config file nope.toml not found");
    assert.equal(err.exitCode, 2);
    assert.match(err.hint ?? "", /--config/);
  });
});

test("loadFileConfig() reports malformed TOML as file, line and column", async () => {
  const toml = '[build]\nworkdir = "/app"\nuser = "app\n';
  await withProject({ "pycontainer.toml": toml }, async (dir) => {
    const err = await rejection(() => loadFileConfig(dir));
    assert.match(err.message, /^Cannot parse pycontainer\.toml: .+ at line 3, column \d+$/);
    assert.equal(err.message.includes("\n"), false);
    assert.equal(err.exitCode, 2);
    assert.match(err.hint ?? "", /line 3: user = "app/);
  });
  await withProject({ "pyproject.toml": "[project\nname = 1\n" }, async (dir) => {
    const err = await rejection(() => loadFileConfig(dir));
    assert.match(err.message, /^Cannot parse pyproject\.toml: .+ at line 1, column \d+$/);
  });
});

test("loadFileConfig() names an unknown key, its line and a near miss", async () => {
  const toml = '# config\n\n[build]\nbsae-image = "python:3.12-slim"\n';
  await withProject({ "pycontainer.toml": toml }, async (dir) => {
    const err = await rejection(() => loadFileConfig(dir));
    assert.equal(err.message, 'pycontainer.toml:4: unknown key "bsae-image" in [build]');
    assert.equal(err.hint, 'did you mean "base-image"?');
    assert.equal(err.exitCode, 2);
  });
  const snake = '[build]\nworkdir = "/x"\n\n[registry]\nmirorr = "m"\n';
  await withProject({ "pycontainer.toml": snake }, async (dir) => {
    const err = await rejection(() => loadFileConfig(dir));
    assert.equal(err.message, 'pycontainer.toml:5: unknown key "mirorr" in [registry]');
    assert.equal(err.hint, 'did you mean "mirror"?');
  });
});

test("loadFileConfig() lists the known keys when nothing is close", async () => {
  await withProject({ "pycontainer.toml": '[build]\ncolour = "red"\n' }, async (dir) => {
    const err = await rejection(() => loadFileConfig(dir));
    assert.equal(err.message, 'pycontainer.toml:2: unknown key "colour" in [build]');
    assert.match(err.hint ?? "", /^known keys in \[build\]: tags, base-image, workdir/);
  });
  await withProject({ "pycontainer.toml": '[biuld]\nworkdir = "/x"\n' }, async (dir) => {
    const err = await rejection(() => loadFileConfig(dir));
    assert.equal(err.message, 'pycontainer.toml:1: unknown key "biuld" in the top level');
    assert.equal(err.hint, 'did you mean "build"?');
  });
});

test("loadFileConfig() finds unknown keys in pyproject.toml under their full table name", async () => {
  const pyproject = [
    "[project]",
    'name = "app"',
    "[tool.ruff]",
    "line-length = 100",
    "[tool.pycontainer.build]",
    'workdir = "/app"',
    "entry-point = 'x'",
  ].join("\n");
  await withProject({ "pyproject.toml": pyproject }, async (dir) => {
    const err = await rejection(() => loadFileConfig(dir));
    assert.equal(
      err.message,
      'pyproject.toml:7: unknown key "entry-point" in [tool.pycontainer.build]',
    );
    assert.equal(err.hint, 'did you mean "entrypoint"?');
  });
});

test("loadFileConfig() reports a wrong type with the key's line", async () => {
  const toml = '[build]\ntags = ["a"]\n\nworkdir = 5\n';
  await withProject({ "pycontainer.toml": toml }, async (dir) => {
    const err = await rejection(() => loadFileConfig(dir));
    assert.equal(
      err.message,
      'pycontainer.toml:4: "workdir" in [build] must be a string, not an integer',
    );
    assert.equal(err.exitCode, 2);
  });
  const cases: [string, RegExp][] = [
    ['include-deps = "yes"', /"include-deps" in \[build\] must be a boolean, not a string/],
    ["tags = [1, 2]", /"tags" in \[build\] must be a string or an array of strings/],
    ["python-version = 3.10", /"python-version" in \[build\] must be a string, not a float/],
    ["expose = [true]", /"expose" in \[build\] must be a port or an array of ports/],
    [
      "cmd = 'python \"app.py'",
      /"cmd" in \[build\] cannot be split into words: cmd has an unbalanced " quote/,
    ],
    ["env = 3", /"env" in \[build\] must be a table of strings, not an integer/],
  ];
  for (const [line, pattern] of cases) {
    await withProject({ "pycontainer.toml": `[build]\n${line}\n` }, async (dir) => {
      const err = await rejection(() => loadFileConfig(dir));
      assert.match(err.message, new RegExp(`^pycontainer\\.toml:2: ${pattern.source}`));
      assert.equal(err.exitCode, 2);
    });
  }
});

test("loadFileConfig() rejects non-string env values with a hint to quote them", async () => {
  const toml = '[build.env]\nMODE = "prod"\nPORT = 8000\n';
  await withProject({ "pycontainer.toml": toml }, async (dir) => {
    const err = await rejection(() => loadFileConfig(dir));
    assert.equal(
      err.message,
      'pycontainer.toml:3: value of "PORT" in [build.env] must be a string, not an integer',
    );
    assert.equal(err.hint, 'quote it: PORT = "8000"');
  });
  const inline = '[build]\nlabels = { tier = "web", debug = true }\n';
  await withProject({ "pycontainer.toml": inline }, async (dir) => {
    const err = await rejection(() => loadFileConfig(dir));
    assert.equal(
      err.message,
      'pycontainer.toml:2: value of "debug" in [build.labels] must be a string, not a boolean',
    );
  });
});

test("loadFileConfig() rejects a [tool.pycontainer] that is not a table", async () => {
  await withProject({ "pyproject.toml": '[tool]\npycontainer = "yes"\n' }, async (dir) => {
    const err = await rejection(() => loadFileConfig(dir));
    assert.equal(err.message, 'pyproject.toml:2: "tool.pycontainer" must be a table');
    assert.equal(err.exitCode, 2);
  });
});

test("loadFileConfig() points a top-level build key to its table", async () => {
  await withProject({ "pyproject.toml": '[tool.pycontainer]\ntag = "app:1"\n' }, async (dir) => {
    const err = await rejection(() => loadFileConfig(dir));
    assert.equal(
      err.message,
      'pyproject.toml:2: key "tag" belongs in [tool.pycontainer.build], not [tool.pycontainer]',
    );
    assert.equal(err.hint, "move it under [tool.pycontainer.build]");
  });
  await withProject({ "pycontainer.toml": 'mirror = "m"\n' }, async (dir) => {
    const err = await rejection(() => loadFileConfig(dir));
    assert.equal(
      err.message,
      'pycontainer.toml:1: key "mirror" belongs in [registry], not the top level',
    );
  });
});

test("loadFileConfig() treats object-prototype names as unknown keys", async () => {
  for (const key of ["constructor", "toString", "__proto__"]) {
    await withProject({ "pycontainer.toml": `[build]\n${key} = "x"\n` }, async (dir) => {
      const err = await rejection(() => loadFileConfig(dir));
      assert.equal(err.message, `pycontainer.toml:2: unknown key "${key}" in [build]`);
    });
  }
});
