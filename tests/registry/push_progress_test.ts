/**
 * The pure parts of push: progress rendering in each mode, upload URL building, grouping tags by
 * repository, and choosing the image of a layout.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { pickImage } from "../../src/cli/push_command.ts";
import { progressMode, type PushEvent, PushProgress } from "../../src/registry/progress.ts";
import { groupByRepository } from "../../src/registry/push.ts";
import { withDigest } from "../../src/registry/upload.ts";

const DIGEST = `sha256:${"ab".repeat(32)}`;
const blob = (
  state: "exists" | "mounted" | "uploading" | "uploaded",
  extra: { sent?: number; from?: string; digest?: string } = {},
): PushEvent => ({
  type: "blob",
  registry: "r.io",
  repository: "acme/api",
  digest: DIGEST,
  size: 2048,
  state,
  ...extra,
});

test("progressMode() picks quiet, json, tty or plain (CI=true and dumb terminals are plain)", () => {
  assert.equal(progressMode({ quiet: true, json: true, isTTY: true }, {}), "quiet");
  assert.equal(progressMode({ json: true, isTTY: true }, {}), "json");
  assert.equal(progressMode({ isTTY: true }, {}), "tty");
  assert.equal(progressMode({ isTTY: true }, { CI: "true" }), "plain");
  assert.equal(progressMode({ isTTY: true }, { CI: "false" }), "tty");
  assert.equal(progressMode({ isTTY: true }, { TERM: "dumb" }), "plain");
  assert.equal(progressMode({ isTTY: false }, {}), "plain");
});

test("PushProgress plain mode prints one line per finished blob and a summary", () => {
  const lines: string[] = [];
  let now = 0;
  const p = new PushProgress("plain", (l) => lines.push(l), () => now);
  p.event(blob("uploading", { sent: 0 }));
  p.event(blob("uploading", { sent: 1024 }));
  now = 2000;
  p.event(blob("uploaded"));
  p.event(blob("mounted", { from: "base/python", digest: `sha256:${"cd".repeat(32)}` }));
  p.event({
    type: "manifest",
    registry: "r.io",
    repository: "acme/api",
    reference: "1.0",
    digest: DIGEST,
  });
  p.finish();
  assert.deepEqual(lines, [
    "blob acme/api abababababab 2.0 KiB/2.0 KiB uploaded 1.0 KiB/s",
    "blob acme/api cdcdcdcdcdcd   2.0 KiB mounted from base/python",
    "manifest r.io/acme/api:1.0 pushed",
    "blobs: 1 uploaded (2.0 KiB), 1 mounted, 0 already there, in 2.0s",
  ]);
  assert.ok(lines.every((l) => !l.includes("\x1b")));
});

test("PushProgress tty mode redraws the blob table in place", () => {
  const writes: string[] = [];
  let now = 0;
  const p = new PushProgress("tty", (l) => writes.push(l), () => now);
  p.event(blob("uploading", { sent: 0 }));
  now = 500;
  p.event(blob("uploading", { sent: 1024 }));
  now = 1000;
  p.event(blob("uploaded"));
  assert.equal(writes.length, 3);
  assert.ok(!writes[0]!.startsWith("\x1b["));
  assert.ok(writes[1]!.startsWith("\x1b[1F"), JSON.stringify(writes[1]));
  assert.match(writes[1]!, /1\.0 KiB\/2\.0 KiB uploading/);
  assert.match(writes[2]!, /uploaded/);
  p.finish();
  assert.match(writes.at(-1)!, /^blobs: 1 uploaded/);
});

test("PushProgress json mode writes events as JSON lines; quiet writes nothing", () => {
  const lines: string[] = [];
  const p = new PushProgress("json", (l) => lines.push(l));
  p.event(blob("exists"));
  p.finish();
  assert.deepEqual(lines.map((l) => JSON.parse(l)), [blob("exists")]);
  const none: string[] = [];
  const q = new PushProgress("quiet", (l) => none.push(l));
  q.event(blob("exists"));
  q.finish();
  assert.deepEqual(none, []);
});

test("withDigest() appends to Locations with and without a query string", () => {
  assert.equal(
    withDigest("https://r/v2/a/blobs/uploads/u1", DIGEST),
    `https://r/v2/a/blobs/uploads/u1?digest=sha256%3A${"ab".repeat(32)}`,
  );
  assert.equal(
    withDigest("https://r/v2/a/blobs/uploads/u1?_state=a%2Bb%3D&x=1", "sha256:0"),
    "https://r/v2/a/blobs/uploads/u1?_state=a%2Bb%3D&x=1&digest=sha256%3A0",
  );
  assert.equal(withDigest("https://r/u?", "sha256:0"), "https://r/u?digest=sha256%3A0");
});

test("groupByRepository() groups tags per repository in order and rejects digests", () => {
  assert.deepEqual(
    groupByRepository([
      "ghcr.io/acme/api:1.4.2",
      "ghcr.io/acme/api:latest",
      "docker.io/acme/api:1",
      "ghcr.io/acme/api:1.4.2",
    ]),
    [
      { registry: "ghcr.io", repository: "acme/api", tags: ["1.4.2", "latest"] },
      { registry: "docker.io", repository: "acme/api", tags: ["1"] },
    ],
  );
  assert.deepEqual(groupByRepository(["app"]), [{
    registry: "docker.io",
    repository: "library/app",
    tags: ["latest"],
  }]);
  assert.throws(
    () => groupByRepository([`r.io/a@${DIGEST}`]),
    (e: Error & { exitCode?: number }) => {
      assert.match(e.message, /a push target has a tag, not a digest/);
      assert.equal(e.exitCode, 2);
      return true;
    },
  );
});

test("pickImage() takes the only image, else --image, else the first reference's tag", () => {
  const d = (digest: string, tag: string) => ({
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    digest: `sha256:${digest.repeat(64)}`,
    size: 1,
    annotations: { "org.opencontainers.image.ref.name": tag },
  });
  const a = d("a", "v1");
  const b = d("b", "v2");
  assert.equal(
    pickImage(
      "L",
      [a, { ...a, annotations: { "org.opencontainers.image.ref.name": "latest" } }],
      undefined,
      ["r.io/x:9"],
    ),
    a,
  );
  assert.equal(pickImage("L", [a, b], "v2", ["r.io/x:1"]), b);
  assert.equal(pickImage("L", [a, b], undefined, ["r.io/x:v1"]), a);
  assert.throws(
    () => pickImage("L", [a, b], undefined, ["r.io/x:v3"]),
    /OCI layout L holds 2 images; say which with --image/,
  );
  assert.throws(
    () => pickImage("L", [a, b], "v9", ["r.io/x:v1"]),
    /image "v9" not found in OCI layout L/,
  );
});
