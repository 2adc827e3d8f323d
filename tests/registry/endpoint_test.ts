import { test } from "node:test";
import assert from "node:assert/strict";
import { PycontainerError } from "../../src/errors.ts";
import {
  describeEndpoint,
  isLoopbackHost,
  parseMirror,
  resolveEndpoint,
} from "../../src/registry/endpoint.ts";

test("isLoopbackHost() knows localhost, 127.0.0.0/8 and ::1", () => {
  for (
    const h of [
      "localhost",
      "localhost:5000",
      "127.0.0.1",
      "127.1.2.3:80",
      "[::1]:5000",
      "::1",
      "a.localhost:1",
    ]
  ) {
    assert.ok(isLoopbackHost(h), h);
  }
  for (
    const h of ["ghcr.io", "128.0.0.1", "10.0.0.1:5000", "localhost.example.com", "[::2]:5000"]
  ) {
    assert.ok(!isLoopbackHost(h), h);
  }
});

test("resolveEndpoint() uses HTTPS except for loopback and insecure hosts", () => {
  assert.equal(resolveEndpoint("ghcr.io", {}, "pull").baseUrl, "https://ghcr.io");
  assert.equal(resolveEndpoint("localhost:5000", {}, "pull").baseUrl, "http://localhost:5000");
  assert.equal(resolveEndpoint("[::1]:5000", {}, "push").baseUrl, "http://[::1]:5000");
  assert.equal(
    resolveEndpoint("reg.lan:5000", { insecure: ["reg.lan:5000"] }, "pull").baseUrl,
    "http://reg.lan:5000",
  );
  assert.equal(
    resolveEndpoint("reg.lan:5000", { insecure: ["other:5000"] }, "pull").scheme,
    "https",
  );
  assert.equal(resolveEndpoint("docker.io", {}, "pull").baseUrl, "https://registry-1.docker.io");
});

test("resolveEndpoint() sends Docker Hub pulls, and only those, to the mirror", () => {
  const pull = resolveEndpoint("docker.io", { mirror: "mirror.gcr.io" }, "pull");
  assert.deepEqual(pull, {
    registry: "docker.io",
    host: "mirror.gcr.io",
    scheme: "https",
    baseUrl: "https://mirror.gcr.io",
    mirrorOf: "docker.io",
  });
  assert.equal(describeEndpoint(pull), "mirror.gcr.io (mirror of docker.io)");
  assert.equal(
    resolveEndpoint("docker.io", { mirror: "mirror.gcr.io" }, "push").host,
    "registry-1.docker.io",
  );
  assert.equal(resolveEndpoint("ghcr.io", { mirror: "mirror.gcr.io" }, "pull").host, "ghcr.io");
  assert.equal(
    resolveEndpoint("docker.io", { mirror: "http://m.lan:5000/" }, "pull").baseUrl,
    "http://m.lan:5000",
  );
  assert.equal(
    resolveEndpoint("docker.io", { mirror: "127.0.0.1:5000" }, "pull").baseUrl,
    "http://127.0.0.1:5000",
  );
});

test("parseMirror() rejects values that are not hosts", () => {
  for (const bad of ["", "ftp://x", "a b", "host/path/deeper"]) {
    assert.throws(() => parseMirror(bad), (e: unknown) => {
      assert.ok(e instanceof PycontainerError);
      assert.equal(e.exitCode, 2);
      assert.equal(e.message, `invalid registry mirror "${bad}"`);
      return true;
    });
  }
});
