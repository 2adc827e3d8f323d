import { test } from "node:test";
import assert from "node:assert/strict";
import { parseChallenges } from "../../src/registry/challenge.ts";
import { formatScopes } from "../../src/registry/auth.ts";

test("parseChallenges() reads Docker Hub's Bearer challenge", () => {
  const header =
    'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/python:pull"';
  assert.deepEqual(parseChallenges(header), [{
    scheme: "bearer",
    params: {
      realm: "https://auth.docker.io/token",
      service: "registry.docker.io",
      scope: "repository:library/python:pull",
    },
  }]);
});

test("parseChallenges() reads a Basic challenge and lower-cases scheme and names", () => {
  assert.deepEqual(parseChallenges('BASIC Realm="pycontainer-test"'), [
    { scheme: "basic", params: { realm: "pycontainer-test" } },
  ]);
});

test("parseChallenges() splits several challenges in one header", () => {
  const got = parseChallenges(
    'Basic realm="x", Bearer realm="https://r.example/token", service="r.example", error="insufficient_scope"',
  );
  assert.deepEqual(got.map((c) => c.scheme), ["basic", "bearer"]);
  assert.deepEqual(got[1]!.params, {
    realm: "https://r.example/token",
    service: "r.example",
    error: "insufficient_scope",
  });
});

test("parseChallenges() handles escapes, commas inside quotes and unquoted values", () => {
  const got = parseChallenges(
    'Bearer realm="https://a/t?x=1,y=2",scope="repository:a/b:pull,push",note="say \\"hi\\"", service=tok',
  );
  assert.deepEqual(got[0]!.params, {
    realm: "https://a/t?x=1,y=2",
    scope: "repository:a/b:pull,push",
    note: 'say "hi"',
    service: "tok",
  });
  assert.deepEqual(
    parseChallenges("Bearer realm=https://auth.example/token,service=reg")[0]!.params,
    {
      realm: "https://auth.example/token",
      service: "reg",
    },
  );
});

test("parseChallenges() reads token68 challenges and ignores empty input", () => {
  assert.deepEqual(parseChallenges("Negotiate abc123=="), [{
    scheme: "negotiate",
    params: {},
    token68: "abc123==",
  }]);
  assert.deepEqual(parseChallenges(""), []);
  assert.deepEqual(parseChallenges(null), []);
  assert.deepEqual(parseChallenges("Bearer"), [{ scheme: "bearer", params: {} }]);
});

test("formatScopes() merges actions per repository and sorts", () => {
  assert.deepEqual(
    formatScopes([
      { repository: "b/x", actions: ["pull"] },
      { repository: "a/y", actions: ["push", "pull"] },
      { repository: "b/x", actions: ["pull", "push"] },
    ]),
    ["repository:a/y:pull,push", "repository:b/x:pull,push"],
  );
  assert.deepEqual(formatScopes([]), []);
});
