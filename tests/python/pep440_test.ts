import { test } from "node:test";
import assert from "node:assert/strict";
import {
  compareVersions,
  filterVersions,
  formatSpecifierSet,
  formatVersion,
  parseSpecifierSet,
  parseVersion,
  specifierContains,
  tryParseVersion,
} from "../../src/python/pep440.ts";
import { PycontainerError } from "../../src/errors.ts";

test("parseVersion() normalises the spellings PEP 440 allows", () => {
  const cases: [string, string][] = [
    ["v1.0", "1.0"],
    ["1.0-ALPHA.1", "1.0a1"],
    ["1.0c1", "1.0rc1"],
    ["1.0-preview2", "1.0rc2"],
    ["1.0-1", "1.0.post1"],
    ["1.0rev", "1.0.post0"],
    ["1.0-dev", "1.0.dev0"],
    ["1!2.0_b_3.r4.DEV5+Ubuntu-1.02", "1!2.0b3.post4.dev5+ubuntu.1.2"],
    [" 2.0 ", "2.0"],
  ];
  for (const [input, expected] of cases) assert.equal(formatVersion(parseVersion(input)), expected);
});

test("parseVersion() throws a usage error naming the bad version", () => {
  assert.throws(() => parseVersion("1.0-final"), (e: unknown) => {
    assert.ok(e instanceof PycontainerError);
    assert.match(e.message, /"1\.0-final"/);
    assert.equal(e.exitCode, 2);
    return true;
  });
  assert.equal(tryParseVersion("1..0"), undefined);
});

test("compareVersions() orders dev, pre, final, post and local releases", () => {
  const ordered = [
    "1.0.dev0",
    "1.0a1.dev1",
    "1.0a1",
    "1.0b1",
    "1.0rc1",
    "1.0",
    "1.0+abc",
    "1.0+abc.1",
    "1.0+1",
    "1.0.post1.dev1",
    "1.0.post1",
    "1.1",
    "1!0.1",
  ];
  const shuffled = [...ordered].reverse();
  assert.deepEqual(shuffled.sort(compareVersions), ordered);
  assert.equal(compareVersions("1.0", "1.0.0"), 0);
});

test("specifierContains() applies the exclusive-comparison rules", () => {
  const yes = (s: string, v: string) =>
    assert.ok(specifierContains(parseSpecifierSet(s), v, { prereleases: true }), `${s} ∋ ${v}`);
  const no = (s: string, v: string) =>
    assert.ok(!specifierContains(parseSpecifierSet(s), v, { prereleases: true }), `${s} ∌ ${v}`);
  no("<1.0", "1.0a1");
  yes("<1.0rc1", "1.0a1");
  no(">1.0", "1.0.post1");
  no(">1.0", "1.0+local");
  yes(">1.0.post1", "1.0.post2");
  yes("==1.0", "1.0+local");
  no("==1.0+a", "1.0");
  yes("==1.0.*", "1.0.5rc1");
  no("!=1.0.*", "1.0.5");
  yes("~=1.4.5", "1.4.9");
  no("~=1.4.5", "1.5");
  yes("~=1.4", "1.9");
  yes("===1.0", "1.0");
  no("===1.0", "1.0.0");
});

test("specifierContains() rejects pre-releases unless asked or named", () => {
  assert.ok(!specifierContains(parseSpecifierSet(">=1.0"), "2.0b1"));
  assert.ok(specifierContains(parseSpecifierSet(">=1.0b1"), "2.0b1"));
  assert.ok(!specifierContains(parseSpecifierSet(">=1.0b1"), "2.0b1", { prereleases: false }));
});

test("filterVersions() keeps pre-releases only when no final matches", () => {
  const set = parseSpecifierSet(">=1.0");
  assert.deepEqual(filterVersions(set, ["0.9", "1.1", "2.0a1"]), ["1.1"]);
  assert.deepEqual(filterVersions(set, ["0.9", "2.0a1"]), ["2.0a1"]);
});

test("parseSpecifierSet() rejects malformed clauses with the clause in the message", () => {
  for (const bad of ["~=1", ">=1.0.*", "<1.0+local", "=>1.0", ">= 1.0 beta"]) {
    assert.throws(() => parseSpecifierSet(`>=0.1, ${bad}`), (e: unknown) => {
      assert.ok(e instanceof PycontainerError);
      assert.ok(e.message.includes(JSON.stringify(bad)), e.message);
      return true;
    });
  }
  assert.equal(formatSpecifierSet(parseSpecifierSet(" >= 1.0 , == 2.* ")), ">=1.0,==2.*");
});
