import { test } from "node:test";
import assert from "node:assert/strict";
import { PycontainerError } from "../../src/errors.ts";
import {
  formatReference,
  manifestReference,
  parseReference,
  registryApiHost,
} from "../../src/oci/reference.ts";

const DIGEST = "sha256:" + "0123456789abcdef".repeat(4);

const normalised: [string, string, string, string | undefined, string | undefined][] = [
  // input, registry, repository, tag, digest
  ["python", "docker.io", "library/python", "latest", undefined],
  ["python:3.11-slim", "docker.io", "library/python", "3.11-slim", undefined],
  ["library/python:3.12", "docker.io", "library/python", "3.12", undefined],
  ["docker.io/python:3.12", "docker.io", "library/python", "3.12", undefined],
  ["index.docker.io/python", "docker.io", "library/python", "latest", undefined],
  ["docker.io/library/python:3.12", "docker.io", "library/python", "3.12", undefined],
  ["bitnami/python:3.11", "docker.io", "bitnami/python", "3.11", undefined],
  ["ghcr.io/acme/api:1.4.2", "ghcr.io", "acme/api", "1.4.2", undefined],
  ["localhost/x", "localhost", "x", "latest", undefined],
  ["localhost:5000/x", "localhost:5000", "x", "latest", undefined],
  ["localhost:5000/x:dev", "localhost:5000", "x", "dev", undefined],
  ["127.0.0.1:5000/a/b/c:t", "127.0.0.1:5000", "a/b/c", "t", undefined],
  ["[::1]:5000/x:1", "[::1]:5000", "x", "1", undefined],
  [`host.example/a/b:tag@${DIGEST}`, "host.example", "a/b", "tag", DIGEST],
  [`python@${DIGEST}`, "docker.io", "library/python", undefined, DIGEST],
  ["Registry/x", "Registry", "x", "latest", undefined],
  ["a.b-c/d__e/f.g-h--i:T_1.x-y", "a.b-c", "d__e/f.g-h--i", "T_1.x-y", undefined],
  ["localhost:5000", "docker.io", "library/localhost", "5000", undefined],
];

for (const [input, registry, repository, tag, digest] of normalised) {
  test(`parseReference() normalises ${input}`, () => {
    const ref = parseReference(input);
    assert.equal(ref.registry, registry);
    assert.equal(ref.repository, repository);
    assert.equal(ref.tag, tag);
    assert.equal(ref.digest, digest);
  });
}

const invalid: [string, RegExp][] = [
  ["", /it is empty/],
  ["Python:3.11", /must be lowercase/],
  ["docker.io/Library/python", /must be lowercase/],
  ["python:", /tag after ":" is empty/],
  ["python:-bad", /invalid tag "-bad"/],
  [`python:${"a".repeat(129)}`, /invalid tag/],
  ["python@sha256:abc", /64 lowercase hex/],
  [`python@md5:${"a".repeat(32)}`, /unsupported digest algorithm "md5"/],
  ["python@notadigest", /malformed digest/],
  ["ghcr.io/acme//api", /empty component/],
  ["ghcr.io/acme/api_/x", /invalid repository path component "api_"/],
  ["-host.example/x", /invalid registry host "-host.example"/],
  ["ghcr.io/", /repository path has an empty component/],
  ["my app:1", /whitespace/],
  [`ghcr.io/${"a".repeat(250)}`, /longer than 255/],
];

for (const [input, why] of invalid) {
  test(`parseReference() rejects ${JSON.stringify(input.slice(0, 40))}`, () => {
    assert.throws(() => parseReference(input), (e: unknown) => {
      assert.ok(e instanceof PycontainerError);
      assert.equal(e.exitCode, 2);
      assert.ok(e.message.startsWith(`invalid image reference "${input}": `), e.message);
      assert.match(e.message, why);
      assert.match(e.hint ?? "", /python:3\.11-slim/);
      return true;
    });
  });
}

test("parseReference() leaves the tag unset with defaultTag: false", () => {
  assert.equal(parseReference("ghcr.io/a/b", { defaultTag: false }).tag, undefined);
  assert.equal(parseReference("ghcr.io/a/b").tag, "latest");
});

test("formatReference() round-trips full and familiar forms", () => {
  assert.equal(
    formatReference(parseReference("python:3.11-slim")),
    "docker.io/library/python:3.11-slim",
  );
  assert.equal(
    formatReference(parseReference("python:3.11-slim"), { familiar: true }),
    "python:3.11-slim",
  );
  assert.equal(
    formatReference(parseReference("bitnami/python"), { familiar: true }),
    "bitnami/python:latest",
  );
  assert.equal(
    formatReference(parseReference(`ghcr.io/a/b:t@${DIGEST}`)),
    `ghcr.io/a/b:t@${DIGEST}`,
  );
  assert.equal(
    formatReference(parseReference("localhost:5000/x"), { familiar: true }),
    "localhost:5000/x:latest",
  );
  for (const [input] of normalised) {
    const once = formatReference(parseReference(input));
    assert.equal(formatReference(parseReference(once)), once);
  }
});

test("manifestReference() prefers the digest over the tag", () => {
  assert.equal(manifestReference(parseReference(`python:3.11@${DIGEST}`)), DIGEST);
  assert.equal(manifestReference(parseReference("python:3.11")), "3.11");
});

test("registryApiHost() maps Docker Hub to registry-1.docker.io", () => {
  assert.equal(registryApiHost("docker.io"), "registry-1.docker.io");
  assert.equal(registryApiHost("ghcr.io"), "ghcr.io");
});
