import { test } from "node:test";
import assert from "node:assert/strict";
import {
  assertBaseConsistent,
  composeImageConfig,
  composeManifest,
  mergeContainerConfig,
  mergeEnv,
} from "../../src/image/compose.ts";
import type { ImageConfig } from "../../src/oci/types.ts";

const pythonSlim: ImageConfig = {
  architecture: "arm64",
  os: "linux",
  variant: "v8",
  config: {
    Env: ["PATH=/usr/local/bin:/usr/bin", "LANG=C.UTF-8", "PYTHON_VERSION=3.12.7"],
    Cmd: ["python3"],
    Labels: { "org.opencontainers.image.title": "python", keep: "yes" },
    ExposedPorts: { "9000/tcp": {} },
  },
  rootfs: { type: "layers", diff_ids: ["sha256:" + "a".repeat(64), "sha256:" + "b".repeat(64)] },
  history: [
    { created_by: "debian" },
    { created_by: "ENV LANG", empty_layer: true },
    { created_by: "python" },
  ],
};
const settings = { env: {}, labels: {}, exposedPorts: [] };
const layer = {
  diffId: "sha256:" + "c".repeat(64),
  createdBy: "pycontainer: app files",
  descriptor: {
    mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
    digest: "sha256:" + "d".repeat(64),
    size: 10,
  },
};

test("mergeEnv() keeps base order, lets ours win and appends new variables", () => {
  assert.deepEqual(mergeEnv(["A=1", "B=2"], { B: "3", C: "4=x" }), ["A=1", "B=3", "C=4=x"]);
});

test("mergeContainerConfig() clears the base Cmd when we set an Entrypoint", () => {
  const merged = mergeContainerConfig(pythonSlim.config, { ...settings, entrypoint: ["myapp"] });
  assert.deepEqual(merged.Entrypoint, ["myapp"]);
  assert.equal(merged.Cmd, undefined);
});

test("mergeContainerConfig() keeps our Cmd next to our Entrypoint, and base Entrypoint with only Cmd", () => {
  const both = mergeContainerConfig(pythonSlim.config, {
    ...settings,
    entrypoint: ["a"],
    cmd: ["b"],
  });
  assert.deepEqual([both.Entrypoint, both.Cmd], [["a"], ["b"]]);
  const onlyCmd = mergeContainerConfig({ Entrypoint: ["tini", "--"] }, { ...settings, cmd: ["x"] });
  assert.deepEqual([onlyCmd.Entrypoint, onlyCmd.Cmd], [["tini", "--"], ["x"]]);
});

test("mergeContainerConfig() merges labels and ports, sets workdir and user", () => {
  const merged = mergeContainerConfig(pythonSlim.config, {
    env: { PYTHONUNBUFFERED: "1" },
    labels: { "org.opencontainers.image.title": "myapp" },
    exposedPorts: ["8000", "53/udp"],
    workingDir: "/app",
    user: "1000:1000",
  });
  assert.deepEqual(merged.Labels, { "org.opencontainers.image.title": "myapp", keep: "yes" });
  assert.deepEqual(Object.keys(merged.ExposedPorts ?? {}).sort(), [
    "53/udp",
    "8000/tcp",
    "9000/tcp",
  ]);
  assert.equal(merged.WorkingDir, "/app");
  assert.equal(merged.User, "1000:1000");
  assert.deepEqual(merged.Cmd, ["python3"]);
  assert.equal(merged.Env?.at(-1), "PYTHONUNBUFFERED=1");
});

test("composeImageConfig() lists every diff_id in order and one history entry per layer", () => {
  const config = composeImageConfig({
    base: pythonSlim,
    platform: { os: "linux", architecture: "arm64" },
    settings,
    layers: [layer],
    created: "2024-01-01T00:00:00Z",
  });
  assert.deepEqual(config.rootfs.diff_ids, [...pythonSlim.rootfs.diff_ids, layer.diffId]);
  const layerHistory = config.history!.filter((h) => !h.empty_layer);
  assert.equal(layerHistory.length, config.rootfs.diff_ids.length);
  assert.equal(config.variant, "v8");
  assert.equal(config.architecture, "arm64");
  assert.equal(config.created, "2024-01-01T00:00:00Z");
});

test("composeImageConfig() on scratch uses the requested platform", () => {
  const config = composeImageConfig({
    base: undefined,
    platform: { os: "linux", architecture: "arm", variant: "v7" },
    settings,
    layers: [layer],
    created: "1970-01-01T00:00:00Z",
  });
  assert.deepEqual([config.os, config.architecture, config.variant], ["linux", "arm", "v7"]);
  assert.deepEqual(config.rootfs.diff_ids, [layer.diffId]);
});

test("composeManifest() converts Docker layer media types to OCI ones", () => {
  const m = composeManifest(
    layer.descriptor,
    [{
      mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip",
      digest: "sha256:" + "e".repeat(64),
      size: 5,
    }],
    [layer],
    { "org.opencontainers.image.base.name": "python:3.12-slim" },
  );
  assert.equal(m.layers[0]!.mediaType, "application/vnd.oci.image.layer.v1.tar+gzip");
  assert.equal(m.layers.length, 2);
  assert.equal(m.annotations?.["org.opencontainers.image.base.name"], "python:3.12-slim");
});

test("assertBaseConsistent() refuses a base whose config and manifest disagree", () => {
  assert.throws(
    () => assertBaseConsistent(pythonSlim, [], "python:3.12-slim"),
    /base image python:3.12-slim is inconsistent: its config lists 2 layer diff_ids but its manifest has 0/,
  );
});
