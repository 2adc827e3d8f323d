import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveBaseImage } from "../../src/registry/base_image.ts";
import { RegistryClient } from "../../src/registry/client.ts";
import { dockerConfigCredentials } from "../../src/registry/credentials.ts";
import { RegistryError } from "../../src/registry/registry_error.ts";
import { BlobStore } from "../../src/store/blob_store.ts";
import {
  baseLayoutPath,
  pushLayoutToRegistry,
  startRegistry,
  type TestRegistry,
} from "../integration/_registry.ts";

const amd64 = { os: "linux", architecture: "amd64" };
let registry: TestRegistry;
let work: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), "pycontainer-token-"));
  registry = await startRegistry({
    token: {
      users: { pusher: "push-pass", reader: "read-pass" },
      // Like Docker Hub: anyone may pull public images; private ones need a login.
      grant: (user, repository, actions) => {
        if (user === "pusher") return actions;
        if (user === "reader" || repository.startsWith("public/")) {
          return actions.filter((a) => a === "pull");
        }
        return [];
      },
    },
  });
  const layout = baseLayoutPath();
  for (const repo of ["public/python", "private/python"]) {
    await pushLayoutToRegistry(layout, "bookworm", `${registry.host}/${repo}:bookworm`, {
      creds: "pusher:push-pass",
    });
  }
  registry.tokenServer!.requests.length = 0;
});
after(async () => {
  await registry?.stop();
  await rm(work, { recursive: true, force: true });
});

async function configWith(user: string, password: string): Promise<Record<string, string>> {
  const dir = join(work, `config-${crypto.randomUUID()}`);
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, "config.json"),
    JSON.stringify({ auths: { [registry.host]: { auth: btoa(`${user}:${password}`) } } }),
  );
  return { DOCKER_CONFIG: dir };
}

test("an anonymous pull gets a pull-scoped token from the realm, once per scope", async () => {
  const requests = registry.tokenServer!.requests;
  requests.length = 0;
  const client = new RegistryClient({
    credentials: dockerConfigCredentials({ DOCKER_CONFIG: join(work, "none") }),
  });
  const store = new BlobStore(join(work, "cache-anon"));
  const base = await resolveBaseImage(`${registry.host}/public/python:bookworm`, amd64, {
    client,
    store,
  });
  await (await base.blobSource.open(base.layers[0]!)).pipeTo(new WritableStream());
  await resolveBaseImage(`${registry.host}/public/python:bookworm`, amd64, { client, store });
  assert.deepEqual(requests, [{
    method: "GET",
    scopes: ["repository:public/python:pull"],
    service: "pycontainer-test-registry",
  }]);
});

test("an anonymous pull of a private image is refused with a login hint", async () => {
  await assert.rejects(
    resolveBaseImage(`${registry.host}/private/python:bookworm`, amd64, {
      env: { DOCKER_CONFIG: join(work, "none") },
      store: new BlobStore(join(work, "cache-denied")),
    }),
    (e: unknown) => {
      assert.ok(e instanceof RegistryError);
      assert.match(
        e.message,
        new RegExp(
          `^registry ${registry.host}: get manifest private/python:bookworm failed: HTTP 401 UNAUTHORIZED`,
        ),
      );
      assert.match(e.hint ?? "", new RegExp(`log in to ${registry.host}`));
      return true;
    },
  );
});

test("credentials from config.json are sent to the token realm", async () => {
  const requests = registry.tokenServer!.requests;
  requests.length = 0;
  const base = await resolveBaseImage(`${registry.host}/private/python:bookworm`, amd64, {
    env: await configWith("reader", "read-pass"),
    store: new BlobStore(join(work, "cache-reader")),
  });
  assert.equal(base.config.value.architecture, "amd64");
  assert.deepEqual(requests.map((r) => [r.user, r.scopes]), [["reader", [
    "repository:private/python:pull",
  ]]]);
});

test("a wrong password is reported by the token realm without revealing it", async () => {
  await assert.rejects(
    resolveBaseImage(`${registry.host}/private/python:bookworm`, amd64, {
      env: await configWith("reader", "not-the-password"),
      store: new BlobStore(join(work, "cache-wrong")),
    }),
    (e: unknown) => {
      assert.ok(e instanceof RegistryError);
      const realmHost = new URL(registry.tokenServer!.realm).host;
      assert.equal(
        e.message,
        `registry ${registry.host}: get auth token from ${realmHost} failed: HTTP 401 UNAUTHORIZED (incorrect username or password)`,
      );
      assert.match(e.hint ?? "", /config\.json .* were refused; log in again/);
      assert.ok(!JSON.stringify([e.message, e.hint]).includes("not-the-password"));
      return true;
    },
  );
});
