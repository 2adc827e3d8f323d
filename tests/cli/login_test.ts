/**
 * `pycontainer login` / `logout` in-process against a real htpasswd registry: credentials are
 * checked before anything is written, a refused login writes nothing and never shows the
 * password, usage mistakes are exit 2.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../cli.ts";
import { startRegistry, type TestRegistry } from "../integration/_registry.ts";

let registry: TestRegistry;
let work: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), "pycontainer-login-"));
  registry = await startRegistry({ htpasswd: { ci: "right-password" } });
});
after(async () => {
  await registry?.stop();
  await rm(work, { recursive: true, force: true });
});

async function login(args: string[], stdin: string, configDir: string) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(
    args,
    {
      stdout: (s) => out.push(s),
      stderr: (s) => err.push(s),
      env: { PATH: process.env.PATH, HOME: join(work, "home"), DOCKER_CONFIG: configDir },
      isTTY: false,
      stdin: () => Promise.resolve(stdin),
    } as Parameters<typeof main>[1],
  );
  return { code, stdout: out.join("\n"), stderr: err.join("\n") };
}

test("login checks the password with the registry, then writes config.json with mode 0600", async () => {
  const dir = join(work, "ok");
  const r = await login(
    ["login", registry.host, "-u", "ci", "--password-stdin"],
    "right-password\n",
    dir,
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stderr,
    `login succeeded; credentials for ${registry.host} saved in ${dir}/config.json`,
  );
  const config = JSON.parse(await readFile(join(dir, "config.json"), "utf8"));
  assert.deepEqual(config.auths, { [registry.host]: { auth: btoa("ci:right-password") } });
  assert.equal((await stat(join(dir, "config.json"))).mode & 0o777, 0o600);
  const out = await login(["logout", `http://${registry.host}/`], "", dir);
  assert.equal(out.code, 0);
  assert.equal(out.stderr, `removed credentials for ${registry.host} from ${dir}/config.json`);
  assert.equal(
    (await login(["logout", registry.host], "", dir)).stderr,
    `not logged in to ${registry.host}`,
  );
});

test("login with a wrong password fails, writes nothing and doesn't show the password", async () => {
  const dir = join(work, "wrong");
  const r = await login(
    ["login", registry.host, "-u", "ci", "--password-stdin", "-v"],
    "wrong-password",
    dir,
  );
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    new RegExp(`^error: registry ${registry.host}: log in failed: HTTP 401 UNAUTHORIZED`, "m"),
  );
  assert.match(
    r.stderr,
    /hint: the credentials for .* from --username\/--password-stdin were refused/,
  );
  assert.ok(!r.stderr.includes("wrong-password"));
  assert.ok(!r.stderr.includes(btoa("ci:wrong-password")));
  await assert.rejects(stat(join(dir, "config.json")));
});

test("login without --password-stdin, or with an empty one, is a usage error", async () => {
  const dir = join(work, "usage");
  const missing = await login(["login", registry.host, "-u", "ci"], "", dir);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /error: login needs --username and --password-stdin/);
  const empty = await login(["login", registry.host, "-u", "ci", "--password-stdin"], "\n", dir);
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /error: --password-stdin got an empty password/);
  const none = await login(["login"], "", dir);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /error: login needs one registry/);
});
