import { test } from "node:test";
import assert from "node:assert/strict";
import { PycontainerError } from "../../src/errors.ts";
import {
  describeBytes,
  digestHex,
  digestOf,
  digestProblem,
  isSha256Digest,
} from "../../src/oci/digest.ts";
import { parseImageConfig, parseManifest, selectPlatformManifest } from "../../src/oci/manifest.ts";
import {
  isGzipLayerMediaType,
  isIndexMediaType,
  isManifestMediaType,
  MediaType,
} from "../../src/oci/media_types.ts";
import type { Descriptor, ImageIndex } from "../../src/oci/types.ts";

const enc = (v: unknown) => new TextEncoder().encode(typeof v === "string" ? v : JSON.stringify(v));
const desc = (n: string, mediaType: string = MediaType.ociManifest): Descriptor => ({
  mediaType,
  digest: digestOf(n),
  size: n.length,
});

test("digestOf() and describeBytes() hash exactly the bytes", () => {
  assert.equal(
    digestOf(""),
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
  const d = describeBytes(enc("{}"), MediaType.ociEmpty);
  assert.deepEqual(d, {
    mediaType: MediaType.ociEmpty,
    digest: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
    size: 2,
  });
  assert.equal(digestHex(d.digest), d.digest.slice(7));
  assert.throws(() => digestHex("sha256:xyz"), TypeError);
  assert.ok(isSha256Digest(d.digest));
  assert.equal(digestProblem(d.digest), undefined);
  assert.match(digestProblem("sha256:ABC")!, /64 lowercase hex/);
});

test("media type predicates accept OCI and Docker types, with parameters", () => {
  assert.ok(isIndexMediaType(MediaType.ociIndex));
  assert.ok(isIndexMediaType(`${MediaType.dockerManifestList}; charset=utf-8`));
  assert.ok(!isIndexMediaType(MediaType.ociManifest));
  assert.ok(isManifestMediaType(MediaType.dockerManifest));
  assert.ok(!isManifestMediaType(undefined));
  assert.ok(isGzipLayerMediaType(MediaType.dockerLayerGzip));
  assert.ok(!isGzipLayerMediaType(MediaType.ociLayer));
});

test("parseManifest() tells an index from a manifest by mediaType or shape", () => {
  const index = parseManifest(enc({ schemaVersion: 2, manifests: [desc("a")] }), "x");
  assert.equal(index.kind, "index");
  assert.equal(index.mediaType, MediaType.ociIndex);
  const list = parseManifest(
    enc({ schemaVersion: 2, mediaType: MediaType.dockerManifestList, manifests: [] }),
    "x",
  );
  assert.equal(list.mediaType, MediaType.dockerManifestList);
  const manifest = parseManifest(
    enc({
      schemaVersion: 2,
      config: desc("c", MediaType.ociConfig),
      layers: [desc("l", MediaType.ociLayerGzip)],
    }),
    "x",
    MediaType.dockerManifest,
  );
  assert.equal(manifest.kind, "manifest");
  assert.equal(manifest.mediaType, MediaType.dockerManifest);
});

const badManifests: [string, unknown, RegExp][] = [
  ["not JSON", "<html>oops</html>", /not JSON .*starts with "<html>oops/],
  ["an array", [], /expected a JSON object/],
  ["schema 1", { schemaVersion: 1, fsLayers: [] }, /schema 1 manifests are not supported/],
  ["no schemaVersion", { layers: [] }, /schemaVersion must be 2/],
  ["no layers", { schemaVersion: 2, config: desc("c") }, /"layers" array/],
  [
    "bad digest",
    { schemaVersion: 2, config: { ...desc("c"), digest: "sha256:00" }, layers: [] },
    /config\.digest: sha256 digest must be 64/,
  ],
  [
    "bad size",
    { schemaVersion: 2, config: desc("c"), layers: [{ ...desc("l"), size: -1 }] },
    /layers\[0\]\.size/,
  ],
  ["index entry", { schemaVersion: 2, manifests: [{ digest: 1 }] }, /manifests\[0\]\.mediaType/],
];
for (const [what, body, why] of badManifests) {
  test(`parseManifest() rejects ${what}`, () => {
    assert.throws(() => parseManifest(enc(body), "reg/repo:tag"), (e: unknown) => {
      assert.ok(e instanceof PycontainerError);
      assert.ok(e.message.startsWith("invalid manifest for reg/repo:tag: "), e.message);
      assert.match(e.message, why);
      return true;
    });
  });
}

test("parseImageConfig() requires os, architecture and rootfs.diff_ids", () => {
  const c = parseImageConfig(
    enc({ os: "linux", architecture: "amd64", rootfs: { type: "layers", diff_ids: [] } }),
    "x",
  );
  assert.equal(c.architecture, "amd64");
  assert.throws(
    () => parseImageConfig(enc({ os: "linux", rootfs: { diff_ids: [] } }), "base"),
    /invalid image config for base: "os" and "architecture"/,
  );
  assert.throws(
    () => parseImageConfig(enc({ os: "linux", architecture: "amd64" }), "base"),
    /rootfs\.diff_ids/,
  );
});

const platformIndex: ImageIndex = {
  schemaVersion: 2,
  manifests: [
    { ...desc("amd64"), platform: { os: "linux", architecture: "amd64" } },
    { ...desc("arm64"), platform: { os: "linux", architecture: "arm64", variant: "v8" } },
    { ...desc("armv7"), platform: { os: "linux", architecture: "arm", variant: "v7" } },
    { ...desc("armv6"), platform: { os: "linux", architecture: "arm", variant: "v6" } },
    { ...desc("att"), platform: { os: "unknown", architecture: "unknown" } },
  ],
};

test("selectPlatformManifest() picks by os, architecture and variant", () => {
  const pick = (architecture: string, variant?: string) =>
    selectPlatformManifest(
      platformIndex,
      variant === undefined
        ? { os: "linux", architecture }
        : { os: "linux", architecture, variant },
      "python:3.11-slim",
    ).digest;
  assert.equal(pick("amd64"), digestOf("amd64"));
  assert.equal(pick("arm64"), digestOf("arm64"));
  assert.equal(pick("arm64", "v8"), digestOf("arm64"));
  assert.equal(pick("arm"), digestOf("armv7"));
  assert.equal(pick("arm", "v6"), digestOf("armv6"));
});

test("selectPlatformManifest() lists the available platforms when none matches", () => {
  assert.throws(
    () =>
      selectPlatformManifest(
        platformIndex,
        { os: "linux", architecture: "s390x" },
        "python:3.11-slim",
      ),
    (e: unknown) => {
      assert.ok(e instanceof PycontainerError);
      assert.equal(
        e.message,
        "base image python:3.11-slim is not available for linux/s390x " +
          "(available platforms: linux/amd64, linux/arm64, linux/arm/v7, linux/arm/v6)",
      );
      assert.match(e.hint ?? "", /--platform/);
      return true;
    },
  );
  assert.throws(
    () =>
      selectPlatformManifest({ schemaVersion: 2, manifests: [] }, {
        os: "linux",
        architecture: "amd64",
      }, "x"),
    /available platforms: none/,
  );
});
