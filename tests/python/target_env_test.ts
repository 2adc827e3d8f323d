/**
 * Tests for target environment detection: the real Debian bookworm base image that
 * `tests/integration/make_base_image.sh` builds (read through its OCI layout), and synthetic
 * bases whose layers are written here with the project's own layer writer — an official-python
 * layout, Alpine/musl, whiteouts and opaque directories, banner-only detection, no Python at
 * all, overrides and the per-digest cache.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { PycontainerError } from "../../src/errors.ts";
import { fileEntry, type LayerEntry } from "../../src/layer/entry.ts";
import { writeLayer } from "../../src/layer/tar_writer.ts";
import { describeBytes, digestOf } from "../../src/oci/digest.ts";
import type { Descriptor, ImageConfig, Platform } from "../../src/oci/types.ts";
import { type BaseImage, resolveBaseImage } from "../../src/registry/base_image.ts";
import { type BlobSource, memoryBlobSource } from "../../src/store/blob_source.ts";
import {
  parseApkInstalled,
  parseDpkgStatus,
  upstreamVersion,
} from "../../src/python/_base_facts.ts";
import {
  detectTargetEnvironment,
  parseLibc,
  type TargetEnvironment,
} from "../../src/python/target_env.ts";

const AMD64: Platform = { os: "linux", architecture: "amd64" };
const ARM64: Platform = { os: "linux", architecture: "arm64" };
const GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
const cacheRoot = process.env.PYCONTAINER_TEST_CACHE ??
  join(homedir(), ".cache", "pycontainer-test");
const layout = join(cacheRoot, "base-layout");
const opts = { timeout: 120_000 };

/** A blob source that records which blobs were opened. */
function counting(source: BlobSource): { source: BlobSource; opened: string[] } {
  const opened: string[] = [];
  return {
    opened,
    source: {
      has: (d) => source.has(d),
      open: (d) => {
        opened.push(d.digest);
        return source.open(d);
      },
    },
  };
}

async function gzLayer(entries: LayerEntry[]): Promise<{ bytes: Uint8Array; d: Descriptor }> {
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  const sink = new WritableStream<Uint8Array>({ write: (c) => void chunks.push(c.slice()) });
  const l = await writeLayer(entries, sink);
  const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
  return { bytes, d: { mediaType: GZIP, digest: l.digest, size: l.size } };
}

/** A base image made of the given layers (bottom first), as resolveBaseImage would return it. */
async function syntheticBase(
  name: string,
  layers: LayerEntry[][],
  env: string[] = [],
  platform: Platform = AMD64,
): Promise<BaseImage & { opened: string[] }> {
  const written = await Promise.all(layers.map(gzLayer));
  const config: ImageConfig = {
    architecture: platform.architecture,
    os: platform.os,
    config: { Env: ["PATH=/usr/local/bin:/usr/bin:/bin", ...env] },
    rootfs: { type: "layers", diff_ids: [] },
  };
  const configBytes = new TextEncoder().encode(JSON.stringify(config));
  const manifest = {
    schemaVersion: 2 as const,
    config: describeBytes(configBytes, "application/vnd.oci.image.config.v1+json"),
    layers: written.map((w) => w.d),
  };
  const { source, opened } = counting(memoryBlobSource(written.map((w) => w.bytes)));
  return {
    reference: `oci-layout:/test/${name}:latest`,
    kind: "oci-layout",
    manifestDigest: digestOf(JSON.stringify(manifest)),
    manifest,
    config: { descriptor: manifest.config, value: config },
    layers: manifest.layers,
    platform,
    blobSource: source,
    opened,
  };
}

/** Bytes that look like a binary with a NUL-delimited version string deep inside. */
function binaryWith(banner: string, padding = 200_000): Uint8Array {
  const text = "\x7fELF" + "\x00\x01".repeat(padding) + `\x00${banner}\x00` +
    "\x00\x02".repeat(500);
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function dpkg(packages: Record<string, string>): string {
  return Object.entries(packages)
    .map(([p, v]) =>
      `Package: ${p}\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${v}\n`
    )
    .join("\n");
}

const debianRoot = (): LayerEntry[] => [
  { type: "symlink", path: "lib", target: "usr/lib" },
  { type: "symlink", path: "bin", target: "usr/bin" },
  fileEntry("usr/lib/x86_64-linux-gnu/libc.so.6", binaryWith("stable release version 2.36.", 10)),
  fileEntry("var/lib/dpkg/status", dpkg({ libc6: "2.36-9+deb12u4", bash: "5.2.15-2+b2" })),
  fileEntry("etc/debian_version", "12.7\n"),
];

async function withCache<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "target-env-test-"));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function rejection(p: Promise<unknown>): Promise<PycontainerError> {
  const e = await p.then(() => undefined, (err) => err);
  assert.ok(e instanceof PycontainerError, `expected a PycontainerError, got ${e}`);
  return e;
}

const realSkip = existsSync(join(layout, ".complete"))
  ? false
  : `no base image at ${layout} (run tests/integration/make_base_image.sh)`;

test("detectTargetEnvironment() reads the Debian bookworm base and caches the result", {
  ...opts,
  skip: realSkip,
}, async () => {
  await withCache(async (cache) => {
    const base = await resolveBaseImage(`oci-layout:${layout}:bookworm`, AMD64);
    const first = counting(base.blobSource);
    const env = await detectTargetEnvironment({ ...base, blobSource: first.source }, AMD64, {
      cache,
    });
    assert.equal(env.pythonPath, "/usr/bin/python3.11");
    assert.equal(env.pythonHome, "/usr/bin");
    assert.equal(env.pythonVersion, "3.11");
    assert.match(env.pythonFullVersion, /^3\.11\.\d+$/);
    assert.deepEqual(env.libc, { family: "glibc", version: "2.36" });
    assert.equal(env.platformMachine, "x86_64");
    assert.equal(env.markerEnv.platform_machine, "x86_64");
    assert.equal(env.markerEnv.python_full_version, env.pythonFullVersion);
    assert.equal(env.sitePackagesRel, "lib/python3.11/site-packages");
    // packaging's order: linux_<arch> first, then manylinux from the glibc version down.
    assert.deepEqual(env.tags.slice(0, 3), [
      "cp311-cp311-linux_x86_64",
      "cp311-cp311-manylinux_2_36_x86_64",
      "cp311-cp311-manylinux_2_35_x86_64",
    ]);
    assert.ok(!env.tags.some((t) => t.includes("musllinux")));
    assert.match(env.sources.libc, /dpkg\/status \(libc6 2\.36-/);
    assert.match(env.sources.version, /python3\.11-minimal/);
    assert.equal(env.cached, false);
    assert.equal(first.opened.length, 1);

    const files = await readdir(join(cache, "target-env"));
    assert.equal(files.length, 1);
    assert.ok(files[0]?.startsWith(base.manifestDigest?.slice(7) ?? "?"));

    const second = counting(base.blobSource);
    const again = await detectTargetEnvironment({ ...base, blobSource: second.source }, AMD64, {
      cache,
    });
    assert.deepEqual(second.opened, [], "a cached base must not open any layer");
    assert.equal(again.cached, true);
    assert.deepEqual({ ...again, cached: false }, env);
  });
});

test("detectTargetEnvironment() uses PYTHON_VERSION and stops before the distribution layer", async () => {
  const base = await syntheticBase("official", [
    debianRoot(),
    [fileEntry("var/lib/dpkg/status", dpkg({ libc6: "2.36-9+deb12u4", "ca-certificates": "1" }))],
    [
      fileEntry("usr/local/bin/python3.12", binaryWith("3.12.7"), 0o755),
      { type: "symlink", path: "usr/local/bin/python3", target: "python3.12" },
      fileEntry("usr/local/lib/python3.12/os.py", "# os\n"),
    ],
  ], ["PYTHON_VERSION=3.12.7", "GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D"]);
  const env = await detectTargetEnvironment(base, AMD64, { cache: false });
  assert.equal(env.pythonPath, "/usr/local/bin/python3.12");
  assert.equal(env.pythonHome, "/usr/local/bin");
  assert.equal(env.pythonFullVersion, "3.12.7");
  assert.equal(env.sources.version, "config PYTHON_VERSION");
  assert.deepEqual(env.libc, { family: "glibc", version: "2.36" });
  assert.equal(env.tags[1], "cp312-cp312-manylinux_2_36_x86_64");
  assert.equal(env.sitePackagesRel, "lib/python3.12/site-packages");
  // The python layer and the apt layer answer everything: the root filesystem is never opened.
  assert.deepEqual(base.opened, [base.layers[2]?.digest, base.layers[1]?.digest]);
});

test("detectTargetEnvironment() finds musl and apk's python on Alpine for arm64", async () => {
  const apk = [
    "C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:aarch64\nT:the musl c library\n",
    "C:Q1def=\nP:python3\nV:3.12.8-r1\nA:aarch64\n",
    "",
  ].join("\n");
  const base = await syntheticBase(
    "alpine",
    [[
      fileEntry("lib/ld-musl-aarch64.so.1", binaryWith("1.2.4", 10), 0o755),
      { type: "symlink", path: "lib/libc.musl-aarch64.so.1", target: "ld-musl-aarch64.so.1" },
      fileEntry("lib/apk/db/installed", apk),
      fileEntry("usr/bin/python3.12", binaryWith("3.12.8"), 0o755),
      { type: "symlink", path: "usr/bin/python3", target: "python3.12" },
    ]],
    [],
    ARM64,
  );
  const env = await detectTargetEnvironment(base, ARM64, { cache: false });
  assert.equal(env.pythonPath, "/usr/bin/python3.12");
  assert.equal(env.pythonFullVersion, "3.12.8");
  assert.deepEqual(env.libc, { family: "musl", version: "1.2" });
  assert.equal(env.platformMachine, "aarch64");
  assert.equal(env.arch, "arm64");
  assert.deepEqual(env.tags.slice(0, 4), [
    "cp312-cp312-linux_aarch64",
    "cp312-cp312-musllinux_1_2_aarch64",
    "cp312-cp312-musllinux_1_1_aarch64",
    "cp312-cp312-musllinux_1_0_aarch64",
  ]);
  assert.ok(!env.tags.some((t) => t.includes("manylinux")));
  assert.match(env.sources.libc, /apk\/db\/installed \(musl 1\.2\.4-r2\)/);
});

test("detectTargetEnvironment() honours whiteouts and opaque directories", async () => {
  const base = await syntheticBase("whiteout", [
    [
      ...debianRoot(),
      fileEntry("usr/bin/python3.11", binaryWith("3.11.2"), 0o755),
      fileEntry("usr/bin/python3.13", binaryWith("3.13.1"), 0o755),
      fileEntry("usr/local/bin/python3.14", binaryWith("3.14.0"), 0o755),
    ],
    [
      fileEntry("usr/bin/.wh.python3.13", ""),
      fileEntry("usr/local/bin/.wh..wh..opq", ""),
      fileEntry("usr/local/bin/tool", "#!/bin/sh\n", 0o755),
    ],
  ]);
  const env = await detectTargetEnvironment(base, AMD64, { cache: false });
  assert.equal(env.pythonPath, "/usr/bin/python3.11");
  assert.equal(env.pythonFullVersion, "3.11.2");
  assert.equal(env.sources.version, "/usr/bin/python3.11 (banner)");
});

test("detectTargetEnvironment() falls back from a deleted PYTHON_VERSION interpreter", async () => {
  const base = await syntheticBase("deleted", [
    [
      ...debianRoot(),
      fileEntry("usr/local/bin/python3.12", binaryWith("3.12.7"), 0o755),
      fileEntry("usr/bin/python3.11", binaryWith("3.11.2"), 0o755),
    ],
    [fileEntry("usr/local/bin/.wh.python3.12", "")],
  ], ["PYTHON_VERSION=3.12.7"]);
  const env = await detectTargetEnvironment(base, AMD64, { cache: false });
  assert.equal(env.pythonPath, "/usr/bin/python3.11");
  assert.equal(env.pythonFullVersion, "3.11.2");
  assert.deepEqual(base.opened.length, 2);
});

test("detectTargetEnvironment() reads glibc and CPython banners without package databases", async () => {
  const base = await syntheticBase("banners", [[
    { type: "symlink", path: "lib", target: "usr/lib" },
    fileEntry("usr/lib64/libc.so.6", binaryWith("stable release version 2.34.", 40_000)),
    fileEntry("usr/bin/python3.9", binaryWith("3.9.18", 300_000), 0o755),
  ]]);
  const env = await detectTargetEnvironment(base, AMD64, { cache: false });
  assert.equal(env.pythonPath, "/usr/bin/python3.9");
  assert.equal(env.pythonFullVersion, "3.9.18");
  assert.deepEqual(env.libc, { family: "glibc", version: "2.34" });
  assert.equal(env.sources.libc, "/usr/lib64/libc.so.6");
});

test("detectTargetEnvironment() names the base and the paths checked when there is no Python", async () => {
  const base = await syntheticBase("nopython", [debianRoot()]);
  const e = await rejection(detectTargetEnvironment(base, AMD64, { cache: false }));
  assert.equal(e.exitCode, 2);
  assert.match(e.message, /no Python interpreter in base image oci-layout:\/test\/nopython:latest/);
  assert.match(e.message, /\/usr\/local\/bin\/python3\.Y, \/usr\/bin\/python3\.Y/);
  assert.match(e.hint ?? "", /python base image|Python base image/);
});

test("detectTargetEnvironment() rejects scratch", async () => {
  const base = await resolveBaseImage("scratch", AMD64);
  const e = await rejection(detectTargetEnvironment(base, AMD64, { cache: false }));
  assert.match(e.message, /scratch has no Python/);
  assert.equal(e.exitCode, 2);
});

test("detectTargetEnvironment() explains an undetectable C library and accepts a libc override", async () => {
  const layers = [[
    fileEntry("usr/bin/python3.12", binaryWith("3.12.1"), 0o755),
    { type: "symlink", path: "lib64/ld-linux-x86-64.so.2", target: "/usr/lib/ld.so" } as const,
  ]];
  const base = await syntheticBase("nolibc", layers);
  const e = await rejection(detectTargetEnvironment(base, AMD64, { cache: false }));
  assert.match(
    e.message,
    /uses glibc \(\/lib64\/ld-linux-x86-64\.so\.2\) but its version could not be read/,
  );
  assert.match(e.hint ?? "", /libc = "glibc 2\.36"/);

  const musl = await syntheticBase("nomuslversion", [[
    fileEntry("usr/bin/python3.12", "", 0o755),
    fileEntry("lib/ld-musl-x86_64.so.1", "", 0o755),
  ]]);
  const m = await rejection(detectTargetEnvironment(musl, AMD64, { cache: false }));
  assert.match(m.message, /uses musl .* no apk database/);

  const env = await detectTargetEnvironment(base, AMD64, {
    cache: false,
    overrides: { libc: "glibc 2.28" },
  });
  assert.deepEqual(env.libc, { family: "glibc", version: "2.28" });
  assert.equal(env.sources.libc, "override");
  assert.equal(env.pythonFullVersion, "3.12.1");
});

test("detectTargetEnvironment() reads no layer when overrides say everything", async () => {
  const base = await syntheticBase("overridden", [debianRoot()]);
  const env = await detectTargetEnvironment(base, ARM64, {
    cache: false,
    overrides: {
      pythonPath: "/opt/python/bin/python3.13",
      pythonVersion: "3.13.1",
      libc: { family: "glibc", version: "2.31" },
    },
  });
  assert.deepEqual(base.opened, []);
  assert.equal(env.pythonHome, "/opt/python/bin");
  assert.equal(env.pythonFullVersion, "3.13.1");
  assert.equal(env.tags[1], "cp313-cp313-manylinux_2_31_aarch64");

  const bad = await rejection(
    detectTargetEnvironment(base, AMD64, { cache: false, overrides: { libc: "uclibc 1.0" } }),
  );
  assert.match(bad.message, /invalid libc "uclibc 1\.0"/);
  const rel = await rejection(
    detectTargetEnvironment(base, AMD64, { cache: false, overrides: { pythonPath: "python3" } }),
  );
  assert.match(rel.message, /not an absolute file path/);
});

test("detectTargetEnvironment() chooses the highest minor version, /usr/local/bin on a tie", async () => {
  const base = await syntheticBase("several", [[
    ...debianRoot(),
    fileEntry("usr/bin/python3.11", binaryWith("3.11.2"), 0o755),
    fileEntry("usr/bin/python3.12", binaryWith("3.12.3"), 0o755),
    fileEntry("usr/local/bin/python3.12", binaryWith("3.12.9"), 0o755),
    fileEntry("usr/bin/python3.12-config", "#!/bin/sh\n", 0o755),
  ]]);
  const env: TargetEnvironment = await detectTargetEnvironment(base, AMD64, { cache: false });
  assert.equal(env.pythonPath, "/usr/local/bin/python3.12");
  assert.equal(env.pythonFullVersion, "3.12.9");
  const pinned = await detectTargetEnvironment(base, AMD64, {
    cache: false,
    overrides: { pythonVersion: "3.11" },
  });
  assert.equal(pinned.pythonPath, "/usr/bin/python3.11");
  assert.equal(pinned.pythonFullVersion, "3.11.2");
});

test("detectTargetEnvironment() says which Python the base has when python-version differs", async () => {
  const base = await syntheticBase("mismatch", [[
    ...debianRoot(),
    fileEntry("usr/bin/python3.11", binaryWith("3.11.2"), 0o755),
  ]]);
  const e = await rejection(
    detectTargetEnvironment(base, AMD64, { cache: false, overrides: { pythonVersion: "3.12" } }),
  );
  assert.match(
    e.message,
    /has \/usr\/bin\/python3\.11, not the Python 3\.12 asked for by python-version/,
  );
  assert.equal(e.exitCode, 2);
});

test("detectTargetEnvironment() reads distroless dpkg status.d files", async () => {
  const base = await syntheticBase("distroless", [
    [
      fileEntry("var/lib/dpkg/status.d/libc6", "Package: libc6\nVersion: 2.36-9+deb12u7\n"),
      fileEntry("var/lib/dpkg/status.d/libc6.md5sums", "0123 lib/libc.so.6\n"),
      fileEntry("usr/lib/x86_64-linux-gnu/libc.so.6", "no banner here"),
    ],
    [
      fileEntry(
        "var/lib/dpkg/status.d/python3.11-minimal",
        "Package: python3.11-minimal\nVersion: 3.11.2-6+deb12u2\n",
      ),
      fileEntry("usr/bin/python3.11", "no banner here either", 0o755),
    ],
  ]);
  const env = await detectTargetEnvironment(base, AMD64, { cache: false });
  assert.equal(env.pythonPath, "/usr/bin/python3.11");
  assert.equal(env.pythonFullVersion, "3.11.2");
  assert.deepEqual(env.libc, { family: "glibc", version: "2.36" });
  assert.equal(env.sources.libc, "/var/lib/dpkg/status.d/libc6 (libc6 2.36-9+deb12u7)");
});

test("detectTargetEnvironment() ignores a damaged cache file and rewrites it", async () => {
  await withCache(async (cache) => {
    const base = await syntheticBase("cached", [[
      ...debianRoot(),
      fileEntry("usr/bin/python3.11", binaryWith("3.11.2"), 0o755),
    ]]);
    await detectTargetEnvironment(base, AMD64, { cache });
    const [file] = await readdir(join(cache, "target-env"));
    const path = join(cache, "target-env", file ?? "?");
    await writeFile(path, "{ not json");
    const env = await detectTargetEnvironment(base, AMD64, { cache });
    assert.equal(env.cached, false);
    assert.equal(base.opened.length, 2);
    assert.equal(JSON.parse(await readFile(path, "utf8")).facts.pythonPath, "/usr/bin/python3.11");
    const hit = await detectTargetEnvironment(base, AMD64, { cache });
    assert.equal(hit.cached, true);
    assert.equal(base.opened.length, 2);
  });
});

test("detectTargetEnvironment() refuses zstd layers with a hint to override", async () => {
  const base = await syntheticBase("zstd", [debianRoot()]);
  const zstd = {
    ...base,
    layers: base.layers.map((d) => ({ ...d, mediaType: `${GZIP.replace("gzip", "zstd")}` })),
  };
  const e = await rejection(detectTargetEnvironment(zstd, AMD64, { cache: false }));
  assert.match(e.message, /zstd-compressed/);
  assert.match(e.hint ?? "", /python-interpreter, python-version and libc/);
});

test("upstreamVersion() and the package database parsers read distribution versions", () => {
  assert.equal(upstreamVersion("2.36-9+deb12u4"), "2.36");
  assert.equal(upstreamVersion("1:3.11.2-6"), "3.11.2");
  assert.equal(upstreamVersion("3.13.0~rc1-1"), "3.13.0rc1");
  assert.equal(upstreamVersion("2.39-0ubuntu8.4"), "2.39");
  assert.equal(upstreamVersion("1.2.4-r2"), "1.2.4");
  const status = [
    "Package: libc6\nStatus: deinstall ok config-files\nVersion: 2.31-13\n",
    "Package: libc6\nStatus: install ok installed\nVersion: 2.36-9\n",
    "Package: python3.11-minimal\nStatus: install ok not-installed\nVersion: 3.11.2-6\n",
  ].join("\n");
  const parsed = parseDpkgStatus(status);
  assert.equal(parsed.get("libc6"), "2.36-9");
  assert.equal(parsed.has("python3.11-minimal"), false);
  assert.equal(
    parseApkInstalled("P:musl\nV:1.2.5-r0\n\nP:busybox\nV:1.36.1-r29\n").get("busybox"),
    "1.36.1-r29",
  );
  assert.deepEqual(parseLibc("GLIBC-2.28"), { family: "glibc", version: "2.28" });
  assert.throws(() => parseLibc("2.36"), /invalid libc "2\.36"/);
});
