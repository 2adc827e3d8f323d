import { test } from "node:test";
import assert from "node:assert/strict";
import {
  formatRequirement,
  parseRequirement,
  requirementApplies,
} from "../../src/python/requirement.ts";
import { formatMarker, markerEnvironmentFor } from "../../src/python/markers.ts";
import { PycontainerError } from "../../src/errors.ts";
import { packagingFixture } from "./_packaging_fixtures.ts";

interface RequirementFixture {
  cases: (
    | {
      input: string;
      name: string;
      extras: string[];
      specifier: string[];
      url: string | null;
      marker: string | null;
    }
    | { input: string; error: string }
  )[];
}

test("parseRequirement() agrees with packaging.requirements.Requirement", () => {
  const fx = packagingFixture<RequirementFixture>("requirements.json");
  for (const c of fx.cases) {
    if ("error" in c) {
      assert.throws(() => parseRequirement(c.input), (e: unknown) => {
        assert.ok(e instanceof PycontainerError, c.input);
        assert.ok(e.message.includes(JSON.stringify(c.input)), e.message);
        return true;
      });
      continue;
    }
    const r = parseRequirement(c.input);
    assert.equal(r.name, c.name, c.input);
    assert.deepEqual([...r.extras].sort(), c.extras, c.input);
    const specs = r.specifier.specifiers.map((s) =>
      `${s.operator}${s.version}${s.wildcard ? ".*" : ""}`
    );
    assert.deepEqual(specs.sort(), c.specifier, c.input);
    assert.equal(r.url ?? null, c.url, c.input);
    assert.equal(r.marker === undefined ? null : formatMarker(r.marker), c.marker, c.input);
  }
});

test("parseRequirement() names where the requirement came from", () => {
  assert.throws(
    () => parseRequirement("fastapi>=", "pyproject.toml [project.dependencies]"),
    (e: unknown) => {
      assert.ok(e instanceof PycontainerError);
      assert.match(
        e.message,
        /^pyproject\.toml \[project\.dependencies\]: invalid requirement "fastapi>="/,
      );
      assert.equal(e.exitCode, 2);
      return true;
    },
  );
});

test("parseRequirement() normalises the name and keeps the direct URL", () => {
  const r = parseRequirement(
    'My_Pkg[Extra] @ https://example.com/my_pkg-1.0-py3-none-any.whl ; os_name == "posix"',
  );
  assert.equal(r.normalizedName, "my-pkg");
  assert.deepEqual(r.extras, ["Extra"]);
  assert.equal(r.specifier.specifiers.length, 0);
  assert.equal(
    formatRequirement(r),
    'My_Pkg[Extra] @ https://example.com/my_pkg-1.0-py3-none-any.whl ; os_name == "posix"',
  );
  assert.equal(
    formatRequirement(parseRequirement("a [x,y] ( >=1 , <2 ) ; extra=='t'")),
    'a[x,y]>=1,<2; extra == "t"',
  );
});

test("requirementApplies() evaluates Requires-Dist markers per requested extra", () => {
  const env = markerEnvironmentFor({ pythonFullVersion: "3.12.7", arch: "arm64" });
  const socks = parseRequirement('PySocks>=1.5.6; extra == "socks" and python_version >= "3.8"');
  assert.equal(requirementApplies(socks, env), false);
  assert.equal(requirementApplies(socks, env, ["use-chardet"]), false);
  assert.equal(requirementApplies(socks, env, ["use-chardet", "SOCKS"]), true);
  const uvloop = parseRequirement(
    'uvloop>=0.14.0,!=0.15.0,!=0.15.1; sys_platform != "win32" and (sys_platform != "cygwin" and platform_python_implementation != "PyPy") and extra == "standard"',
  );
  assert.equal(requirementApplies(uvloop, env, ["standard"]), true);
  assert.equal(requirementApplies(parseRequirement("idna"), env, ["x"]), true);
  const x86 = parseRequirement('pkg; platform_machine == "x86_64"');
  assert.equal(requirementApplies(x86, env), false);
});
