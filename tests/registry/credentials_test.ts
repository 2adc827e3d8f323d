import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PycontainerError } from "../../src/errors.ts";
import {
  chainCredentialProviders,
  credentialFromDockerConfig,
  dockerConfigCredentials,
  dockerConfigPath,
} from "../../src/registry/credentials.ts";

const root = await mkdtemp(join(tmpdir(), "pycontainer-creds-"));
after(() => rm(root, { recursive: true, force: true }));
const b64 = (s: string) => btoa(s);

test("dockerConfigPath() honours DOCKER_CONFIG, else ~/.docker", () => {
  assert.equal(dockerConfigPath({ DOCKER_CONFIG: "/cfg" }), "/cfg/config.json");
  assert.equal(dockerConfigPath({ HOME: "/home/u" }), "/home/u/.docker/config.json");
});

test("credentialFromDockerConfig() finds Docker Hub under its legacy key", () => {
  const config = { auths: { "https://index.docker.io/v1/": { auth: b64("hubuser:hubpass") } } };
  const c = credentialFromDockerConfig(config, "docker.io", "cfg.json");
  assert.deepEqual(c, {
    kind: "basic",
    username: "hubuser",
    password: "hubpass",
    source: 'cfg.json (auths["https://index.docker.io/v1/"])',
  });
});

test("credentialFromDockerConfig() matches keys with scheme or path, and passwords with colons", () => {
  const config = {
    auths: {
      "https://ghcr.io": { auth: b64("me:pa:ss") },
      "http://localhost:5000/v2/": { username: "u", password: "p" },
      "other.io": { auth: "" },
    },
  };
  const ghcr = credentialFromDockerConfig(config, "ghcr.io", "f");
  assert.equal(ghcr?.kind === "basic" && ghcr.password, "pa:ss");
  const local = credentialFromDockerConfig(config, "localhost:5000", "f");
  assert.equal(local?.kind === "basic" && local.username, "u");
  assert.equal(credentialFromDockerConfig(config, "other.io", "f"), undefined);
  assert.equal(credentialFromDockerConfig(config, "quay.io", "f"), undefined);
  assert.equal(credentialFromDockerConfig({}, "quay.io", "f"), undefined);
});

test("credentialFromDockerConfig() prefers an identitytoken", () => {
  const config = {
    auths: {
      "myreg.azurecr.io": {
        auth: b64("00000000-0000-0000-0000-000000000000:"),
        identitytoken: "refresh-xyz",
      },
    },
  };
  const c = credentialFromDockerConfig(config, "myreg.azurecr.io", "f");
  assert.equal(c?.kind, "identityToken");
  assert.equal(c?.kind === "identityToken" && c.token, "refresh-xyz");
});

test("credentialFromDockerConfig() rejects a malformed auth without echoing it", () => {
  const config = { auths: { "ghcr.io": { auth: b64("no-colon-secret") } } };
  assert.throws(() => credentialFromDockerConfig(config, "ghcr.io", "cfg.json"), (e: unknown) => {
    assert.ok(e instanceof PycontainerError);
    assert.equal(
      e.message,
      'invalid "auth" for ghcr.io in cfg.json: expected base64 of user:password',
    );
    assert.ok(!e.message.includes("secret"));
    return true;
  });
  assert.throws(
    () => credentialFromDockerConfig({ auths: { "ghcr.io": { auth: "%%%" } } }, "ghcr.io", "c"),
    /not base64/,
  );
});

test("dockerConfigCredentials() reads the file once and tolerates its absence", async () => {
  const dir = join(root, "docker");
  await mkdir(dir);
  await writeFile(
    join(dir, "config.json"),
    JSON.stringify({ auths: { "127.0.0.1:5000": { auth: b64("a:b") } } }),
  );
  const provider = dockerConfigCredentials({ DOCKER_CONFIG: dir });
  const c = await provider.get("127.0.0.1:5000");
  assert.equal(c?.kind === "basic" && c.username, "a");
  assert.ok(c?.source.startsWith(join(dir, "config.json")));
  assert.equal(await provider.get("docker.io"), undefined);
  assert.equal(
    await dockerConfigCredentials({ DOCKER_CONFIG: join(root, "none") }).get("docker.io"),
    undefined,
  );
});

test("dockerConfigCredentials() names a malformed config file", async () => {
  const dir = join(root, "broken");
  await mkdir(dir);
  await writeFile(join(dir, "config.json"), "{ not json");
  await assert.rejects(
    dockerConfigCredentials({ DOCKER_CONFIG: dir }).get("ghcr.io"),
    (e: unknown) => {
      assert.ok(e instanceof PycontainerError);
      assert.ok(e.message.startsWith(`cannot parse ${join(dir, "config.json")}: `));
      return true;
    },
  );
});

test("chainCredentialProviders() returns the first hit", async () => {
  const first = {
    get: (r: string) =>
      Promise.resolve(
        r === "a.io"
          ? { kind: "basic" as const, username: "1", password: "x", source: "one" }
          : undefined,
      ),
  };
  const second = {
    get: () =>
      Promise.resolve({ kind: "basic" as const, username: "2", password: "y", source: "two" }),
  };
  const chain = chainCredentialProviders(first, second);
  assert.equal((await chain.get("a.io"))?.source, "one");
  assert.equal((await chain.get("b.io"))?.source, "two");
});
