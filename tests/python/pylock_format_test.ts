import { test } from "node:test";
import assert from "node:assert/strict";
import { parse } from "smol-toml";
import { IndexClient } from "../../src/python/index_client.ts";
import { indexesFromConfig } from "../../src/python/index_config.ts";
import { markerEnvironmentFor } from "../../src/python/markers.ts";
import { evaluateMarker } from "../../src/python/markers.ts";
import { formatPylock } from "../../src/python/pylock_format.ts";
import { parsePylock } from "../../src/python/locks/pylock.ts";
import { resolve } from "../../src/python/resolver.ts";
import { compatibleTags } from "../../src/python/tags.ts";
import { startIndexServer, syntheticWheel } from "./_index_server.ts";

test("formatPylock() writes a PEP 751 lock with the resolved wheels, hashes and target", async () => {
  const server = await startIndexServer({
    files: [
      syntheticWheel({ name: "Web_App", version: "1.2", requires: ["helper>=1", "native"] }),
      syntheticWheel({ name: "helper", version: "1.0", requiresPython: ">=3.8" }),
      syntheticWheel({ name: "native", version: "0.5", tag: "cp311-cp311-manylinux_2_17_aarch64" }),
    ],
  });
  try {
    const markerEnv = markerEnvironmentFor({ pythonFullVersion: "3.11.7", arch: "arm64" });
    const client = new IndexClient({
      indexes: indexesFromConfig(undefined, {}, { indexUrl: server.url }),
      netrc: false,
    });
    const resolution = await resolve({
      requirements: ["web-app"],
      target: {
        markerEnv,
        tags: compatibleTags({
          pythonVersion: "3.11",
          arch: "arm64",
          libc: { family: "glibc", version: "2.36" },
        }),
        pythonFullVersion: "3.11.7",
      },
      index: client,
    });
    const text = formatPylock(resolution, { requiresPython: ">=3.11", markerEnv });
    const doc = parse(text) as Record<string, unknown>;
    assert.equal(doc["lock-version"], "1.0");
    assert.equal(doc["created-by"], "pycontainer");
    assert.equal(doc["requires-python"], ">=3.11");
    const envs = doc.environments as string[];
    assert.ok(evaluateMarker(envs[0]!, markerEnv));
    assert.ok(
      !evaluateMarker(
        envs[0]!,
        markerEnvironmentFor({ pythonFullVersion: "3.11.7", arch: "amd64" }),
      ),
    );
    const packages = doc.packages as Record<string, unknown>[];
    assert.deepEqual(packages.map((p) => p.name), ["helper", "native", "web-app"]);
    const web = packages[2]!;
    assert.equal(web.index, server.url);
    assert.deepEqual(JSON.parse(JSON.stringify(web.dependencies)), [
      { name: "helper", version: "1.0" },
      { name: "native", version: "0.5" },
    ]);
    assert.equal(packages[0]!["requires-python"], ">=3.8");
    for (const p of packages) {
      const [wheel] = p.wheels as Record<string, unknown>[];
      const filename = wheel!.name as string;
      assert.equal((wheel!.hashes as Record<string, string>).sha256, server.sha256.get(filename));
      assert.equal(wheel!.url, `${server.origin}/files/${filename}`);
      assert.equal(typeof wheel!.size, "number");
      assert.ok(wheel!["upload-time"] instanceof Date, "upload-time is a TOML datetime");
    }
    // The lock reader reads back exactly what was resolved.
    const locked = parsePylock(text, "pylock.toml");
    assert.deepEqual(
      locked.packages.map((p) => `${p.name}==${p.version} ${p.files[0]!.hashes.sha256}`),
      resolution.packages.map((p) => `${p.name}==${p.version} ${p.wheel.hashes.sha256}`),
    );
    assert.equal(formatPylock(resolution, { requiresPython: ">=3.11", markerEnv }), text, "stable");
  } finally {
    await server.close();
  }
});
