import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeBytes } from "../../src/oci/digest.ts";
import { MediaType } from "../../src/oci/media_types.ts";
import { downloadBlob } from "../../src/registry/blob_download.ts";
import { RegistryClient } from "../../src/registry/client.ts";
import { BlobStore } from "../../src/store/blob_store.ts";
import { DigestMismatchError } from "../../src/store/verify_stream.ts";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let server: Server;
let host: string;
let work: string;
const routes = new Map<string, Handler>();

before(async () => {
  work = await mkdtemp(join(tmpdir(), "pycontainer-download-"));
  server = createServer((req, res) => {
    const handler = routes.get((req.url ?? "").split("?")[0]!);
    if (handler) handler(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await rm(work, { recursive: true, force: true });
});

const blob = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 7) % 256);
const d = describeBytes(blob, MediaType.ociLayerGzip);
const client = new RegistryClient({
  credentials: { get: () => Promise.resolve(undefined) },
  baseDelayMs: 1,
});

/** Sends `bytes` from `start`, cutting the connection after `cutAfter` bytes when given. */
function send(req: IncomingMessage, res: ServerResponse, start: number, cutAfter?: number) {
  const body = blob.subarray(start);
  const headers: Record<string, string> = { "content-length": String(body.byteLength) };
  if (start > 0) {
    headers["content-range"] = `bytes ${start}-${blob.byteLength - 1}/${blob.byteLength}`;
  }
  res.writeHead(start > 0 ? 206 : 200, headers);
  if (cutAfter === undefined) {
    res.end(body);
    return;
  }
  res.write(body.subarray(0, cutAfter), () => setTimeout(() => req.socket.destroy(), 50));
}

test("downloadBlob() resumes an interrupted download with a Range request", async () => {
  const ranges: (string | undefined)[] = [];
  routes.set(`/v2/resume/app/blobs/${d.digest}`, (req, res) => {
    ranges.push(req.headers.range);
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    const start = m ? Number(m[1]) : 0;
    send(req, res, start, ranges.length === 1 ? 1024 * 1024 : undefined);
  });
  const store = new BlobStore(join(work, "resume"));
  const path = await downloadBlob(client, { registry: host, repository: "resume/app" }, d, store, {
    baseDelayMs: 1,
  });
  assert.deepEqual(new Uint8Array(await readFile(path)), blob);
  assert.equal(ranges.length, 2);
  assert.equal(ranges[0], undefined);
  const resumedAt = Number(/^bytes=(\d+)-$/.exec(ranges[1] ?? "")?.[1]);
  assert.ok(resumedAt > 0 && resumedAt <= 1024 * 1024, `resumed at ${ranges[1]}`);
  assert.deepEqual(await readdir(join(work, "resume", "blobs", "sha256")), [d.digest.slice(7)]);
});

test("downloadBlob() starts over when the server ignores the range", async () => {
  const ranges: (string | undefined)[] = [];
  routes.set(`/v2/norange/app/blobs/${d.digest}`, (req, res) => {
    ranges.push(req.headers.range);
    send(req, res, 0, ranges.length === 1 ? 512 * 1024 : undefined);
  });
  const store = new BlobStore(join(work, "norange"));
  const path = await downloadBlob(client, { registry: host, repository: "norange/app" }, d, store, {
    baseDelayMs: 1,
  });
  assert.deepEqual(new Uint8Array(await readFile(path)), blob);
  assert.equal(ranges.length, 2);
  assert.match(ranges[1] ?? "", /^bytes=\d+-$/);
});

test("downloadBlob() gives up on a registry that keeps sending wrong bytes, leaving nothing", async () => {
  let hits = 0;
  routes.set(`/v2/wrong/app/blobs/${d.digest}`, (_req, res) => {
    hits++;
    res.writeHead(200).end(blob.map((b) => b ^ 1));
  });
  const store = new BlobStore(join(work, "wrong"));
  await assert.rejects(
    downloadBlob(client, { registry: host, repository: "wrong/app" }, d, store, {
      attempts: 3,
      baseDelayMs: 1,
    }),
    (e: unknown) => {
      assert.ok(e instanceof DigestMismatchError);
      assert.match(
        e.message,
        new RegExp(
          `^blob ${d.digest} from registry ${host} is corrupt: content has digest sha256:`,
        ),
      );
      return true;
    },
  );
  assert.equal(hits, 3);
  assert.deepEqual(await readdir(join(work, "wrong", "blobs", "sha256")), []);
});

test("downloadBlob() stops a body longer than the descriptor", async () => {
  routes.set(`/v2/long/app/blobs/${d.digest}`, (_req, res) => {
    res.writeHead(200).end(new Uint8Array(blob.byteLength + 10));
  });
  const store = new BlobStore(join(work, "long"));
  await assert.rejects(
    downloadBlob(client, { registry: host, repository: "long/app" }, d, store, {
      attempts: 2,
      baseDelayMs: 1,
    }),
    /is corrupt: more than the expected 3145728 bytes/,
  );
  assert.deepEqual(await readdir(join(work, "long", "blobs", "sha256")), []);
});
