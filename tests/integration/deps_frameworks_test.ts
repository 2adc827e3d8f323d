/**
 * End-to-end `--include-deps` for the two WSGI frameworks the command detection knows: a Flask app
 * and a Django project, each depending on gunicorn, resolved against the local index of real
 * wheels. The detected command must be gunicorn from the venv; the test runs exactly that command
 * (on a free port, so parallel test files don't collide on 8000) and asks it for one page.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { runImage } from "./_runtime.ts";
import { freePort } from "./_registry.ts";
import {
  buildWithDeps,
  copyFixture,
  depsSkipReason,
  getWhenUp,
  imageConfig,
  useDepsFixture,
} from "./_deps.ts";

const skip = await depsSkipReason();
const fx = useDepsFixture("pycontainer-frameworks-", skip);

async function buildAndServe(fixture: string, expectedCmd: string[], message: string) {
  const dir = await copyFixture(fixture, fx.work);
  const r = await buildWithDeps(fx, dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^ {2}gunicorn==\d/m);
  const layout = join(dir, "dist", "image");
  const config = await imageConfig(layout) as {
    config: { Entrypoint?: string[]; Cmd?: string[]; ExposedPorts?: Record<string, unknown> };
  };
  const command = [...(config.config.Entrypoint ?? []), ...(config.config.Cmd ?? [])];
  assert.deepEqual(command, expectedCmd);
  assert.ok(config.config.ExposedPorts?.["8000/tcp"] !== undefined);
  const port = await freePort();
  const args = command.map((a) => a.replace("0.0.0.0:8000", `127.0.0.1:${port}`));
  assert.notDeepEqual(args, command);
  const container = await runImage(layout, "latest", { detach: true, args });
  try {
    const res = await getWhenUp(
      `http://127.0.0.1:${port}/`,
      30_000,
      () => JSON.stringify(container.output()),
    );
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(JSON.parse(res.body), { message });
  } finally {
    await container.stop();
  }
}

test("build --include-deps runs a Flask app with gunicorn from the venv", { skip }, async () => {
  await buildAndServe(
    "flask_app",
    ["gunicorn", "-b", "0.0.0.0:8000", "app:app"],
    "Hello from Flask in pycontainer!",
  );
});

test("build --include-deps runs a Django project's wsgi with gunicorn", { skip }, async () => {
  await buildAndServe(
    "django_app",
    ["gunicorn", "-b", "0.0.0.0:8000", "mysite.wsgi:application"],
    "Hello from Django in pycontainer!",
  );
});
