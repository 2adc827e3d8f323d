import { test } from "node:test";
import assert from "node:assert/strict";
import {
  buildIgnoreRules,
  decideIgnore,
  DEFAULT_IGNORE_PATTERNS,
  type IgnoreRules,
  mustDescend,
  parseIgnoreFile,
} from "../../src/project/ignore_rules.ts";
import { PycontainerError } from "../../src/errors.ts";

function rules(text: string, defaults = false): IgnoreRules {
  const user = parseIgnoreFile(text, ".dockerignore");
  return defaults
    ? buildIgnoreRules(user)
    : { rules: user, hasExceptions: user.some((r) => r.exclusion) };
}

/** Walks a path the way the app-file walker does, passing parent results down. */
function walkExcluded(r: IgnoreRules, path: string): boolean {
  const segs = path.split("/");
  let parent: readonly boolean[] = [];
  let decision = decideIgnore(r, segs[0]!, parent);
  for (let i = 1; i < segs.length; i++) {
    parent = decision.matches;
    decision = decideIgnore(r, segs.slice(0, i + 1).join("/"), parent);
  }
  return decision.excluded;
}

test("parseIgnoreFile() skips comments and blanks, trims, strips BOM and leading slash", () => {
  const parsed = parseIgnoreFile(
    "\uFEFF# comment\n\n  /build/  \r\n # not a comment\n!/keep\n",
    ".dockerignore",
  );
  assert.deepEqual(parsed.map((r) => [r.text, r.exclusion, r.source]), [
    ["build", false, ".dockerignore:3"],
    ["# not a comment", false, ".dockerignore:4"],
    ["keep", true, ".dockerignore:5"],
  ]);
});

test("parseIgnoreFile() reports the file and line of an invalid pattern with exit code 2", () => {
  assert.throws(() => parseIgnoreFile("ok\n[broken\n", ".containerignore"), (err) => {
    assert.ok(err instanceof PycontainerError);
    assert.equal(err.exitCode, 2);
    assert.match(err.message, /^Invalid pattern in \.containerignore:2: \[broken/);
    return true;
  });
  assert.throws(() => parseIgnoreFile("!\n", ".dockerignore"), /\.dockerignore:1/);
});

test("decideIgnore() lets the last matching pattern win", () => {
  const r = rules("*.md\n!README.md\n");
  assert.ok(decideIgnore(r, "CHANGES.md").excluded);
  assert.ok(!decideIgnore(r, "README.md").excluded);
  const r2 = rules("!README.md\n*.md\n");
  assert.ok(decideIgnore(r2, "README.md").excluded);
});

test("decideIgnore() excludes everything under an excluded directory", () => {
  const r = rules("docs\n");
  assert.ok(walkExcluded(r, "docs/a/b.txt"));
  assert.ok(
    decideIgnore(r, "docs/a/b.txt").excluded,
    "without parent results the parents are tried",
  );
  assert.ok(!walkExcluded(r, "src/docs.txt"));
});

test("decideIgnore() re-includes a file under an excluded directory with an exception", () => {
  const r = rules("docs/\n!docs/README.md\n");
  assert.ok(!walkExcluded(r, "docs/README.md"));
  assert.ok(walkExcluded(r, "docs/other.md"));
  const r2 = rules("**\n!util/docker/web\n");
  assert.ok(
    !walkExcluded(r2, "util/docker/web/foo"),
    "an exception of a dir covers what is under it",
  );
  assert.ok(!decideIgnore(r2, "util/docker/web/foo").excluded);
  assert.ok(walkExcluded(r2, "util/docker/other"));
  const r3 = rules("**\n!util/docker/web\nutil/docker/web/foo\n");
  assert.ok(walkExcluded(r3, "util/docker/web/foo"));
});

test("decideIgnore() reports the deciding rule and its source", () => {
  const r = rules("secrets\n*.key\n", true);
  const d = decideIgnore(r, "secrets/prod.key");
  assert.ok(d.excluded);
  assert.equal(d.rule?.text, "secrets");
  assert.equal(d.rule?.source, ".dockerignore:1");
  const k = decideIgnore(r, "prod.key");
  assert.equal(k.rule?.text, "*.key");
  assert.equal(k.rule?.source, ".dockerignore:2");
  const pyc = decideIgnore(r, "pkg/__pycache__/mod.cpython-312.pyc");
  assert.equal(pyc.rule?.source, "default");
});

test("buildIgnoreRules() puts defaults first so a user exception can re-include one", () => {
  const r = rules("!.env.example\n", true);
  assert.ok(decideIgnore(r, ".env").excluded);
  assert.ok(decideIgnore(r, ".env.production").excluded);
  assert.ok(!decideIgnore(r, ".env.example").excluded);
  assert.equal(r.rules.length, DEFAULT_IGNORE_PATTERNS.length + 1);
});

test("buildIgnoreRules() defaults cover VCS, venvs, caches, secrets and build output", () => {
  const r = buildIgnoreRules();
  for (
    const p of [
      ".git",
      "sub/.git",
      ".venv",
      "venv",
      "pkg/__pycache__",
      "pkg/mod.pyc",
      "mod.pyo",
      ".pytest_cache",
      ".mypy_cache",
      ".ruff_cache",
      ".tox",
      "web/node_modules",
      ".env",
      "conf/.env.local",
      ".DS_Store",
      "src/pkg.egg-info",
      ".idea",
      ".vscode",
      "dist",
      "build",
    ]
  ) {
    assert.ok(decideIgnore(r, p).excluded, `${p} should be excluded by default`);
  }
  for (
    const p of ["app.py", "src/pkg/venv.py", "pkg/build/x.py", "README.md", "env.py", ".envrc"]
  ) {
    assert.ok(!walkExcluded(r, p), `${p} should be kept`);
  }
});

test("mustDescend() follows Docker's prefix rule for exceptions", () => {
  const r = rules("docs\n!docs/keep/*.md\n");
  assert.ok(mustDescend(r, "docs"));
  assert.ok(mustDescend(r, "docs/keep"));
  assert.ok(!mustDescend(r, "doc"));
  assert.ok(!mustDescend(r, "other"));
  assert.ok(!mustDescend(rules("docs\n"), "docs"), "no exceptions: never descend");
  assert.ok(
    !mustDescend(rules("docs\n!**/keep.md\n"), "docs"),
    "Docker only checks the text prefix",
  );
});
