import { test } from "node:test";
import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { IndexClient } from "../../src/python/index_client.ts";
import { indexesFromConfig } from "../../src/python/index_config.ts";
import { type MarkerEnvironment, markerEnvironmentFor } from "../../src/python/markers.ts";
import { compareVersions, parseSpecifierSet, specifierContains } from "../../src/python/pep440.ts";
import { parseRequirement, requirementApplies } from "../../src/python/requirement.ts";
import {
  type Resolution,
  resolve,
  type ResolveEvent,
  type ResolveTarget,
} from "../../src/python/resolver.ts";
import { compatibleTags } from "../../src/python/tags.ts";
import { parseWheelFilename } from "../../src/python/wheel_name.ts";
import { PycontainerError } from "../../src/errors.ts";
import {
  hasRealIndex,
  type IndexServerOptions,
  type MemoryFile,
  realIndexDir,
  startIndexServer,
  syntheticWheel,
} from "./_index_server.ts";

function target(arch: string, python = "3.11.7", glibc = "2.36"): ResolveTarget {
  return {
    markerEnv: markerEnvironmentFor({ pythonFullVersion: python, arch }),
    tags: compatibleTags({
      pythonVersion: python,
      arch,
      libc: { family: "glibc", version: glibc },
    }),
    pythonFullVersion: python,
  };
}

async function withIndex<T>(
  options: IndexServerOptions,
  fn: (client: IndexClient, server: Awaited<ReturnType<typeof startIndexServer>>) => Promise<T>,
): Promise<T> {
  const server = await startIndexServer(options);
  try {
    const client = new IndexClient({
      indexes: indexesFromConfig(undefined, {}, { indexUrl: server.url }),
      netrc: false,
    });
    return await fn(client, server);
  } finally {
    await server.close();
  }
}

const w = syntheticWheel;

/** The newest version of a project among the fixture's wheels. */
async function newestInFixture(project: string): Promise<string> {
  const versions = (await readdir(realIndexDir()))
    .filter((f) => f.endsWith(".whl"))
    .map((f) => parseWheelFilename(f))
    .filter((wf) => wf.name === project)
    .map((wf) => wf.version)
    .sort(compareVersions);
  assert.ok(versions.length > 0, `${project} is in the fixture`);
  return versions.at(-1)!;
}
const byName = (r: Resolution) => Object.fromEntries(r.packages.map((p) => [p.name, p.version]));

/** Every chosen package's applicable requirements are met by the chosen versions. */
function assertConsistent(r: Resolution, env: MarkerEnvironment): void {
  const chosen = new Map(r.packages.map((p) => [p.name, p]));
  for (const p of r.packages) {
    for (const text of p.requires) {
      const req = parseRequirement(text);
      assert.ok(requirementApplies(req, env, ["", ...p.extras]), `${p.name}: ${text} applies`);
      if (req.normalizedName === p.name) continue;
      const dep = chosen.get(req.normalizedName);
      assert.ok(dep, `${p.name} ${p.version} needs ${text}, which was not chosen`);
      assert.ok(
        specifierContains(req.specifier, dep.version, { prereleases: true }),
        `${p.name} ${p.version} needs ${text}, got ${dep.version}`,
      );
      for (const e of req.extras) assert.ok(dep.extras.includes(e), `${dep.name}[${e}]`);
    }
  }
}

for (
  const [arch, machine, python] of [
    ["amd64", "x86_64", "3.11.7"],
    ["arm64", "aarch64", "3.11.7"],
    ["arm64", "aarch64", "3.12.3"],
  ] as const
) {
  test(`resolve() picks fastapi + uvicorn[standard] wheels for ${python} ${machine} from the real index`, async (t) => {
    if (!(await hasRealIndex())) {
      t.skip("run tests/fixtures/wheels_index/fetch.sh first");
      return;
    }
    await withIndex({ dirs: [realIndexDir()] }, async (client, server) => {
      const tgt = target(arch, python);
      const cp = `cp${python.split(".").slice(0, 2).join("")}`;
      const r = await resolve({
        requirements: ["fastapi", "uvicorn[standard]"],
        target: tgt,
        index: client,
      });
      const names = r.packages.map((p) => p.name);
      for (
        const n of [
          "fastapi",
          "starlette",
          "pydantic",
          "pydantic-core",
          "uvicorn",
          "uvloop",
          "httptools",
          "watchfiles",
          "websockets",
          "pyyaml",
        ]
      ) {
        assert.ok(names.includes(n), `${n} resolved`);
      }
      assert.deepEqual(r.packages.find((p) => p.name === "uvicorn")!.extras, ["standard"]);
      assert.equal(
        r.packages.find((p) => p.name === "fastapi")!.version,
        await newestInFixture("fastapi"),
        "newest",
      );
      let binaries = 0;
      for (const p of r.packages) {
        const wheel = parseWheelFilename(p.wheel.filename);
        assert.equal(wheel.name, p.name);
        assert.equal(wheel.version, p.version);
        assert.equal(p.wheel.hashes.sha256, server.sha256.get(p.wheel.filename));
        if (wheel.platformTags.includes("any")) continue;
        binaries++;
        assert.ok(wheel.platformTags.every((tag) => tag.endsWith(`_${machine}`)), p.wheel.filename);
        assert.ok(wheel.abiTags.some((a) => a === cp || a === "abi3"), p.wheel.filename);
      }
      assert.ok(binaries >= 6, `binary wheels: ${binaries}`);
      assertConsistent(r, tgt.markerEnv);
      // PEP 658: resolution read metadata files, never a wheel.
      const wheelHits = server.hits.filter((h) =>
        h.path.startsWith("/files/") && h.path.endsWith(".whl")
      );
      assert.deepEqual(wheelHits, []);
      assert.ok(server.hits.some((h) => h.path.endsWith(".whl.metadata")));
      assert.ok(
        r.packages.find((p) => p.name === "uvloop")!.path[0]!.startsWith("uvicorn[standard]"),
      );
    });
  });
}

test("resolve() picks flask + gunicorn + django for cp312 x86_64 from the real index", async (t) => {
  if (!(await hasRealIndex())) {
    t.skip("run tests/fixtures/wheels_index/fetch.sh first");
    return;
  }
  await withIndex({ dirs: [realIndexDir()] }, async (client) => {
    const tgt = target("amd64", "3.12.3");
    const r = await resolve({
      requirements: ["flask", "gunicorn", "django"],
      target: tgt,
      index: client,
    });
    const names = r.packages.map((p) => p.name);
    for (
      const n of [
        "flask",
        "werkzeug",
        "jinja2",
        "markupsafe",
        "gunicorn",
        "django",
        "asgiref",
        "sqlparse",
      ]
    ) {
      assert.ok(names.includes(n), `${n} resolved`);
    }
    assert.ok(
      r.packages.find((p) => p.name === "markupsafe")!.wheel.filename.includes("cp312-cp312"),
    );
    const newest = await newestInFixture("django");
    assert.equal(byName(r).django, newest, "newest django");
    assertConsistent(r, tgt.markerEnv);
    // The fixture has a Django that needs Python >=3.12 (6.x): a 3.11 target gets an older one.
    const py311 = await resolve({
      requirements: ["django"],
      target: target("amd64"),
      index: client,
    });
    const files = (await client.projectFiles("django"))!.files;
    const newestRp = files.find((f) => f.filename.startsWith(`django-${newest}-`))!.requiresPython;
    assert.ok(newestRp && !specifierContains(parseSpecifierSet(newestRp), "3.11.7"), newestRp);
    const chosen = py311.packages[0]!;
    assert.ok(compareVersions(chosen.version, newest) < 0, chosen.version);
    assert.ok(specifierContains(parseSpecifierSet(chosen.requiresPython!), "3.11.7"));
  });
});

test("resolve() evaluates markers for the target, not the host (no uvloop on PyPy)", async (t) => {
  if (!(await hasRealIndex())) {
    t.skip("run tests/fixtures/wheels_index/fetch.sh first");
    return;
  }
  await withIndex({ dirs: [realIndexDir()] }, async (client) => {
    const base = target("amd64");
    const pypy = {
      ...base,
      markerEnv: {
        ...base.markerEnv,
        platform_python_implementation: "PyPy",
        implementation_name: "pypy",
      },
    };
    const r = await resolve({ requirements: ["uvicorn[standard]"], target: pypy, index: client });
    const names = r.packages.map((p) => p.name);
    assert.ok(!names.includes("uvloop"), "uvloop is excluded on PyPy");
    assert.ok(names.includes("httptools") && names.includes("websockets"));
    const cp = await resolve({ requirements: ["uvicorn[standard]"], target: base, index: client });
    assert.ok(cp.packages.some((p) => p.name === "uvloop"));
    const plain = await resolve({ requirements: ["uvicorn"], target: base, index: client });
    assert.ok(!plain.packages.some((p) => p.name === "uvloop"), "no extra, no uvloop");
  });
});

test("resolve() backtracks to an older fastapi when starlette is capped", async (t) => {
  if (!(await hasRealIndex())) {
    t.skip("run tests/fixtures/wheels_index/fetch.sh first");
    return;
  }
  await withIndex({ dirs: [realIndexDir()] }, async (client) => {
    const tgt = target("arm64", "3.12.3");
    const r = await resolve({
      requirements: ["fastapi", "starlette<0.40"],
      target: tgt,
      index: client,
    });
    assert.equal(byName(r).fastapi, "0.110.0");
    assert.equal(byName(r).starlette, "0.36.3");
    assertConsistent(r, tgt.markerEnv);
  });
});

test("resolve() explains a conflict between a dependency and the user's pin", async (t) => {
  if (!(await hasRealIndex())) {
    t.skip("run tests/fixtures/wheels_index/fetch.sh first");
    return;
  }
  const starlette = await newestInFixture("starlette");
  await withIndex({ dirs: [realIndexDir()] }, async (client) => {
    await assert.rejects(
      resolve({
        requirements: ["fastapi==0.110.0", `starlette==${starlette}`],
        target: target("amd64"),
        index: client,
      }),
      (e: unknown) =>
        e instanceof PycontainerError &&
        e.message ===
          `cannot resolve dependencies: fastapi 0.110.0 needs starlette<0.37.0,>=0.36.3, but you asked for starlette==${starlette}` &&
        /starlette/.test(e.hint ?? ""),
    );
  });
});

test("resolve() backjumps over decisions unrelated to the conflict", async () => {
  const files: MemoryFile[] = [
    w({ name: "a", version: "2.0", requires: ["b>=2"] }),
    w({ name: "a", version: "1.0", requires: ["b<2"] }),
    w({ name: "b", version: "2.0" }),
    w({ name: "b", version: "1.0" }),
    w({ name: "x", version: "3.0" }),
    w({ name: "x", version: "2.0" }),
    w({ name: "c", version: "1.0", requires: ["b<2"] }),
  ];
  await withIndex({ files }, async (client) => {
    const events: ResolveEvent[] = [];
    const r = await resolve({
      requirements: ["a", "x", "c"],
      target: target("amd64"),
      index: client,
      onEvent: (e) => events.push(e),
    });
    assert.deepEqual(byName(r), { a: "1.0", b: "1.0", c: "1.0", x: "3.0" });
    const jumps = events.filter((e) => e.kind === "backjump");
    assert.deepEqual(jumps.map((e) => `${e.name} ${e.version}`), ["a 2.0"], "x was not revisited");
    assert.equal(r.stats.backjumps, 1);
  });
});

test("resolve() revisits a package pinned earlier when a later one excludes its version", async () => {
  const files = [
    w({ name: "a", version: "2.0" }),
    w({ name: "a", version: "1.0" }),
    w({ name: "b", version: "1.0", requires: ["a<2"] }),
  ];
  await withIndex({ files }, async (client) => {
    const r = await resolve({ requirements: ["a", "b"], target: target("amd64"), index: client });
    assert.deepEqual(byName(r), { a: "1.0", b: "1.0" });
  });
});

test("resolve() reports a conflict between two packages in plain words", async () => {
  const files = [
    w({ name: "app-a", version: "1.0", requires: ["shared>=2"] }),
    w({ name: "app-b", version: "1.0", requires: ["shared<2"] }),
    w({ name: "shared", version: "2.0" }),
    w({ name: "shared", version: "1.0" }),
  ];
  await withIndex({ files }, async (client) => {
    await assert.rejects(
      resolve({ requirements: ["app-a", "app-b"], target: target("amd64"), index: client }),
      (e: unknown) =>
        e instanceof PycontainerError && e.exitCode === 1 &&
        /app-a 1\.0 needs shared>=2/.test(e.message) && /app-b 1\.0 needs shared<2/.test(e.message),
    );
  });
});

test("resolve() skips versions whose Requires-Python excludes the target", async () => {
  const files = [
    w({ name: "modern", version: "2.0", requiresPython: ">=3.13" }),
    w({ name: "modern", version: "1.5", requiresPython: ">=3.9" }),
    w({ name: "future", version: "1.0", requiresPython: ">=3.14" }),
  ];
  await withIndex({ files }, async (client) => {
    const r = await resolve({
      requirements: ["modern"],
      target: target("amd64", "3.11.7"),
      index: client,
    });
    assert.equal(byName(r).modern, "1.5");
    const r13 = await resolve({
      requirements: ["modern"],
      target: target("amd64", "3.13.1"),
      index: client,
    });
    assert.equal(byName(r13).modern, "2.0");
    await assert.rejects(
      resolve({ requirements: ["future"], target: target("amd64", "3.11.7"), index: client }),
      (e: unknown) =>
        e instanceof PycontainerError &&
        /future 1\.0 requires Python >=3\.14, the target has 3\.11\.7/.test(e.message),
    );
  });
});

test("resolve() ignores yanked files unless pinned with ==", async () => {
  const files = [w({ name: "lib", version: "2.0" }), w({ name: "lib", version: "1.0" })];
  const yanked = { "lib-2.0-py3-none-any.whl": "data loss bug" };
  await withIndex({ files, yanked }, async (client) => {
    const t = target("amd64");
    assert.equal(
      byName(await resolve({ requirements: ["lib"], target: t, index: client })).lib,
      "1.0",
    );
    assert.equal(
      byName(await resolve({ requirements: ["lib==2.0"], target: t, index: client })).lib,
      "2.0",
    );
    await assert.rejects(
      resolve({ requirements: ["lib>=1.5"], target: t, index: client }),
      (e: unknown) =>
        e instanceof PycontainerError && /lib 2\.0 is yanked \(data loss bug\)/.test(e.message),
    );
  });
});

test("resolve() takes pre-releases only when asked or when nothing else matches", async () => {
  const files = [
    w({ name: "pre", version: "2.0b1" }),
    w({ name: "pre", version: "1.0" }),
    w({ name: "onlypre", version: "0.1a1" }),
  ];
  await withIndex({ files }, async (client) => {
    const t = target("amd64");
    assert.equal(
      byName(await resolve({ requirements: ["pre"], target: t, index: client })).pre,
      "1.0",
    );
    assert.equal(
      byName(await resolve({ requirements: ["pre>=2.0b1"], target: t, index: client })).pre,
      "2.0b1",
    );
    assert.equal(
      byName(
        await resolve({ requirements: ["pre"], target: t, index: client, prereleases: "allow" }),
      ).pre,
      "2.0b1",
    );
    assert.equal(
      byName(await resolve({ requirements: ["onlypre"], target: t, index: client })).onlypre,
      "0.1a1",
    );
    await assert.rejects(
      resolve({ requirements: ["onlypre"], target: t, index: client, prereleases: "disallow" }),
      PycontainerError,
    );
  });
});

test("resolve() follows extras, including self-referencing extras", async () => {
  const files = [
    w({
      name: "kit",
      version: "1.0",
      extras: ["fast", "all"],
      requires: [
        "speedy; extra == 'fast'",
        "kit[fast]; extra == 'all'",
        "docs-only; extra == 'docs'",
      ],
    }),
    w({ name: "speedy", version: "1.0" }),
    w({ name: "user", version: "1.0", requires: ["kit[all]"] }),
  ];
  await withIndex({ files }, async (client) => {
    const t = target("amd64");
    assert.deepEqual(byName(await resolve({ requirements: ["kit"], target: t, index: client })), {
      kit: "1.0",
    });
    const all = await resolve({ requirements: ["kit[all]"], target: t, index: client });
    assert.deepEqual(byName(all), { kit: "1.0", speedy: "1.0" });
    assert.deepEqual(all.packages[0]!.extras, ["all", "fast"]);
    // The extra arrives after kit was pinned (through user): its dependencies are added then.
    const late = await resolve({ requirements: ["kit", "user"], target: t, index: client });
    assert.deepEqual(byName(late), { kit: "1.0", speedy: "1.0", user: "1.0" });
  });
});

test("resolve() only chooses wheels that fit the target and says when only an sdist exists", async () => {
  const sdist = {
    filename: "native-2.0.tar.gz",
    bytes: new TextEncoder().encode("not really a tarball"),
  };
  const files = [
    sdist,
    w({ name: "native", version: "1.0", tag: "cp311-cp311-manylinux_2_17_x86_64" }),
    w({ name: "native", version: "1.0", tag: "cp311-cp311-manylinux_2_17_aarch64" }),
    w({ name: "native", version: "1.0", tag: "cp312-cp312-manylinux_2_17_x86_64" }),
    w({ name: "armonly", version: "1.0", tag: "cp311-cp311-manylinux_2_28_aarch64" }),
    w({ name: "newglibc", version: "1.0", tag: "cp311-cp311-manylinux_2_39_x86_64" }),
  ];
  await withIndex({ files }, async (client) => {
    const x86 = target("amd64");
    const r = await resolve({ requirements: ["native"], target: x86, index: client });
    assert.equal(r.packages[0]!.wheel.filename, "native-1.0-cp311-cp311-manylinux_2_17_x86_64.whl");
    const arm = await resolve({ requirements: ["native"], target: target("arm64"), index: client });
    assert.equal(
      arm.packages[0]!.wheel.filename,
      "native-1.0-cp311-cp311-manylinux_2_17_aarch64.whl",
    );
    await assert.rejects(
      resolve({ requirements: ["native>=2"], target: x86, index: client }),
      (e: unknown) =>
        e instanceof PycontainerError &&
        /native has only an sdist for version 2\.0/.test(e.message) &&
        /--find-links|wheels/.test(e.hint ?? ""),
    );
    await assert.rejects(
      resolve({ requirements: ["armonly"], target: x86, index: client }),
      (e: unknown) =>
        e instanceof PycontainerError &&
        /armonly 1\.0 has no wheel for the target \(only manylinux_2_28_aarch64\)/.test(e.message),
    );
    // glibc 2.36 can't load a manylinux_2_39 wheel; glibc 2.41 can.
    await assert.rejects(
      resolve({ requirements: ["newglibc"], target: x86, index: client }),
      PycontainerError,
    );
    const trixie = await resolve({
      requirements: ["newglibc"],
      target: target("amd64", "3.11.7", "2.41"),
      index: client,
    });
    assert.equal(trixie.packages[0]!.version, "1.0");
  });
});

test("resolve() names a project no index has", async () => {
  await withIndex(
    { files: [w({ name: "a", version: "1.0", requires: ["ghost-pkg>=1"] })] },
    async (client) => {
      await assert.rejects(
        resolve({ requirements: ["a"], target: target("amd64"), index: client }),
        (e: unknown) =>
          e instanceof PycontainerError &&
          /no package index has a project named ghost-pkg/.test(e.message) &&
          /a 1\.0 needs ghost-pkg>=1/.test(e.message),
      );
    },
  );
});

test("resolve() rejects direct URL references with a hint", async () => {
  await withIndex({ files: [] }, async (client) => {
    await assert.rejects(
      resolve({
        requirements: ["pkg @ https://user:pw@example.com/pkg-1.0-py3-none-any.whl"],
        target: target("amd64"),
        index: client,
      }),
      (e: unknown) =>
        e instanceof PycontainerError && e.exitCode === 2 && !e.message.includes("pw@"),
    );
  });
});

test("resolve() skips root requirements whose markers don't hold for the target", async () => {
  await withIndex({ files: [w({ name: "a", version: "1.0" })] }, async (client) => {
    const r = await resolve({
      requirements: ["a", "pywin32; sys_platform == 'win32'", "b; python_version < '3.8'"],
      target: target("amd64"),
      index: client,
    });
    assert.deepEqual(byName(r), { a: "1.0" });
  });
});
