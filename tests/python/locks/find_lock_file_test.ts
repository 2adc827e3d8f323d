import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PycontainerError } from "../../../src/errors.ts";
import {
  findLockFile,
  LOCK_FILE_ORDER,
  lockKindOf,
  readLockFile,
} from "../../../src/python/locks/find_lock_file.ts";
import { FIXTURES } from "./_targets.ts";

const SOURCES: Record<string, string> = {
  "uv.lock": `${FIXTURES}/uv/uv.lock`,
  "pylock.toml": `${FIXTURES}/uv/pylock.toml`,
  "poetry.lock": `${FIXTURES}/poetry/poetry.lock`,
  "requirements.txt": `${FIXTURES}/uv/requirements.txt`,
};

async function withProject(names: string[], f: (dir: string) => Promise<void>) {
  const dir = await mkdtemp(join(tmpdir(), "pycontainer-locks-"));
  try {
    for (const name of names) {
      const src = SOURCES[name] ?? `${FIXTURES}/pylock/pylock.multi.toml`;
      await mkdir(join(dir, name, ".."), { recursive: true });
      await copyFile(src, join(dir, name));
    }
    await f(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("findLockFile() takes the first of uv.lock, pylock.toml, poetry.lock, requirements.txt", async () => {
  for (let i = 0; i < LOCK_FILE_ORDER.length; i++) {
    const present = LOCK_FILE_ORDER.slice(i);
    await withProject([...present].reverse(), async (dir) => {
      const found = await findLockFile(dir);
      assert.deepEqual(found, { kind: present[0], path: join(dir, present[0] as string) });
      const lock = await readLockFile(found as NonNullable<typeof found>);
      assert.equal(lock.kind, present[0]);
      assert.ok(lock.packages.length > 10);
    });
  }
  await withProject([], async (dir) => assert.equal(await findLockFile(dir), undefined));
});

test("findLockFile() ignores named pylocks and directories unless configured", async () => {
  await withProject(["pylock.prod.toml", "requirements/prod.txt", "poetry.lock"], async (dir) => {
    await mkdir(join(dir, "uv.lock"));
    assert.equal((await findLockFile(dir))?.kind, "poetry.lock");
    const named = await findLockFile(dir, { prefer: "pylock.prod.toml" });
    assert.deepEqual(named, { kind: "pylock.toml", path: join(dir, "pylock.prod.toml") });
    assert.equal(
      (await readLockFile(named as NonNullable<typeof named>)).defaultGroups?.[0],
      "docs",
    );
    const reqs = await findLockFile(dir, { prefer: "requirements/prod.txt" });
    assert.equal(reqs?.kind, "requirements.txt");
    assert.equal(
      (await findLockFile(dir, { prefer: "poetry.lock" }))?.path,
      join(dir, "poetry.lock"),
    );
  });
});

test("findLockFile() fails clearly for a configured file that is missing or unknown", async () => {
  await withProject(["poetry.lock"], async (dir) => {
    await assert.rejects(
      findLockFile(dir, { prefer: "uv.lock" }),
      (e: unknown) =>
        e instanceof PycontainerError && e.exitCode === 2 &&
        e.message === `the configured lock file ${join(dir, "uv.lock")} does not exist`,
    );
    await writeFile(join(dir, "Pipfile.lock"), "{}");
    await assert.rejects(
      findLockFile(dir, { prefer: "Pipfile.lock" }),
      (e: unknown) =>
        e instanceof PycontainerError && (e.hint ?? "").includes("pylock.<name>.toml"),
    );
  });
});

test("lockKindOf() knows the file names PEP 751 and pip use", () => {
  assert.equal(lockKindOf("/a/uv.lock"), "uv.lock");
  assert.equal(lockKindOf("pylock.toml"), "pylock.toml");
  assert.equal(lockKindOf("pylock.dev.toml"), "pylock.toml");
  assert.equal(lockKindOf("pylock.a.b.toml"), undefined);
  assert.equal(lockKindOf("requirements-dev.in"), "requirements.txt");
  assert.equal(lockKindOf("Pipfile.lock"), undefined);
});
