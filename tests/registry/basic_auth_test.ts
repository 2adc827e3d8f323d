import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveBaseImage } from "../../src/registry/base_image.ts";
import { RegistryError } from "../../src/registry/registry_error.ts";
import { BlobStore } from "../../src/store/blob_store.ts";
import {
  baseLayoutPath,
  pushLayoutToRegistry,
  startRegistry,
  type TestRegistry,
} from "../integration/_registry.ts";

const amd64 = { os: "linux", architecture: "amd64" };
const PASSWORD = "correct-horse-battery";
let registry: TestRegistry;
let work: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), "pycontainer-basic-"));
  registry = await startRegistry({ htpasswd: { tester: PASSWORD } });
  await pushLayoutToRegistry(
    baseLayoutPath(),
    "bookworm",
    `${registry.host}/private/python:bookworm`,
    {
      creds: `tester:${PASSWORD}`,
    },
  );
});
after(async () => {
  await registry?.stop();
  await rm(work, { recursive: true, force: true });
});

async function dockerConfig(name: string, user: string, password: string): Promise<string> {
  const dir = join(work, name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, "config.json"),
    JSON.stringify({
      auths: { [`http://${registry.host}`]: { auth: btoa(`${user}:${password}`) } },
    }),
  );
  return dir;
}

test("resolveBaseImage() logs in with Basic credentials from $DOCKER_CONFIG/config.json", async () => {
  const env = { DOCKER_CONFIG: await dockerConfig("good", "tester", PASSWORD) };
  const store = new BlobStore(join(work, "cache-good"));
  const base = await resolveBaseImage(`${registry.host}/private/python:bookworm`, amd64, {
    env,
    store,
  });
  assert.equal(base.config.value.architecture, "amd64");
  const stream = await base.blobSource.open(base.layers[0]!);
  await stream.pipeTo(new WritableStream());
  assert.ok(await store.verify(base.layers[0]!));
});

test("resolveBaseImage() asks for a login when a registry needs one and none is configured", async () => {
  const env = { DOCKER_CONFIG: join(work, "nothing-here") };
  await assert.rejects(
    resolveBaseImage(`${registry.host}/private/python:bookworm`, amd64, {
      env,
      store: new BlobStore(join(work, "c1")),
    }),
    (e: unknown) => {
      assert.ok(e instanceof RegistryError);
      assert.equal(
        e.message,
        `registry ${registry.host} requires a login (get manifest private/python:bookworm)`,
      );
      assert.match(e.hint ?? "", new RegExp(`docker login ${registry.host}`));
      return true;
    },
  );
});

test("resolveBaseImage() reports a wrong password without revealing it", async () => {
  const env = { DOCKER_CONFIG: await dockerConfig("bad", "tester", "wrong-password-123") };
  await assert.rejects(
    resolveBaseImage(`${registry.host}/private/python:bookworm`, amd64, {
      env,
      store: new BlobStore(join(work, "c2")),
    }),
    (e: unknown) => {
      assert.ok(e instanceof RegistryError);
      assert.match(
        e.message,
        new RegExp(
          `^registry ${registry.host}: get manifest private/python:bookworm failed: HTTP 401 UNAUTHORIZED`,
        ),
      );
      assert.equal(e.status, 401);
      assert.ok(!JSON.stringify([e.message, e.hint]).includes("wrong-password-123"));
      return true;
    },
  );
});
