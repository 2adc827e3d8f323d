import { test } from "node:test";
import assert from "node:assert/strict";
import { PycontainerError } from "../../src/errors.ts";
import {
  formatPlatform,
  normalizePlatform,
  parsePlatform,
  platformMatches,
} from "../../src/oci/platform.ts";

const parsed: [string, string][] = [
  ["linux/amd64", "linux/amd64"],
  ["linux/x86_64", "linux/amd64"],
  ["LINUX/AMD64", "linux/amd64"],
  ["linux/arm64", "linux/arm64"],
  ["linux/arm64/v8", "linux/arm64"],
  ["linux/aarch64", "linux/arm64"],
  ["linux/arm", "linux/arm/v7"],
  ["linux/arm/v7", "linux/arm/v7"],
  ["linux/arm/v6", "linux/arm/v6"],
  ["linux/armhf", "linux/arm/v7"],
  ["linux/armel", "linux/arm/v6"],
  ["linux/arm/7", "linux/arm/v7"],
  ["linux/386", "linux/386"],
  ["linux/ppc64le", "linux/ppc64le"],
  ["linux/s390x", "linux/s390x"],
  ["linux/riscv64", "linux/riscv64"],
  ["linux/amd64/v3", "linux/amd64/v3"],
  ["windows/amd64", "windows/amd64"],
];

for (const [input, expected] of parsed) {
  test(`parsePlatform() reads ${input} as ${expected}`, () => {
    assert.equal(formatPlatform(parsePlatform(input)), expected);
  });
}

const invalid: [string, RegExp][] = [
  ["linux", /expected os\/arch/],
  ["", /expected os\/arch/],
  ["linux/", /expected os\/arch/],
  ["linux/amd64/v1/x", /expected os\/arch/],
  ["lnux/amd64", /unknown operating system "lnux"/],
  ["linux/amd46", /unknown architecture "amd46"/],
  ["linux/arm/v7!", /invalid variant/],
];

for (const [input, why] of invalid) {
  test(`parsePlatform() rejects ${JSON.stringify(input)}`, () => {
    assert.throws(() => parsePlatform(input), (e: unknown) => {
      assert.ok(e instanceof PycontainerError);
      assert.equal(e.exitCode, 2);
      assert.ok(e.message.startsWith(`invalid platform "${input}": `), e.message);
      assert.match(e.message, why);
      assert.match(e.hint ?? "", /linux\/amd64/);
      return true;
    });
  });
}

test("normalizePlatform() applies containerd's defaults", () => {
  assert.deepEqual(normalizePlatform({ os: "linux", architecture: "arm64", variant: "v8" }), {
    os: "linux",
    architecture: "arm64",
  });
  assert.deepEqual(normalizePlatform({ os: "linux", architecture: "arm" }), {
    os: "linux",
    architecture: "arm",
    variant: "v7",
  });
  assert.deepEqual(normalizePlatform({ os: "Linux", architecture: "x86_64", variant: "" }), {
    os: "linux",
    architecture: "amd64",
  });
});

test("platformMatches() compares after normalisation, variant included", () => {
  const p = (s: string) => parsePlatform(s);
  assert.ok(
    platformMatches(p("linux/arm64"), { os: "linux", architecture: "arm64", variant: "v8" }),
  );
  assert.ok(platformMatches(p("linux/arm64/v8"), { os: "linux", architecture: "arm64" }));
  assert.ok(platformMatches(p("linux/arm"), { os: "linux", architecture: "arm", variant: "v7" }));
  assert.ok(
    !platformMatches(p("linux/arm/v6"), { os: "linux", architecture: "arm", variant: "v7" }),
  );
  assert.ok(!platformMatches(p("linux/arm/v7"), { os: "linux", architecture: "arm64" }));
  assert.ok(!platformMatches(p("linux/amd64"), { os: "windows", architecture: "amd64" }));
  assert.ok(
    !platformMatches(p("linux/amd64"), { os: "linux", architecture: "amd64", variant: "v3" }),
  );
});

test("formatPlatform() omits an absent variant", () => {
  assert.equal(formatPlatform({ os: "linux", architecture: "arm", variant: "v7" }), "linux/arm/v7");
  assert.equal(formatPlatform({ os: "linux", architecture: "amd64" }), "linux/amd64");
});
