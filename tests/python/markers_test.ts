import { test } from "node:test";
import assert from "node:assert/strict";
import {
  evaluateMarker,
  formatMarker,
  type MarkerEnvironment,
  markerEnvironmentFor,
  parseMarker,
  platformMachineFor,
} from "../../src/python/markers.ts";
import { PycontainerError } from "../../src/errors.ts";
import { packagingFixture } from "./_packaging_fixtures.ts";

type FixtureEnv = MarkerEnvironment & {
  extra: string;
  extras: string[];
  dependency_groups: string[];
};

interface MarkerFixture {
  environments: Record<string, FixtureEnv>;
  cases: { marker: string; normalized: string; results: Record<string, boolean | string> }[];
  invalid: string[];
}

test("evaluateMarker() agrees with packaging in every fixture environment", () => {
  const fx = packagingFixture<MarkerFixture>("markers.json");
  let checked = 0;
  for (const c of fx.cases) {
    const marker = parseMarker(c.marker);
    for (const [name, expected] of Object.entries(c.results)) {
      const env = fx.environments[name] as FixtureEnv;
      const ctx = { extra: env.extra, extras: env.extras, dependencyGroups: env.dependency_groups };
      const what = `${c.marker} in ${name}`;
      if (typeof expected === "string") {
        assert.throws(() => evaluateMarker(marker, env, ctx), PycontainerError, what);
      } else {
        assert.equal(evaluateMarker(marker, env, ctx), expected, what);
      }
      checked++;
    }
  }
  assert.ok(checked > 400);
});

test("formatMarker() gives packaging's normal form", () => {
  const fx = packagingFixture<MarkerFixture>("markers.json");
  for (const c of fx.cases) assert.equal(formatMarker(parseMarker(c.marker)), c.normalized);
});

test("parseMarker() rejects what packaging rejects, naming the marker and column", () => {
  const fx = packagingFixture<MarkerFixture>("markers.json");
  for (const bad of fx.invalid) {
    assert.throws(() => parseMarker(bad), (e: unknown) => {
      assert.ok(e instanceof PycontainerError, bad);
      assert.ok(e.message.includes(JSON.stringify(bad)), e.message);
      assert.match(e.message, /at column \d+/);
      assert.equal(e.exitCode, 2);
      return true;
    });
  }
});

test("evaluateMarker() reports an undefined comparison with the marker text", () => {
  const env = markerEnvironmentFor({ pythonFullVersion: "3.12.7", arch: "amd64" });
  assert.throws(() => evaluateMarker('os_name ~= "posix"', env), (e: unknown) => {
    assert.ok(e instanceof PycontainerError);
    assert.match(e.message, /cannot evaluate marker "os_name ~= \\"posix\\""/);
    return true;
  });
});

test("markerEnvironmentFor() describes a CPython on Linux for the OCI architecture", () => {
  const env = markerEnvironmentFor({ pythonFullVersion: "3.13", arch: "arm64", libc: "glibc" });
  assert.deepEqual(env, {
    implementation_name: "cpython",
    implementation_version: "3.13.0",
    os_name: "posix",
    platform_machine: "aarch64",
    platform_release: "",
    platform_system: "Linux",
    platform_version: "",
    python_full_version: "3.13.0",
    platform_python_implementation: "CPython",
    python_version: "3.13",
    sys_platform: "linux",
  });
  assert.ok(evaluateMarker('platform_machine == "aarch64" and python_full_version >= "3.13"', env));
  assert.throws(
    () => markerEnvironmentFor({ pythonFullVersion: "three", arch: "amd64" }),
    PycontainerError,
  );
});

test("platformMachineFor() maps OCI architectures to platform.machine()", () => {
  const cases: [string, string | undefined, string][] = [
    ["amd64", undefined, "x86_64"],
    ["arm64", "v8", "aarch64"],
    ["arm", "v7", "armv7l"],
    ["arm", "v6", "armv6l"],
    ["386", undefined, "i686"],
    ["ppc64le", undefined, "ppc64le"],
    ["s390x", undefined, "s390x"],
    ["riscv64", undefined, "riscv64"],
  ];
  for (const [arch, variant, machine] of cases) {
    assert.equal(platformMachineFor(arch, variant), machine);
  }
  assert.throws(() => platformMachineFor("sparc"), /unsupported architecture "sparc"/);
});
