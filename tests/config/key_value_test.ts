import { test } from "node:test";
import assert from "node:assert/strict";
import { parseKeyValue } from "../../src/config/key_value.ts";
import { closestMatch, editDistance } from "../../src/config/did_you_mean.ts";
import { PycontainerError } from "../../src/errors.ts";

test("parseKeyValue() splits at the first =", () => {
  assert.deepEqual(parseKeyValue("--env", "A=1"), ["A", "1"]);
  assert.deepEqual(parseKeyValue("--env", "OPTS=a=b"), ["OPTS", "a=b"]);
  assert.deepEqual(parseKeyValue("--env", "EMPTY="), ["EMPTY", ""]);
  assert.deepEqual(parseKeyValue("--label", "org.opencontainers.image.title=My App"), [
    "org.opencontainers.image.title",
    "My App",
  ]);
});

test("parseKeyValue() fails with exit code 2 naming the flag when = is missing", () => {
  assert.throws(() => parseKeyValue("--label", "tier"), (err: unknown) => {
    assert.ok(err instanceof PycontainerError);
    assert.equal(err.exitCode, 2);
    assert.equal(err.message, '--label "tier" is missing "=" (expected KEY=VALUE)');
    assert.equal(err.hint, "write --label tier=VALUE");
    return true;
  });
  assert.throws(() => parseKeyValue("--env", "=x"), (err: unknown) => {
    assert.ok(err instanceof PycontainerError);
    assert.equal(err.message, "--env value has an empty key (expected KEY=VALUE)");
    return true;
  });
});

test("parseKeyValue() does not echo a value that is not a plain name", () => {
  assert.throws(() => parseKeyValue("--env", "TOKEN:abc123secret"), (err: unknown) => {
    assert.ok(err instanceof PycontainerError);
    assert.equal(err.message.includes("abc123secret"), false);
    assert.equal((err.hint ?? "").includes("abc123secret"), false);
    return true;
  });
});

test("editDistance() counts a transposition as one edit", () => {
  assert.equal(editDistance("bsae-image", "base-image"), 1);
  assert.equal(editDistance("", "abc"), 3);
  assert.equal(editDistance("workdir", "workdir"), 0);
  assert.equal(editDistance("kitten", "sitting"), 3);
});

test("closestMatch() suggests only near misses", () => {
  const keys = ["tags", "base-image", "workdir", "entrypoint", "cmd"];
  assert.equal(closestMatch("entry-point", keys), "entrypoint");
  assert.equal(closestMatch("WorkDir", keys), "workdir");
  assert.equal(closestMatch("image", keys), undefined);
  assert.equal(closestMatch("tgs", keys), "tags");
});
