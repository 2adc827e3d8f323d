/**
 * Tests for the container-run harness (`_runtime.ts`) against the cached Debian base image that
 * `make_base_image.sh` builds: python runs, output and exit codes come back, env and args
 * overrides apply, a detached server is reachable on the host's loopback, and cleanup happens.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { homedir } from "node:os";
import { join } from "node:path";
import { runImage, runtimeSkipReason } from "./_runtime.ts";

const cache = process.env.PYCONTAINER_TEST_CACHE ?? join(homedir(), ".cache", "pycontainer-test");
const layout = join(cache, "base-layout");
const tag = "bookworm";

async function skipReason(): Promise<string | false> {
  const reason = await runtimeSkipReason();
  if (reason !== undefined) return reason;
  if (!existsSync(join(layout, ".complete"))) {
    return `no base image at ${layout} (run tests/integration/make_base_image.sh)`;
  }
  return false;
}
const skip = await skipReason();
// Unpacking an image takes seconds; Bun's default per-test timeout is 5 s.
const opts = { skip, timeout: 120_000 };

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

test("runImage() runs python in the base image and returns its stdout", opts, async () => {
  const r = await runImage(layout, tag, { args: ["python3", "-c", "print(6*7)"] });
  assert.equal(r.stdout, "42\n");
  assert.equal(r.exitCode, 0);
});

test("runImage() removes the bundle and the runc container afterwards", opts, async () => {
  const c = await runImage(layout, tag, { args: ["python3", "-c", "print('bye')"], detach: true });
  assert.ok(existsSync(join(c.bundle, "config.json")));
  const exited = await c.exited;
  assert.equal(exited.stdout, "bye\n");
  const r = await c.stop();
  assert.equal(r.exitCode, 0);
  assert.ok(!existsSync(c.bundle), `${c.bundle} still exists`);
  const state = spawnSync("runc", ["state", c.id], { encoding: "utf8" });
  assert.notEqual(state.status, 0, `runc still knows ${c.id}: ${state.stdout}`);
});

test("runImage() reports the exit code and stderr of a failing process", opts, async () => {
  const r = await runImage(layout, tag, {
    args: ["python3", "-c", "import sys; sys.stderr.write('boom\\n'); sys.exit(3)"],
  });
  assert.equal(r.exitCode, 3);
  assert.match(r.stderr, /boom/);
  assert.equal(r.stdout, "");
});

test("runImage() applies env overrides on top of the image's env", opts, async () => {
  const r = await runImage(layout, tag, {
    args: ["python3", "-c", "import os; print(os.environ['GREETING'], os.environ['LANG'])"],
    env: { GREETING: "hello", LANG: "C" },
  });
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.stdout, "hello C\n");
});

test("runImage() uses the image's own command when no args are given", opts, async () => {
  // The base image's Cmd is `python3`; with stdin closed it reads EOF and exits 0.
  const r = await runImage(layout, tag);
  assert.equal(r.exitCode, 0, r.stderr);
});

test("runImage() throws and kills the container when it outlives timeoutMs", opts, async () => {
  const started = Date.now();
  await assert.rejects(
    runImage(layout, tag, {
      args: ["python3", "-c", "import time; time.sleep(60)"],
      timeoutMs: 1500,
    }),
    /still running after 1500 ms/,
  );
  assert.ok(Date.now() - started < 20_000);
});

test("runImage() fails clearly for a tag that is not in the layout", opts, async () => {
  await assert.rejects(runImage(layout, "no-such-tag"), /umoci unpack .*:no-such-tag failed/);
});

test("runImage() detach serves HTTP on the host loopback until stop()", opts, async () => {
  const port = await freePort();
  const c = await runImage(layout, tag, {
    args: ["python3", "-m", "http.server", String(port), "--bind", "127.0.0.1", "-d", "/etc"],
    detach: true,
  });
  try {
    let body = "";
    for (let i = 0; i < 100 && body === ""; i++) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/os-release`);
        body = await res.text();
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    assert.match(body, /bookworm/);
  } finally {
    const r = await c.stop();
    assert.notEqual(r.exitCode, 0);
  }
  await assert.rejects(fetch(`http://127.0.0.1:${port}/os-release`));
});
