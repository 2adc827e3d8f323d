import { test } from "node:test";
import assert from "node:assert/strict";
import { indexesFromConfig, PYPI_SIMPLE_URL } from "../../src/python/index_config.ts";
import { PycontainerError } from "../../src/errors.ts";

const urls = (l: ReturnType<typeof indexesFromConfig>) => l.indexes.map((i) => i.url);

test("indexesFromConfig() defaults to PyPI", () => {
  const l = indexesFromConfig(undefined, {});
  assert.deepEqual(urls(l), [PYPI_SIMPLE_URL]);
  assert.equal(l.indexes[0]!.from, "default");
});

test("indexesFromConfig() reads [[tool.uv.index]] with default, explicit and sources", () => {
  const l = indexesFromConfig({
    uv: {
      index: [
        { name: "torch", url: "https://download.example/whl/cpu", explicit: true },
        { name: "corp", url: "https://pkgs.corp.example/simple" },
        { name: "mirror", url: "https://mirror.example/simple/", default: true },
      ],
      sources: { Torch: { index: "torch" } },
    },
  }, { UV_INDEX_CORP_USERNAME: "ci", UV_INDEX_CORP_PASSWORD: "tok" });
  assert.deepEqual(urls(l), [
    "https://download.example/whl/cpu/",
    "https://pkgs.corp.example/simple/",
    "https://mirror.example/simple/",
  ]);
  assert.equal(l.indexes[0]!.explicit, true);
  assert.deepEqual(l.packageIndexes, { torch: "torch" });
  assert.deepEqual(l.indexes[1]!.credentials, { username: "ci", password: "tok" });
  assert.ok(!urls(l).includes(PYPI_SIMPLE_URL), "a default index replaces PyPI");
});

test("indexesFromConfig() reads poetry sources: primary disables PyPI, supplemental last", () => {
  const l = indexesFromConfig({
    poetry: {
      source: [
        { name: "extra", url: "https://extra.example/simple/", priority: "supplemental" },
        { name: "corp", url: "https://corp.example/simple/", priority: "primary" },
        { name: "pinned", url: "https://pinned.example/simple/", priority: "explicit" },
      ],
      dependencies: { python: "^3.11", private: { version: "1.0", source: "pinned" } },
    },
  }, { POETRY_HTTP_BASIC_CORP_USERNAME: "me", POETRY_HTTP_BASIC_CORP_PASSWORD: "pw" });
  assert.deepEqual(urls(l), [
    "https://corp.example/simple/",
    "https://pinned.example/simple/",
    "https://extra.example/simple/",
  ]);
  assert.equal(l.indexes[0]!.credentials?.username, "me");
  assert.equal(l.packageIndexes.private, "pinned");
});

test("indexesFromConfig() lets the environment and the command line override pyproject", () => {
  const tool = { uv: { index: [{ name: "m", url: "https://m.example/simple", default: true }] } };
  const env = {
    PIP_INDEX_URL: "https://u:p@pip.example/simple",
    PIP_EXTRA_INDEX_URL: "https://e1.example/simple https://e2.example/simple",
  };
  const l = indexesFromConfig(tool, env);
  assert.deepEqual(urls(l), [
    "https://e1.example/simple/",
    "https://e2.example/simple/",
    "https://pip.example/simple/",
  ]);
  assert.deepEqual(l.indexes[2]!.credentials, { username: "u", password: "p" });
  assert.equal(l.indexes[2]!.from, "PIP_INDEX_URL");
  const uv = indexesFromConfig(tool, { ...env, UV_DEFAULT_INDEX: "https://uv.example/simple/" });
  assert.equal(uv.indexes.at(-1)!.url, "https://uv.example/simple/");
  const cli = indexesFromConfig(tool, env, {
    indexUrl: "http://127.0.0.1:1234/simple",
    extraIndexUrls: ["https://cli.example/simple/"],
  });
  assert.equal(cli.indexes[0]!.url, "https://cli.example/simple/");
  assert.equal(cli.indexes.at(-1)!.url, "http://127.0.0.1:1234/simple/");
  assert.equal(cli.indexes.at(-1)!.from, "--index-url");
});

test("indexesFromConfig() rejects bad URLs and tables with exit code 2, without secrets", () => {
  assert.throws(
    () => indexesFromConfig(undefined, { PIP_INDEX_URL: "ftp://user:hunter2@x.example/simple" }),
    (e: unknown) =>
      e instanceof PycontainerError && e.exitCode === 2 && /ftp:/.test(e.message) &&
      !e.message.includes("hunter2"),
  );
  assert.throws(
    () => indexesFromConfig(undefined, {}, { indexUrl: "not a url:secret@" }),
    (e: unknown) =>
      e instanceof PycontainerError && e.exitCode === 2 && /--index-url/.test(e.message),
  );
  assert.throws(
    () => indexesFromConfig({ uv: { index: [{ name: "x" }] } }, {}),
    (e: unknown) =>
      e instanceof PycontainerError && e.exitCode === 2 &&
      /\[\[tool\.uv\.index\]\] entry 1/.test(e.message),
  );
});
