import { test } from "node:test";
import assert from "node:assert/strict";
import { shellSplit } from "../../src/project/shell_split.ts";
import { PycontainerError } from "../../src/errors.ts";

test("shellSplit() splits on runs of blanks", () => {
  assert.deepEqual(shellSplit("  uvicorn   app:app\t--host 0.0.0.0 \n --port 8080 "), [
    "uvicorn",
    "app:app",
    "--host",
    "0.0.0.0",
    "--port",
    "8080",
  ]);
  assert.deepEqual(shellSplit(""), []);
  assert.deepEqual(shellSplit("   "), []);
});

test("shellSplit() keeps single-quoted text literally", () => {
  assert.deepEqual(shellSplit(`echo 'a  b' '$HOME \\n' 'it''s'`), [
    "echo",
    "a  b",
    "$HOME \\n",
    "its",
  ]);
});

test("shellSplit() handles escapes inside double quotes as POSIX does", () => {
  assert.deepEqual(shellSplit(`say "a \\"quoted\\" \\$x \\\\ \\n"`), [
    "say",
    'a "quoted" $x \\ \\n',
  ]);
  assert.deepEqual(shellSplit(`x "line\\\ncontinued"`), ["x", "linecontinued"]);
});

test("shellSplit() joins adjacent quoted and unquoted parts into one word", () => {
  assert.deepEqual(shellSplit(`--name="my app"'s' pre"fix"post`), ["--name=my apps", "prefixpost"]);
});

test("shellSplit() keeps empty quoted words", () => {
  assert.deepEqual(shellSplit(`cmd "" ''`), ["cmd", "", ""]);
});

test("shellSplit() treats an unquoted backslash as escaping the next character", () => {
  assert.deepEqual(shellSplit(`a\\ b c\\"d \\'e`), ["a b", 'c"d', "'e"]);
  assert.deepEqual(shellSplit("one \\\n two"), ["one", "two"]);
});

test("shellSplit() drops a comment that starts a word, not a # inside a word", () => {
  assert.deepEqual(shellSplit("run app#1 # the rest is a comment"), ["run", "app#1"]);
  assert.deepEqual(shellSplit("a '#not comment'"), ["a", "#not comment"]);
});

test("shellSplit() keeps $VAR and globs literally (exec form has no shell)", () => {
  assert.deepEqual(shellSplit("serve --port $PORT *.py"), ["serve", "--port", "$PORT", "*.py"]);
});

test("shellSplit() rejects an unbalanced single quote with exit code 2", () => {
  assert.throws(
    () => shellSplit("gunicorn -b '0.0.0.0:8000 app:app", "pyproject.toml [project.scripts] api"),
    (err) => {
      assert.ok(err instanceof PycontainerError);
      assert.equal(err.exitCode, 2);
      assert.equal(
        err.message,
        "pyproject.toml [project.scripts] api has an unbalanced ' quote: gunicorn -b '0.0.0.0:8000 app:app",
      );
      assert.match(err.hint ?? "", /close the ' quote/);
      return true;
    },
  );
});

test("shellSplit() rejects an unbalanced double quote and a trailing backslash", () => {
  assert.throws(() => shellSplit('run "abc \\"'), /unbalanced " quote/);
  assert.throws(() => shellSplit("run abc\\"), (err) => {
    assert.ok(err instanceof PycontainerError);
    assert.equal(err.exitCode, 2);
    assert.match(err.message, /ends with an unescaped backslash/);
    return true;
  });
});
