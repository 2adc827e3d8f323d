/**
 * The credential chain with real files and real programs: a fake `docker-credential-test` helper
 * script on PATH (it logs what it was asked), Docker config.json with `auths`, `credHelpers` and
 * `credsStore`, podman's auth.json, environment variables and flags — and which one wins.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { containersAuthCredentials } from "../../src/registry/cred_auth_file.ts";
import { azureCredentials } from "../../src/registry/cred_azure.ts";
import { envCredentials } from "../../src/registry/cred_env.ts";
import { credentialChain } from "../../src/registry/credential_chain.ts";
import { dockerConfigCredentials } from "../../src/registry/credentials.ts";
import { removeLogin, saveLogin } from "../../src/registry/docker_config_write.ts";

let work: string;
let bin: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), "pycontainer-creds-"));
  bin = join(work, "bin");
  await mkdir(bin);
  // A credential helper speaking Docker's protocol: get/store/erase, secrets kept in files.
  await writeFile(
    join(bin, "docker-credential-test"),
    `#!/bin/sh
store="${work}/helper-store"
mkdir -p "$store"
input=$(cat)
echo "$1 $input" | sed 's/"Secret":"[^"]*"/"Secret":"***"/' >> "${work}/helper.log"
key=$(printf '%s' "$input" | sed 's/[^A-Za-z0-9.]/_/g')
case "$1" in
  get)
    case "$input" in
      helper.example.com) echo '{"ServerURL":"helper.example.com","Username":"helper-user","Secret":"helper-secret"}' ;;
      token.example.com) echo '{"ServerURL":"token.example.com","Username":"<token>","Secret":"refresh-tok"}' ;;
      broken.example.com) echo "helper exploded" >&2; exit 3 ;;
      *) if [ -f "$store/$key" ]; then cat "$store/$key"; else echo "credentials not found in native keychain"; exit 1; fi ;;
    esac ;;
  store)
    server=$(printf '%s' "$input" | sed 's/.*"ServerURL":"\\([^"]*\\)".*/\\1/')
    printf '%s' "$input" > "$store/$(printf '%s' "$server" | sed 's/[^A-Za-z0-9.]/_/g')" ;;
  erase) rm -f "$store/$key" ;;
esac
`,
  );
  await chmod(join(bin, "docker-credential-test"), 0o755);
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

async function dockerConfig(name: string, config: unknown): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "config.json"), JSON.stringify(config));
  return dir;
}

function envWith(extra: Record<string, string>): Record<string, string | undefined> {
  return { PATH: `${bin}:${process.env.PATH}`, HOME: join(work, "home"), ...extra };
}

test("dockerConfigCredentials() asks credHelpers first, then credsStore, then auths", async () => {
  const dir = await dockerConfig("docker-a", {
    auths: {
      "helper.example.com": { auth: btoa("file-user:file-pass") },
      "plain.example.com": { auth: btoa("plain-user:plain-pass") },
    },
    credHelpers: { "helper.example.com": "test" },
    credsStore: "test",
  });
  const p = dockerConfigCredentials(envWith({ DOCKER_CONFIG: dir }));
  const helper = await p.get("helper.example.com");
  assert.deepEqual(helper, {
    kind: "basic",
    username: "helper-user",
    password: "helper-secret",
    source: `docker-credential-test (credHelpers["helper.example.com"] in ${dir}/config.json)`,
  });
  const token = await p.get("token.example.com");
  assert.equal(token?.kind, "identityToken");
  assert.equal(token?.kind === "identityToken" ? token.token : "", "refresh-tok");
  assert.match(token?.source ?? "", /credsStore in/);
  // The store has nothing for plain.example.com: the auths entry is used.
  const plain = await p.get("plain.example.com");
  assert.equal(plain?.kind === "basic" ? plain.username : "", "plain-user");
  const log = await readFile(join(work, "helper.log"), "utf8");
  assert.match(log, /^get helper\.example\.com$/m);
  assert.match(log, /^get plain\.example\.com$/m);
});

test("a failing credential helper is an error naming it, without its output", async () => {
  const dir = await dockerConfig("docker-b", { credHelpers: { "broken.example.com": "test" } });
  await assert.rejects(
    dockerConfigCredentials(envWith({ DOCKER_CONFIG: dir })).get("broken.example.com"),
    /credential helper docker-credential-test failed for broken\.example\.com \(exit 3\): helper exploded/,
  );
  const missing = await dockerConfig("docker-c", { credsStore: "nonexistent" });
  await assert.rejects(
    dockerConfigCredentials(envWith({ DOCKER_CONFIG: missing })).get("x.example.com"),
    (e: Error & { hint?: string }) => {
      assert.match(e.message, /docker-credential-nonexistent not found on PATH/);
      assert.match(e.hint ?? "", /install docker-credential-nonexistent/);
      return true;
    },
  );
});

test("containersAuthCredentials() reads REGISTRY_AUTH_FILE, then $XDG_RUNTIME_DIR/containers/auth.json", async () => {
  const authFile = join(work, "podman-auth.json");
  await writeFile(
    authFile,
    JSON.stringify({ auths: { "quay.io": { auth: btoa("q-user:q-pass") } } }),
  );
  const runtime = join(work, "runtime");
  await mkdir(join(runtime, "containers"), { recursive: true });
  await writeFile(
    join(runtime, "containers", "auth.json"),
    JSON.stringify({
      auths: {
        "quay.io": { auth: btoa("runtime-user:x") },
        "registry.example.com/team/app": { auth: btoa("r-user:r-pass") },
      },
    }),
  );
  const p = containersAuthCredentials(
    envWith({ REGISTRY_AUTH_FILE: authFile, XDG_RUNTIME_DIR: runtime }),
  );
  const quay = await p.get("quay.io");
  assert.equal(quay?.kind === "basic" ? quay.username : "", "q-user");
  assert.equal(quay?.source, `${authFile} (auths["quay.io"])`);
  const other = await p.get("registry.example.com");
  assert.equal(other?.kind === "basic" ? other.username : "", "r-user");
});

test("envCredentials() applies to push registries only; GITHUB_TOKEN only to ghcr.io", async () => {
  const env = { GITHUB_TOKEN: "ghs_abc", GITHUB_ACTOR: "octocat" };
  const p = envCredentials(env, ["ghcr.io", "registry.example.com"]);
  assert.deepEqual(await p.get("ghcr.io"), {
    kind: "basic",
    username: "octocat",
    password: "ghs_abc",
    source: "GITHUB_TOKEN",
  });
  assert.equal(await p.get("registry.example.com"), undefined);
  assert.equal(await envCredentials(env, []).get("ghcr.io"), undefined);
  const original = envCredentials({ REGISTRY_TOKEN: "tok" }, ["r.io"]);
  assert.deepEqual(await original.get("r.io"), {
    kind: "basic",
    username: "token",
    password: "tok",
    source: "REGISTRY_TOKEN",
  });
});

test("credentialChain() precedence: flags, env, GITHUB_TOKEN, Docker config, podman auth file", async () => {
  const docker = await dockerConfig("docker-chain", {
    auths: { "ghcr.io": { auth: btoa("docker-user:docker-pass") } },
  });
  const authFile = join(work, "chain-auth.json");
  await writeFile(
    authFile,
    JSON.stringify({ auths: { "ghcr.io": { auth: btoa("podman-user:p") } } }),
  );
  const all = {
    DOCKER_CONFIG: docker,
    REGISTRY_AUTH_FILE: authFile,
    GITHUB_TOKEN: "gh-token",
    PYCONTAINER_REGISTRY_USERNAME: "env-user",
    PYCONTAINER_REGISTRY_PASSWORD: "env-pass",
    REGISTRY_USERNAME: "old-user",
    REGISTRY_PASSWORD: "old-pass",
  };
  const sourceOf = async (env: Record<string, string>, flags = false) => {
    const found: string[] = [];
    const chain = credentialChain({
      env: envWith(env),
      pushRegistries: ["ghcr.io"],
      ...(flags ? { username: "flag-user", password: "flag-pass" } : {}),
      onFound: (registry, source) => found.push(`${registry}: ${source}`),
    });
    const c = await chain.get("ghcr.io");
    await chain.get("ghcr.io"); // asked once, answered from memory
    assert.ok(found.length <= 1);
    return c?.source;
  };
  assert.equal(await sourceOf(all, true), "--username/--password-stdin");
  assert.equal(await sourceOf(all), "PYCONTAINER_REGISTRY_USERNAME/PYCONTAINER_REGISTRY_PASSWORD");
  const { PYCONTAINER_REGISTRY_USERNAME: _a, PYCONTAINER_REGISTRY_PASSWORD: _b, ...noPyc } = all;
  assert.equal(await sourceOf(noPyc), "REGISTRY_USERNAME/REGISTRY_PASSWORD");
  const { REGISTRY_USERNAME: _c, REGISTRY_PASSWORD: _d, ...noEnv } = noPyc;
  assert.equal(await sourceOf(noEnv), "GITHUB_TOKEN");
  const { GITHUB_TOKEN: _e, ...noGh } = noEnv;
  assert.equal(await sourceOf(noGh), `${docker}/config.json (auths["ghcr.io"])`);
  const { DOCKER_CONFIG: _f, ...noDocker } = noGh;
  assert.equal(await sourceOf(noDocker), `${authFile} (auths["ghcr.io"])`);
  // Not a push registry: flags and env don't apply, the files still do.
  const chain = credentialChain({
    env: envWith(all),
    pushRegistries: ["other.io"],
    username: "u",
    password: "p",
  });
  assert.equal((await chain.get("ghcr.io"))?.source, `${docker}/config.json (auths["ghcr.io"])`);
});

test("azureCredentials() uses az acr login --expose-token for *.azurecr.io only", async () => {
  const azBin = join(work, "azbin");
  await mkdir(azBin, { recursive: true });
  await writeFile(
    join(azBin, "az"),
    `#!/bin/sh\necho "$@" >> "${work}/az.log"\necho '{"accessToken":"acr-token","loginServer":"myreg.azurecr.io"}'\n`,
  );
  await chmod(join(azBin, "az"), 0o755);
  const p = azureCredentials({ PATH: `${azBin}:/usr/bin:/bin` });
  const c = await p.get("myreg.azurecr.io");
  assert.deepEqual(c, {
    kind: "basic",
    username: "00000000-0000-0000-0000-000000000000",
    password: "acr-token",
    source: "az acr login --name myreg --expose-token",
  });
  assert.equal(await p.get("ghcr.io"), undefined);
  assert.equal(await azureCredentials({ PATH: "/nonexistent" }).get("x.azurecr.io"), undefined);
  assert.match(
    await readFile(join(work, "az.log"), "utf8"),
    /^acr login --name myreg --expose-token --output json$/m,
  );
});

test("saveLogin() writes auths atomically with mode 0600 and keeps other keys; removeLogin() deletes", async () => {
  const dir = join(work, "login-a");
  await dockerConfig("login-a", {
    auths: { "https://ghcr.io/v1/": { auth: "old" } },
    psFormat: "x",
  });
  const env = { DOCKER_CONFIG: dir };
  const where = await saveLogin("ghcr.io", "me", "pa:ss", env);
  assert.deepEqual(where, { path: join(dir, "config.json"), store: "auths" });
  const config = JSON.parse(await readFile(join(dir, "config.json"), "utf8"));
  assert.deepEqual(config, { auths: { "ghcr.io": { auth: btoa("me:pa:ss") } }, psFormat: "x" });
  assert.equal((await stat(join(dir, "config.json"))).mode & 0o777, 0o600);
  const back = await dockerConfigCredentials(env).get("ghcr.io");
  assert.equal(back?.kind === "basic" ? back.password : "", "pa:ss");
  assert.deepEqual(await removeLogin("ghcr.io", env), {
    path: join(dir, "config.json"),
    store: "auths",
  });
  assert.deepEqual(JSON.parse(await readFile(join(dir, "config.json"), "utf8")).auths, {});
  assert.equal(await removeLogin("ghcr.io", env), undefined);
  // Docker Hub gets the key docker login writes; a fresh directory is made 0700.
  const fresh = join(work, "login-new", "nested");
  await saveLogin("docker.io", "hub", "pw", { DOCKER_CONFIG: fresh });
  const hub = JSON.parse(await readFile(join(fresh, "config.json"), "utf8"));
  assert.deepEqual(Object.keys(hub.auths), ["https://index.docker.io/v1/"]);
  assert.equal((await stat(fresh)).mode & 0o777, 0o700);
});

test("saveLogin() and removeLogin() use the credential helper when one is configured", async () => {
  const dir = await dockerConfig("login-helper", { credsStore: "test" });
  const env = envWith({ DOCKER_CONFIG: dir });
  const where = await saveLogin("stored.example.com", "su", "stored-secret", env);
  assert.equal(where.store, "docker-credential-test");
  assert.deepEqual(JSON.parse(await readFile(join(dir, "config.json"), "utf8")), {
    credsStore: "test",
  });
  const c = await dockerConfigCredentials(env).get("stored.example.com");
  assert.equal(c?.kind === "basic" ? c.password : "", "stored-secret");
  assert.equal((await removeLogin("stored.example.com", env))?.store, "docker-credential-test");
  assert.equal(await dockerConfigCredentials(env).get("stored.example.com"), undefined);
  assert.doesNotMatch(await readFile(join(work, "helper.log"), "utf8"), /stored-secret/);
});
