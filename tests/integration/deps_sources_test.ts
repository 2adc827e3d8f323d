/**
 * `--include-deps` with packages that are not plain wheels on the index: an sdist-only package
 * built by the host's pip (accepted when pure Python, refused with the options when the built
 * wheel is for the host's platform, refused with the options when there is no pip or uv), a
 * wheel from a `--find-links` directory, and malicious wheels on the index (path traversal,
 * symlink entry, bad RECORD) which must fail the build and write no image.
 *
 * The sdists are made here: a tiny project with an in-tree PEP 517 backend (`backend.py`, no build
 * requirements, so pip needs no network) whose wheel tag the test chooses.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runtimeSkipReason } from "./_runtime.ts";
import { baseLayoutPath } from "./_registry.ts";
import { cli, installedDists, layerFiles } from "./_deps.ts";
import { type IndexServer, type MemoryFile, startIndexServer } from "../python/_index_server.ts";
import { formatRecord, recordHash } from "../../src/python/record.ts";
import { writeZip } from "../python/_zip_writer.ts";
import { findSdistBuilder } from "../../src/build/sdist_build.ts";

const hasPip = (await findSdistBuilder(process.env)) !== undefined;
const skip = await runtimeSkipReason();
let work: string;
let base: string;
let index: IndexServer;
let evil: { url: string; server: Server };

const BACKEND = `
import base64, hashlib, os, zipfile

TAG = "@TAG@"
NAME, VERSION = "@NAME@", "1.0"


def _record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    info = f"{NAME}-{VERSION}.dist-info"
    files = {
        f"{NAME}/__init__.py": b"GREETING = 'built from an sdist'\\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\\nName: {NAME}\\nVersion: {VERSION}\\n".encode(),
        f"{info}/WHEEL": f"Wheel-Version: 1.0\\nRoot-Is-Purelib: true\\nTag: {TAG}\\n".encode(),
    }
    record = [_record_line(n, d) for n, d in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\\n".join(record) + "\\n").encode()
    filename = f"{NAME}-{VERSION}-{TAG}.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as z:
        for n, d in files.items():
            z.writestr(zipfile.ZipInfo(n, (2020, 1, 1, 0, 0, 0)), d)
    return filename


def get_requires_for_build_wheel(config_settings=None):
    return []
`;

/** An sdist `NAME-1.0.tar.gz` whose backend builds a wheel tagged `tag`. */
async function makeSdist(name: string, tag: string): Promise<MemoryFile> {
  const dir = await mkdtemp(join(work, "sdist-"));
  const root = join(dir, `${name}-1.0`);
  await mkdir(root);
  await writeFile(
    join(root, "pyproject.toml"),
    `[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n\n` +
      `[project]\nname = "${name}"\nversion = "1.0"\n`,
  );
  await writeFile(
    join(root, "PKG-INFO"),
    `Metadata-Version: 2.1\nName: ${name}\nVersion: 1.0\n`,
  );
  await writeFile(
    join(root, "backend.py"),
    BACKEND.replace("@TAG@", tag).replace("@NAME@", name),
  );
  const tar = spawnSync("tar", ["-czf", `${name}-1.0.tar.gz`, `${name}-1.0`], { cwd: dir });
  assert.equal(tar.status, 0, String(tar.stderr));
  return { filename: `${name}-1.0.tar.gz`, bytes: await readFile(join(dir, `${name}-1.0.tar.gz`)) };
}

/** A valid pure wheel (with a correct RECORD). */
function recordedWheel(name: string, version: string): MemoryFile {
  const info = `${name}-${version}.dist-info`;
  const files: [string, string][] = [
    [`${name}/__init__.py`, `__version__ = "${version}"\n`],
    [`${info}/METADATA`, `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n`],
    [`${info}/WHEEL`, "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"],
  ];
  const enc = new TextEncoder();
  const rows = files.map(([path, text]) => ({
    path,
    hash: recordHash(enc.encode(text)),
    size: String(enc.encode(text).length),
  }));
  const record = formatRecord([...rows, { path: `${info}/RECORD`, hash: "", size: "" }]);
  return {
    filename: `${name}-${version}-py3-none-any.whl`,
    bytes: writeZip(
      [...files, [`${info}/RECORD`, record]].map(([n, d]) => ({ name: n!, data: d! })),
    ),
  };
}

/** A wheel with an extra hostile entry. */
function evilWheel(name: string, entry: { name: string; data: string; mode?: number }) {
  const info = `${name}-1.0.dist-info`;
  return {
    filename: `${name}-1.0-py3-none-any.whl`,
    bytes: writeZip([
      { name: `${name}/__init__.py`, data: "" },
      entry,
      { name: `${info}/METADATA`, data: `Metadata-Version: 2.1\nName: ${name}\nVersion: 1.0\n` },
      {
        name: `${info}/WHEEL`,
        data: "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
      },
      ...(entry.name.endsWith("/RECORD") ? [] : [{ name: `${info}/RECORD`, data: "" }]),
    ]),
  };
}

/**
 * A minimal PEP 691 index for wheels the shared test index can't list (it reads every wheel with
 * the real zip reader, which rejects these): PEP 658 metadata is served, so resolution succeeds
 * and the wheel reaches the installer.
 */
async function startEvilIndex(wheels: MemoryFile[]) {
  const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
  const server = createServer((req, res) => {
    const path = req.url ?? "/";
    const page = /^\/simple\/([^/]+)\/$/.exec(path);
    const file = /^\/files\/(.+?)(\.metadata)?$/.exec(path);
    if (page) {
      const files = wheels.filter((w) => w.filename.startsWith(`${page[1]}-`));
      if (files.length === 0) return res.writeHead(404).end();
      res.writeHead(200, { "content-type": "application/vnd.pypi.simple.v1+json" });
      return res.end(JSON.stringify({
        meta: { "api-version": "1.1" },
        name: page[1],
        files: files.map((w) => ({
          filename: w.filename,
          url: `/files/${w.filename}`,
          hashes: { sha256: sha(w.bytes) },
          "core-metadata": { sha256: sha(metadataOf(w.filename)) },
        })),
      }));
    }
    const w = file && wheels.find((x) => x.filename === file[1]);
    if (!w) return res.writeHead(404).end();
    res.writeHead(200).end(file![2] ? metadataOf(w.filename) : w.bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/simple/`, server };
}

function metadataOf(filename: string): Uint8Array {
  const name = filename.split("-")[0];
  return new TextEncoder().encode(`Metadata-Version: 2.1\nName: ${name}\nVersion: 1.0\n`);
}

before(async () => {
  if (skip) return;
  work = await mkdtemp(join(tmpdir(), "pycontainer-sources-"));
  base = `oci-layout:${baseLayoutPath()}:bookworm`;
  evil = await startEvilIndex([
    evilWheel("traversal", { name: "../../../etc/cron.d/evil", data: "* * * * * root id\n" }),
    evilWheel("symlinked", { name: "symlinked/link", data: "/etc/shadow", mode: 0o120777 }),
    evilWheel("badrecord", {
      name: "badrecord-1.0.dist-info/RECORD",
      data: "badrecord/__init__.py,sha256=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA,0\n",
    }),
  ]);
  index = await startIndexServer({
    files: [
      await makeSdist("puresdist", "py3-none-any"),
      await makeSdist("hostsdist", "cp311-cp311-linux_x86_64"),
    ],
  });
});

after(async () => {
  if (skip) return;
  await index?.close();
  await new Promise((resolve) => evil?.server.close(resolve));
  await rm(work, { recursive: true, force: true });
});

async function project(name: string, deps: string[]): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, "pyproject.toml"),
    `[project]\nname = "${name}"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n` +
      `dependencies = ${JSON.stringify(deps)}\n`,
  );
  await writeFile(join(dir, "main.py"), "print('hi')\n");
  return dir;
}

function build(dir: string, extra: string[] = [], env: Record<string, string> = {}) {
  return cli([
    "build",
    "-C",
    dir,
    "--include-deps",
    "--base-image",
    base,
    "--index-url",
    index.url,
    ...extra,
  ], { PYCONTAINER_CACHE_DIR: join(work, "cache"), ...env });
}

test("an sdist-only pure-Python dependency is built with pip and installed", {
  skip: skip ?? (hasPip ? false : "no pip or uv on PATH"),
}, async () => {
  const dir = await project("usesdist", ["puresdist"]);
  const r = await build(dir, ["--json", "--write-lock", "pylock.toml"]);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  const dep = result.images[0].layers.find((l: { source: string }) => l.source === "dependencies");
  const files = await layerFiles(join(dir, "dist", "image"), dep.digest);
  const init = files.find((f) => f.name.endsWith("site-packages/puresdist/__init__.py"));
  assert.equal(new TextDecoder().decode(init?.data), "GREETING = 'built from an sdist'\n");
  assert.ok(files.some((f) => f.name.endsWith("puresdist-1.0.dist-info/RECORD")));
  // The lock names the built wheel by path: it exists only in this machine's cache.
  const lock = await readFile(join(dir, "pylock.toml"), "utf8");
  assert.match(lock, /name = "puresdist-1\.0-py3-none-any\.whl", .*path = "\/.*built-wheels\//);
  // A second build installs from that lock and reuses the built wheel: same layer.
  const again = await build(dir, ["--json"]);
  assert.equal(again.code, 0, again.stderr);
  const dep2 = JSON.parse(again.stdout).images[0].layers.find((l: { source: string }) =>
    l.source === "dependencies"
  );
  assert.equal(dep2.digest, dep.digest);
});

test("an sdist whose wheel is built for the host's platform is refused with the options", {
  skip: skip ?? (hasPip ? false : "no pip or uv on PATH"),
}, async () => {
  const dir = await project("usehost", ["hostsdist"]);
  const r = await build(dir);
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /error: hostsdist 1\.0 has no wheel for the target, only an sdist: the wheel built from its sdist on this host is hostsdist-1\.0-cp311-cp311-linux_x86_64\.whl .* does not fit CPython 3\.11\.\d+, linux\/x86_64/,
  );
  assert.match(r.stderr, /hint: pin a version .*build the wheel on the target .*--find-links/);
  await assert.rejects(stat(join(dir, "dist")), { code: "ENOENT" });
});

test("without uv or pip an sdist-only dependency fails naming the package and the options", {
  skip,
}, async () => {
  const dir = await project("nobuilder", ["puresdist"]);
  const r = await build(dir, [], { PATH: "/nonexistent", PYCONTAINER_CACHE_DIR: join(work, "c2") });
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /error: puresdist 1\.0 has no wheel for the target, only an sdist: neither uv nor pip is on PATH/,
  );
  assert.match(r.stderr, /hint: .*--find-links DIR/);
});

test("a direct wheel reference (name @ URL) is installed, and the lock pins its URL and hash", {
  skip,
}, async () => {
  const wheel = recordedWheel("directpkg", "1.5");
  const host = await startIndexServer({ files: [wheel] });
  try {
    const url = `${host.origin}/files/${wheel.filename}`;
    const dir = await project("usedirect", [`directpkg @ ${url}`]);
    const r = await build(dir, ["--json", "--write-lock", "pylock.toml"]);
    assert.equal(r.code, 0, r.stderr);
    const dep = JSON.parse(r.stdout).images[0].layers.find((l: { source: string }) =>
      l.source === "dependencies"
    );
    const files = await layerFiles(join(dir, "dist", "image"), dep.digest);
    const init = files.find((f) => f.name.endsWith("site-packages/directpkg/__init__.py"));
    assert.equal(new TextDecoder().decode(init?.data), '__version__ = "1.5"\n');
    const lock = await readFile(join(dir, "pylock.toml"), "utf8");
    assert.ok(lock.includes(url), lock);
    assert.ok(lock.includes(host.sha256.get(wheel.filename)!), lock);
    const again = await build(dir, ["--json"]);
    assert.equal(again.code, 0, again.stderr);
    const dep2 = JSON.parse(again.stdout).images[0].layers.find((l: { source: string }) =>
      l.source === "dependencies"
    );
    assert.equal(dep2.digest, dep.digest);
  } finally {
    await host.close();
  }
});

test("a direct sdist reference is built like an index sdist", {
  skip: skip ?? (hasPip ? false : "no pip or uv on PATH"),
}, async () => {
  const dir = await project("usedirectsdist", [
    `puresdist @ ${index.url.replace(/simple\/$/, "")}files/puresdist-1.0.tar.gz`,
  ]);
  const r = await build(dir, ["--json"]);
  assert.equal(r.code, 0, r.stderr);
  const dep = JSON.parse(r.stdout).images[0].layers.find((l: { source: string }) =>
    l.source === "dependencies"
  );
  const files = await layerFiles(join(dir, "dist", "image"), dep.digest);
  assert.ok(files.some((f) => f.name.endsWith("site-packages/puresdist/__init__.py")));
});

test("--find-links installs a wheel that no index has", { skip }, async () => {
  const dir = await project("findlinks", ["localonly>=2"]);
  const wheels = join(dir, "wheels");
  await mkdir(wheels);
  for (const v of ["1.0", "2.0"]) {
    const w = recordedWheel("localonly", v);
    await writeFile(join(wheels, w.filename), w.bytes);
  }
  const r = await build(dir, ["--find-links", "wheels", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const dep = JSON.parse(r.stdout).images[0].layers.find((l: { source: string }) =>
    l.source === "dependencies"
  );
  const files = await layerFiles(join(dir, "dist", "image"), dep.digest);
  const init = files.find((f) => f.name.endsWith("site-packages/localonly/__init__.py"));
  assert.equal(new TextDecoder().decode(init?.data), '__version__ = "2.0"\n');
  const without = await build(await project("nofindlinks", ["localonly>=2"]));
  assert.equal(without.code, 1);
  assert.match(without.stderr, /localonly/);
});

test("--extra and --group add to the resolution; --lock installs from a named lock", {
  skip,
}, async () => {
  const dir = await project("extras", ["localonly>=2"]);
  await writeFile(
    join(dir, "pyproject.toml"),
    (await readFile(join(dir, "pyproject.toml"), "utf8")) +
      '\n[project.optional-dependencies]\nfancy = ["extraonly"]\n' +
      '\n[dependency-groups]\nops = ["grouponly"]\nunused = ["missing-everywhere"]\n',
  );
  const wheels = join(dir, "wheels");
  await mkdir(wheels);
  for (
    const [name, version] of [["localonly", "2.0"], ["extraonly", "1.1"], ["grouponly", "3.0"]]
  ) {
    const w = recordedWheel(name!, version!);
    await writeFile(join(wheels, w.filename), w.bytes);
  }
  const dists = async (stdout: string) => {
    const result = JSON.parse(stdout);
    const dep = result.images[0].layers.find((l: { source: string }) =>
      l.source === "dependencies"
    );
    return {
      digest: dep.digest as string,
      names: installedDists(await layerFiles(join(dir, "dist", "image"), dep.digest)),
    };
  };
  const plain = await build(dir, ["--find-links", "wheels", "--json"]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.deepEqual((await dists(plain.stdout)).names, ["localonly==2.0"]);

  const lockPath = join(dir, "locks", "pylock.prod.toml");
  const full = await build(dir, [
    "--find-links",
    "wheels",
    "--extra",
    "fancy",
    "--group",
    "ops",
    "--write-lock",
    "locks/pylock.prod.toml",
    "--json",
  ]);
  assert.equal(full.code, 0, full.stderr);
  const withExtras = await dists(full.stdout);
  assert.deepEqual(withExtras.names, ["extraonly==1.1", "grouponly==3.0", "localonly==2.0"]);
  const lock = await readFile(lockPath, "utf8");
  assert.match(lock, /^extras = \["fancy"\]$/m);
  assert.match(lock, /^dependency-groups = \["ops"\]$/m);

  const fromLock = await build(dir, ["--lock", "locks/pylock.prod.toml"]);
  assert.equal(fromLock.code, 0, fromLock.stderr);
  assert.match(fromLock.stderr, /installing from .*locks\/pylock\.prod\.toml/);
  const again = await build(dir, ["--lock", "locks/pylock.prod.toml", "--json"]);
  assert.equal((await dists(again.stdout)).digest, withExtras.digest);

  const typo = await build(dir, ["--find-links", "wheels", "--extra", "fancey"]);
  assert.equal(typo.code, 2, typo.stderr);
  assert.match(typo.stderr, /error: --extra: the project has no extra "fancey"/);
  assert.match(typo.stderr, /hint: choose from: fancy/);
  const missing = await build(dir, ["--lock", "locks/pylock.nope.toml"]);
  assert.equal(missing.code, 2, missing.stderr);
  assert.match(
    missing.stderr,
    /the configured lock file .*locks\/pylock\.nope\.toml does not exist/,
  );
});

for (
  const [pkg, message] of [
    ["traversal", /traversal-1\.0-py3-none-any\.whl is rejected: .*\.\./],
    [
      "symlinked",
      /symlinked-1\.0-py3-none-any\.whl is rejected: "symlinked\/link" is a symbolic link/,
    ],
    ["badrecord", /badrecord.*RECORD/],
  ] as const
) {
  test(`a malicious wheel (${pkg}) on the index fails the build and writes no image`, {
    skip,
  }, async () => {
    const dir = await project(`uses-${pkg}`, [pkg]);
    const r = await build(dir, ["--extra-index-url", evil.url]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, message);
    assert.match(r.stderr, /^hint: /m);
    await assert.rejects(stat(join(dir, "dist")), { code: "ENOENT" });
  });
}
