/**
 * End-to-end `--include-deps` with the FastAPI app of issue 4: dependencies resolved against a
 * local package index of real wheels (no lock), then installed from the pylock.toml the first
 * build wrote, then from a hashed requirements.txt; the image is run with umoci + runc and asked
 * for `GET /` over HTTP. Also: editing app.py leaves the dependency layer alone, and a file that
 * does not match the lock's hash fails the build without writing anything.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "smol-toml";
import { compareVersions } from "../../src/python/pep440_version.ts";
import { runImage } from "./_runtime.ts";
import { realIndexDir, startIndexServer } from "../python/_index_server.ts";
import {
  buildWithDeps,
  cli,
  copyFixture,
  depsSkipReason,
  getWhenUp,
  imageConfig,
  installedDists,
  layerFiles,
  useDepsFixture,
} from "./_deps.ts";

const skip = await depsSkipReason();
const fx = useDepsFixture("pycontainer-deps-", skip);

async function build(dir: string, extra: string[] = []) {
  const r = await buildWithDeps(fx, dir, ["--json", ...extra]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

type Layer = { digest: string; source: string };
const depLayers = (result: { images: { layers: Layer[] }[] }) =>
  result.images[0]!.layers.filter((l) => l.source !== "base" && l.source !== "app files");

async function assertServes(layout: string, url = "http://127.0.0.1:8080/") {
  const container = await runImage(layout, "latest", { detach: true });
  try {
    const res = await getWhenUp(url, 30_000, () => JSON.stringify(container.output()));
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(JSON.parse(res.body), { message: "Hello from pycontainer!" });
  } finally {
    await container.stop();
  }
}

test(
  "build --include-deps resolves the FastAPI app and it serves JSON on 8080",
  { skip },
  async () => {
    const dir = await copyFixture("fastapi_app", fx.work, "fastapi-nolock");
    const r = await buildWithDeps(fx, dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /resolved \d+ packages for Python 3\.11/);
    assert.match(r.stderr, /^ {2}fastapi==\d/m);
    assert.match(r.stderr, /^ {2}uvloop==\d/m);
    assert.match(r.stderr, /--write-lock pylock\.toml/);
    const layout = join(dir, "dist", "image");
    const config = await imageConfig(layout) as { config: { Env: string[]; Cmd?: string[] } };
    assert.ok(config.config.Env.includes("VIRTUAL_ENV=/app/.venv"), config.config.Env.join());
    assert.ok(config.config.Env.some((e) => e.startsWith("PATH=/app/.venv/bin:")));
    await assertServes(layout);
  },
);

test("build --write-lock, then the discovered pylock.toml gives identical dependency layers", {
  skip,
}, async () => {
  const dir = await copyFixture("fastapi_app", fx.work, "fastapi-lock");
  const lockPath = join(dir, "pylock.toml");
  const first = await build(dir, ["--write-lock", "pylock.toml"]);
  const lock = parse(await readFile(lockPath, "utf8")) as {
    packages: {
      name: string;
      version: string;
      wheels: { name: string; hashes: { sha256: string } }[];
    }[];
  };
  assert.ok(lock.packages.length >= 15, `${lock.packages.length} packages locked`);
  for (const p of lock.packages) {
    const w = p.wheels[0]!;
    assert.equal(w.hashes.sha256, fx.index.sha256.get(w.name), `${p.name}: locked hash`);
  }
  const second = await build(dir);
  assert.deepEqual(depLayers(second), depLayers(first));
  const layout = join(dir, "dist", "image");
  const depFiles = await layerFiles(layout, depLayers(second)[0]!.digest);
  assert.deepEqual(
    installedDists(depFiles),
    lock.packages.map((p) => `${p.name}==${p.version}`).sort(),
  );
  await assertServes(layout);

  // A hashed requirements.txt written from the same resolution installs the same files.
  await rm(lockPath);
  const reqs = lock.packages.map((p) =>
    `${p.name}==${p.version} \\\n    --hash=sha256:${p.wheels[0]!.hashes.sha256}`
  );
  await writeFile(join(dir, "requirements.txt"), `${reqs.join("\n")}\n`);
  const third = await build(dir);
  assert.deepEqual(depLayers(third), depLayers(first));
});

test("a hashed requirements.txt pinning the older line installs exactly those versions", {
  skip,
}, async () => {
  const dir = await copyFixture("fastapi_app", fx.work, "fastapi-old");
  // fetch.sh pins this line (fastapi 0.110.0 + uvicorn 0.29.0); every other package of the set
  // is the oldest version the fixture holds (starlette 0.36.x is the one fastapi 0.110 needs).
  const fixtureVersions = (name: string) =>
    [...fx.index.sha256.keys()]
      .map((f) => f.split("-"))
      .filter(([n]) => n!.toLowerCase().replace(/[-_.]+/g, "-") === name)
      .map(([, v]) => v!)
      .sort(compareVersions);
  const oldLine: Record<string, string> = { fastapi: "0.110.0", uvicorn: "0.29.0" };
  const pins: Record<string, string> = {};
  for (
    const name of [
      "fastapi",
      "starlette",
      "uvicorn",
      "pydantic",
      "pydantic-core",
      "annotated-types",
      "typing-extensions",
      "typing-inspection",
      "anyio",
      "idna",
      "click",
      "h11",
    ]
  ) {
    const versions = fixtureVersions(name);
    assert.ok(versions.length > 0, `${name} in the fixture`);
    pins[name] = oldLine[name] ?? versions[0]!;
  }
  assert.notEqual(pins.starlette, fixtureVersions("starlette").at(-1), "an older starlette");
  const lines: string[] = [];
  for (const [name, version] of Object.entries(pins)) {
    const files = [...fx.index.sha256].filter(([f]) => {
      const [n, v] = f.split("-");
      return n!.toLowerCase().replace(/[-_.]+/g, "-") === name && v === version;
    });
    assert.ok(files.length > 0, `${name} ${version} in the fixture`);
    lines.push(`${name}==${version} ${files.map(([, h]) => `--hash=sha256:${h}`).join(" ")}`);
  }
  await writeFile(join(dir, "requirements.txt"), `${lines.join("\n")}\n`);
  const result = await build(dir);
  const files = await layerFiles(join(dir, "dist", "image"), depLayers(result)[0]!.digest);
  assert.deepEqual(
    installedDists(files),
    Object.entries(pins).map(([n, v]) => `${n}==${v}`).sort(),
  );
  await assertServes(join(dir, "dist", "image"));
});

test("editing app.py changes only the app layer", { skip }, async () => {
  const dir = await copyFixture("fastapi_app", fx.work, "fastapi-edit");
  const first = await build(dir);
  const app = join(dir, "app.py");
  await writeFile(app, (await readFile(app, "utf8")).replace("Hello from", "Hi from"));
  const second = await build(dir);
  assert.deepEqual(depLayers(second), depLayers(first));
  const appLayer = (r: { images: { layers: Layer[] }[] }) =>
    r.images[0]!.layers.find((l) => l.source === "app files")!.digest;
  assert.notEqual(appLayer(second), appLayer(first));
});

test("a wheel that does not match the lock's sha256 fails the build and writes nothing", {
  skip,
}, async () => {
  const dir = await copyFixture("fastapi_app", fx.work, "fastapi-tamper");
  await build(dir, ["--write-lock", "pylock.toml", "--output", join(fx.work, "tamper-first")]);
  const lock = await readFile(join(dir, "pylock.toml"), "utf8");
  const uvloop = /name = "(uvloop-[^"]+\.whl)"/.exec(lock)![1]!;
  const tampered = await startIndexServer({ dirs: [realIndexDir()], corrupt: [uvloop] });
  try {
    // The lock points at the first index; point it at the tampering one.
    await writeFile(join(dir, "pylock.toml"), lock.replaceAll(fx.index.origin, tampered.origin));
    const out = join(fx.work, "tamper-out");
    const r = await cli([
      "build",
      "-C",
      dir,
      "--include-deps",
      "--base-image",
      fx.base,
      "--output",
      out,
    ], { PYCONTAINER_CACHE_DIR: join(fx.work, "cache-tamper") });
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /error: uvloop [\d.]+: the file downloaded from .*uvloop.* has sha256 [0-9a-f]{64}, expected/,
    );
    assert.match(r.stderr, /hint: .*lock/);
    await assert.rejects(stat(out), { code: "ENOENT" });
    assert.ok(tampered.hits.some((h) => h.path.includes(uvloop)));
  } finally {
    await tampered.close();
  }
});
