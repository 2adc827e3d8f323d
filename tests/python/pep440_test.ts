import { test } from "node:test";
import assert from "node:assert/strict";
import {
  baseVersion,
  compareVersions,
  filterVersions,
  formatSpecifierSet,
  formatVersion,
  impliesPrereleases,
  isPostrelease,
  isPrerelease,
  parseSpecifierSet,
  parseVersion,
  publicVersion,
  specifierContains,
  tryParseVersion,
} from "../../src/python/pep440.ts";
import { PycontainerError } from "../../src/errors.ts";
import { packagingFixture } from "./_packaging_fixtures.ts";

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

// ---- conformance with packaging (tests/fixtures/packaging/*.json) ----

interface VersionFixture {
  valid: {
    input: string;
    normalized: string;
    public: string;
    base: string;
    epoch: number;
    release: number[];
    is_prerelease: boolean;
    is_postrelease: boolean;
  }[];
  invalid: string[];
  ordered_groups: string[][];
}

test("parseVersion() agrees with packaging on validity and normal form", () => {
  const fx = packagingFixture<VersionFixture>("versions.json");
  assert.ok(fx.valid.length > 50);
  for (const c of fx.valid) {
    const v = parseVersion(c.input);
    assert.equal(formatVersion(v), c.normalized, c.input);
    assert.equal(formatVersion(publicVersion(v)), c.public, c.input);
    assert.equal(formatVersion(baseVersion(v)), c.base, c.input);
    assert.equal(v.epoch, c.epoch);
    assert.deepEqual([...v.release], c.release);
    assert.equal(isPrerelease(v), c.is_prerelease, c.input);
    assert.equal(isPostrelease(v), c.is_postrelease, c.input);
  }
  for (const bad of fx.invalid) assert.equal(tryParseVersion(bad), undefined, JSON.stringify(bad));
});

test("compareVersions() orders versions exactly as packaging does", () => {
  const fx = packagingFixture<VersionFixture>("versions.json");
  const groups = fx.ordered_groups;
  for (let i = 0; i < groups.length; i++) {
    for (let j = 0; j < groups.length; j++) {
      for (const a of groups[i] ?? []) {
        for (const b of groups[j] ?? []) {
          assert.equal(Math.sign(compareVersions(a, b)), Math.sign(i - j), `${a} vs ${b}`);
        }
      }
    }
  }
});

interface SpecifierFixture {
  versions: string[];
  cases: {
    spec: string;
    prereleases: boolean | null;
    contains_pre_true: string[];
    contains_pre_false: string[];
    filter_default: string[];
    filter_finals_excluded: string[];
  }[];
  invalid: string[];
}

test("specifierContains() matches packaging for every specifier and version", () => {
  const fx = packagingFixture<SpecifierFixture>("specifiers.json");
  for (const c of fx.cases) {
    const set = parseSpecifierSet(c.spec);
    const yes = fx.versions.filter((v) => specifierContains(set, v, { prereleases: true }));
    assert.deepEqual(yes, c.contains_pre_true, `${c.spec} prereleases=true`);
    const no = fx.versions.filter((v) => specifierContains(set, v, { prereleases: false }));
    assert.deepEqual(no, c.contains_pre_false, `${c.spec} prereleases=false`);
    assert.equal(impliesPrereleases(set), c.prereleases === true, `${c.spec} implies prereleases`);
  }
});

test("filterVersions() matches packaging's SpecifierSet.filter()", () => {
  const fx = packagingFixture<SpecifierFixture>("specifiers.json");
  const laterOnly = fx.versions.filter((v) =>
    !isPrerelease(parseVersion(v)) || compareVersions(v, "1.1a1") >= 0
  );
  for (const c of fx.cases) {
    const set = parseSpecifierSet(c.spec);
    assert.deepEqual(filterVersions(set, fx.versions), c.filter_default, c.spec);
    assert.deepEqual(filterVersions(set, laterOnly), c.filter_finals_excluded, c.spec);
  }
});

test("parseSpecifierSet() rejects what packaging rejects", () => {
  const fx = packagingFixture<SpecifierFixture>("specifiers.json");
  for (const bad of fx.invalid) {
    assert.throws(() => parseSpecifierSet(bad), PycontainerError, JSON.stringify(bad));
  }
});

interface CombinatorialFixture {
  versions: string[];
  ordered_groups: string[][];
  specs: { spec: string; pre_true: string; pre_false: string }[];
}

test("compareVersions() and specifierContains() match packaging on a combinatorial corpus", () => {
  const fx = packagingFixture<CombinatorialFixture>("combinatorial.json");
  const rank = new Map<string, number>();
  fx.ordered_groups.forEach((g, i) => g.forEach((v) => rank.set(v, i)));
  const sorted = [...fx.versions].sort(compareVersions);
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1] as string;
    const b = sorted[i] as string;
    assert.ok((rank.get(a) ?? -1) <= (rank.get(b) ?? -1), `${a} sorts before ${b}`);
    assert.equal(compareVersions(a, b) === 0, rank.get(a) === rank.get(b), `${a} == ${b}`);
  }
  const parsed = fx.versions.map((v) => parseVersion(v));
  for (const row of fx.specs) {
    const set = parseSpecifierSet(row.spec);
    const bits = (prereleases: boolean) =>
      fx.versions.map((v, i) =>
        specifierContains(set, row.spec.startsWith("===") ? v : parsed[i] ?? v, { prereleases })
          ? "1"
          : "0"
      ).join("");
    assert.equal(bits(true), row.pre_true, `${row.spec} prereleases=true`);
    assert.equal(bits(false), row.pre_false, `${row.spec} prereleases=false`);
  }
});
