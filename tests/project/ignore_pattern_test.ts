import { test } from "node:test";
import assert from "node:assert/strict";
import { cleanPath, compilePattern, matchPattern } from "../../src/project/ignore_pattern.ts";

function matches(pattern: string, path: string): boolean {
  return matchPattern(compilePattern(pattern), path);
}

test("cleanPath() behaves like Go's path.Clean", () => {
  assert.equal(cleanPath(""), ".");
  assert.equal(cleanPath("./"), ".");
  assert.equal(cleanPath("a//b/./c/"), "a/b/c");
  assert.equal(cleanPath("a/b/../../.."), "..");
  assert.equal(cleanPath("../a/../../b"), "../../b");
  assert.equal(cleanPath("/../a"), "/a");
  assert.equal(cleanPath("/"), "/");
});

test("compilePattern() classifies exact, prefix, suffix and regexp patterns", () => {
  assert.equal(compilePattern("docs/README.md").kind, "exact");
  assert.equal(compilePattern("docs/**").kind, "prefix");
  assert.equal(compilePattern("**/node_modules").kind, "suffix");
  assert.equal(compilePattern("**/*.pyc").kind, "regexp");
  assert.equal(compilePattern("a/**/b").kind, "regexp");
  assert.equal(compilePattern("**").kind, "suffix");
});

test("compilePattern() cleans the pattern and strips one leading slash", () => {
  const p = compilePattern("  /secrets//keys/ ");
  assert.equal(p.text, "secrets/keys");
  assert.equal(p.exclusion, false);
  const q = compilePattern("! ./build/../dist/");
  assert.equal(q.text, "dist");
  assert.equal(q.exclusion, true);
});

test("compilePattern() rejects '!' alone and malformed character classes", () => {
  assert.throws(() => compilePattern("!"), /illegal exclusion pattern/);
  assert.throws(() => compilePattern("[abc"), SyntaxError);
});

test("matchPattern() * and ? never cross a slash", () => {
  assert.ok(matches("*.py", "app.py"));
  assert.ok(!matches("*.py", "pkg/app.py"));
  assert.ok(matches("a/*.txt", "a/file.txt"));
  assert.ok(!matches("a/*.txt", "a/dir/file.txt"));
  assert.ok(matches("abc?def", "abcZdef"));
  assert.ok(!matches("abc?def", "abc/def"));
  assert.ok(!matches("abc?def", "abcdef"));
  assert.ok(matches("*", "anything"));
});

test("matchPattern() ** matches any number of segments, including none", () => {
  assert.ok(matches("**/*.txt", "file.txt"));
  assert.ok(matches("**/*.txt", "d1/d2/file.txt"));
  assert.ok(!matches("**/*.txt2", "d1/file.txt"));
  assert.ok(matches("a**/*.txt", "a/file.txt"));
  assert.ok(matches("a**/*.txt", "a/b/c/file.txt"));
  assert.ok(matches("**/dir2/*", "dir/dir2/file"));
  assert.ok(matches("**/foo/bar", "foo/bar"));
  assert.ok(matches("**/foo/bar", "x/y/foo/bar"));
  assert.ok(matches("**", "any/thing"));
});

test("matchPattern() prefix patterns need the separator: abc/** does not match abc", () => {
  assert.ok(!matches("abc/**", "abc"));
  assert.ok(matches("abc/**", "abc/def"));
  assert.ok(matches("abc/**", "abc/def/ghi"));
});

test("matchPattern() suffix patterns match at the root and deeper, not mid-name", () => {
  assert.ok(matches("**/.foo", ".foo"));
  assert.ok(matches("**/.foo", "a/b/.foo"));
  assert.ok(!matches("**/.foo", "bar.foo"));
  assert.ok(matches("**file", "dir/file"));
});

test("matchPattern() treats regexp metacharacters literally", () => {
  assert.ok(matches("abc.def", "abc.def"));
  assert.ok(!matches("abc.def", "abcZdef"));
  assert.ok(matches("a(b)c/def", "a(b)c/def"));
  assert.ok(matches("a.|)$(}+{bc", "a.|)$(}+{bc"));
  assert.ok(matches("dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl"));
});

test("matchPattern() supports character classes and escapes", () => {
  assert.ok(matches("a[b-d]e", "ace"));
  assert.ok(!matches("a[b-d]e", "aae"));
  assert.ok(matches("a[^b-d]e", "aze"));
  assert.ok(!matches("a[^b-d]e", "ace"));
  assert.ok(matches("a\\*b", "a*b"));
  assert.ok(!matches("a\\*b", "axb"));
  assert.ok(matches(".*", ".env"));
  assert.ok(!matches(".*", "env"));
});
