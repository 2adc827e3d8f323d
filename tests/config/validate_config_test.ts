import { test } from "node:test";
import assert from "node:assert/strict";
import {
  KNOWN_PLATFORMS,
  normalizePlatform,
  validateConfig,
} from "../../src/config/validate_config.ts";
import type { BuildConfig, BuildOptions, RegistryOptions } from "../../src/config/types.ts";
import { PycontainerError } from "../../src/errors.ts";

function config(
  build: BuildOptions,
  registry: RegistryOptions = {},
  sources: Record<string, string> = {},
): BuildConfig {
  return { context: "/src/app", build, registry, sources };
}

function invalid(cfg: BuildConfig): PycontainerError {
  try {
    validateConfig(cfg);
  } catch (err) {
    assert.ok(err instanceof PycontainerError);
    assert.equal(err.exitCode, 2);
    return err;
  }
  assert.fail("expected validateConfig() to throw");
}

test("normalizePlatform() maps common aliases to OCI names", () => {
  assert.equal(normalizePlatform("linux/aarch64"), "linux/arm64");
  assert.equal(normalizePlatform("linux/x86_64"), "linux/amd64");
  assert.equal(normalizePlatform("linux/arm64/v8"), "linux/arm64");
  assert.equal(normalizePlatform("linux/arm"), "linux/arm/v7");
  assert.equal(normalizePlatform("Linux/AMD64"), "linux/amd64");
  assert.equal(normalizePlatform("linux/i386"), "linux/386");
  for (const p of KNOWN_PLATFORMS) assert.equal(normalizePlatform(p), p);
});

test("normalizePlatform() rejects unknown os, arch and variants", () => {
  for (
    const p of [
      "linux",
      "windows/amd64",
      "darwin/arm64",
      "linux/sparc",
      "linux/arm/v9",
      "linux/amd64/v5",
      "",
    ]
  ) {
    assert.equal(normalizePlatform(p), undefined, p);
  }
});

test("validateConfig() normalises platforms, splits commas and drops duplicates", () => {
  const out = validateConfig(config({ platforms: ["linux/amd64,linux/aarch64", "linux/arm64"] }));
  assert.deepEqual(out.build.platforms, ["linux/amd64", "linux/arm64"]);
});

test("validateConfig() reports an unknown platform with its source and the known list", () => {
  const err = invalid(
    config({ platforms: ["linux/mips"] }, {}, { "build.platforms": "pycontainer.toml:7" }),
  );
  assert.equal(err.message, 'pycontainer.toml:7: unknown platform "linux/mips"');
  assert.match(err.hint ?? "", /linux\/amd64, linux\/arm64/);
  assert.equal(invalid(config({ platforms: [] })).message, "configuration: no platform given");
});

test("validateConfig() requires an absolute workdir and normalises it", () => {
  assert.equal(validateConfig(config({ workdir: "/srv//app/" })).build.workdir, "/srv/app");
  assert.equal(validateConfig(config({ workdir: "/" })).build.workdir, "/");
  const err = invalid(config({ workdir: "./app" }, {}, { "build.workdir": "--workdir" }));
  assert.equal(err.message, '--workdir: workdir "./app" is not an absolute path');
  assert.match(err.hint ?? "", /\/app/);
});

test("validateConfig() checks exposed ports and protocols", () => {
  const out = validateConfig(config({ expose: ["80", "53/UDP", "9000/sctp", "65535/tcp"] }));
  assert.deepEqual(out.build.expose, ["80", "53/udp", "9000/sctp", "65535/tcp"]);
  for (const port of ["0", "65536", "http", "80/icmp", "-1", "80/"]) {
    const err = invalid(config({ expose: [port] }, {}, { "build.expose": "--expose" }));
    assert.equal(err.message, `--expose: invalid port "${port}"`);
  }
});

test("validateConfig() requires python version 3.Y", () => {
  assert.equal(validateConfig(config({ pythonVersion: "3.12" })).build.pythonVersion, "3.12");
  for (const v of ["3", "3.12.1", "2.7", "py3.12", "3.x"]) {
    const err = invalid(
      config({ pythonVersion: v }, {}, { "build.pythonVersion": "pycontainer.toml:9" }),
    );
    assert.equal(err.message, `pycontainer.toml:9: python version "${v}" is not of the form 3.Y`);
  }
});

test("validateConfig() rejects env keys that are empty or contain =", () => {
  const err = invalid(
    config({ env: { "A=B": "x" } }, {}, { "build.env.A=B": "pycontainer.toml:3" }),
  );
  assert.equal(err.message, 'pycontainer.toml:3: invalid environment variable name "A=B"');
  assert.match(
    invalid(config({ env: { "": "x" } })).message,
    /invalid environment variable name ""/,
  );
  assert.deepEqual(validateConfig(config({ env: { A: "" } })).build.env, { A: "" });
});

test("validateConfig() rejects empty tags and empty strings but leaves tag syntax alone", () => {
  const err = invalid(config({ tags: ["ok:1", " "] }, {}, { "build.tags": "--tag" }));
  assert.equal(err.message, "--tag: empty image tag");
  assert.deepEqual(validateConfig(config({ tags: ["Not A Valid Ref"] })).build.tags, [
    "Not A Valid Ref",
  ]);
  assert.equal(invalid(config({ baseImage: "" })).message, "configuration: empty base image");
  assert.equal(invalid(config({ user: "" })).message, "configuration: empty user");
});

test("validateConfig() normalises registry hosts and keeps http:// mirrors insecure", () => {
  const out = validateConfig(
    config({}, { mirror: "https://Mirror.gcr.io/", insecure: ["reg:5000"] }),
  );
  assert.deepEqual(out.registry, { mirror: "mirror.gcr.io", insecure: ["reg:5000"] });
  const http = validateConfig(config({}, { mirror: "http://10.0.0.5:5000" }));
  assert.deepEqual(http.registry, { mirror: "10.0.0.5:5000", insecure: ["10.0.0.5:5000"] });
  const err = invalid(
    config({}, { mirror: "mirror.example/some path" }, {
      "registry.mirror": "PYCONTAINER_REGISTRY_MIRROR",
    }),
  );
  assert.equal(
    err.message,
    'PYCONTAINER_REGISTRY_MIRROR: invalid registry mirror "mirror.example/some path"',
  );
});

test("validateConfig() never echoes a mirror that may hold credentials", () => {
  const err = invalid(
    config({}, { mirror: "https://user:s3cret@mirror.example" }, {
      "registry.mirror": "--registry-mirror",
    }),
  );
  assert.equal(err.message, "--registry-mirror: invalid registry mirror");
  assert.equal(err.message.includes("s3cret"), false);
});

test("validateConfig() does not modify its input", () => {
  const input = config({ platforms: ["linux/aarch64"], workdir: "/app/" });
  validateConfig(input);
  assert.deepEqual(input.build, { platforms: ["linux/aarch64"], workdir: "/app/" });
});
