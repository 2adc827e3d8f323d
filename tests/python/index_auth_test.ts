import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CredentialStore,
  envCredentials,
  parseNetrc,
  readNetrc,
  splitUserinfo,
} from "../../src/python/index_auth.ts";

test("parseNetrc() reads machines, quoted values, default and comments", () => {
  const entries = parseNetrc(`# comment
machine Pkgs.Example.com
  login alice
  password "s3 cret"
machine other.example account x login bob password pw
default login anon password guest
`);
  assert.deepEqual(entries, [
    { machine: "pkgs.example.com", username: "alice", password: "s3 cret" },
    { machine: "other.example", username: "bob", password: "pw" },
    { machine: undefined, username: "anon", password: "guest" },
  ]);
});

test("readNetrc() reads $NETRC", async () => {
  const dir = await mkdtemp(join(tmpdir(), "netrc-"));
  try {
    await writeFile(join(dir, "netrc"), "machine a.example login u password p\n");
    const entries = await readNetrc({ NETRC: join(dir, "netrc") });
    assert.equal(entries[0]?.password, "p");
  } finally {
    await rm(dir, { recursive: true });
  }
});

test("splitUserinfo() decodes and removes userinfo", () => {
  const s = splitUserinfo("https://user%20x:p%3Ass@h.example:8443/simple/");
  assert.equal(s.url, "https://h.example:8443/simple/");
  assert.deepEqual(s.credentials, { username: "user x", password: "p:ss" });
  assert.equal(splitUserinfo("https://h.example/simple/").credentials, undefined);
});

test("envCredentials() reads uv and poetry variables by index name", () => {
  assert.deepEqual(envCredentials("my-index", { UV_INDEX_MY_INDEX_PASSWORD: "t" }), {
    username: "",
    password: "t",
  });
  assert.equal(envCredentials("my-index", { UV_INDEX_OTHER_PASSWORD: "t" }), undefined);
});

test("CredentialStore only answers for the index's origin and path, and netrc hosts", () => {
  const store = new CredentialStore();
  store.add("https://repo.example/api/pypi/simple/", { username: "u", password: "p" });
  store.addNetrc(
    parseNetrc("machine files.example login n password q\ndefault login d password d"),
  );
  assert.equal(store.lookup("https://repo.example/api/pypi/simple/six/")?.username, "u");
  assert.equal(store.lookup("https://repo.example/api/pypi/packages/six.whl")?.username, "u");
  assert.equal(store.lookup("https://repo.example/other/six.whl"), undefined);
  assert.equal(store.lookup("http://repo.example/api/pypi/simple/six/"), undefined, "scheme");
  assert.equal(store.lookup("https://repo.example:444/api/pypi/simple/"), undefined, "port");
  assert.equal(store.lookup("https://evil.example/api/pypi/simple/"), undefined);
  assert.equal(store.lookup("https://files.example/x.whl")?.username, "n");
  assert.equal(store.authorization("https://files.example/x.whl"), `Basic ${btoa("n:q")}`);
  assert.equal(store.authorization("https://unknown.example/x.whl"), undefined, "no default");
});
