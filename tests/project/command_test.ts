import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { detectCommand, type DetectedCommand } from "../../src/project/command.ts";
import { readProject } from "../../src/project/facts.ts";
import { PycontainerError } from "../../src/errors.ts";
import { fixture, tempProject } from "./temp_project.ts";

async function detect(dir: string, installedScriptsDir?: string): Promise<DetectedCommand> {
  const { facts } = await readProject(dir);
  return detectCommand(
    facts,
    installedScriptsDir === undefined
      ? { workdir: "/app" }
      : { workdir: "/app", installedScriptsDir },
  );
}

/** Copies a fixture and rewrites its pyproject.toml. */
async function withPyproject<T>(
  name: string,
  edit: (t: string) => string,
  f: (dir: string) => Promise<T>,
) {
  const p = await tempProject(name);
  try {
    const path = join(p.dir, "pyproject.toml");
    await writeFile(path, edit(await readFile(path, "utf8")));
    return await f(p.dir);
  } finally {
    await p.remove();
  }
}

test("detectCommand() runs the hello app with python3 app.py", async () => {
  const d = await detect(fixture("hello"));
  assert.deepEqual(d, {
    cmd: ["python3", "app.py"],
    ports: [],
    env: {},
    labels: {},
    reason: "runs app.py",
  });
});

test("detectCommand() runs a [project.scripts] function through a generated launcher", async () => {
  const d = await detect(fixture("src_scripts"));
  assert.deepEqual(d.entrypoint, ["/app/.pycontainer/bin/greeter"]);
  assert.equal(d.cmd, undefined);
  assert.deepEqual(d.env, { PYTHONPATH: "/app/src" });
  assert.equal(
    d.reason,
    '[project.scripts] greeter = "greeter.cli:main" via a generated launcher (of 2 scripts)',
  );
  assert.ok(d.launcher?.type === "file");
  assert.equal(d.launcher.path, ".pycontainer/bin/greeter");
  assert.equal(d.launcher.mode, 0o755);
  assert.ok(d.launcher.content.kind === "bytes");
  const text = new TextDecoder().decode(d.launcher.content.bytes);
  assert.match(text, /^#!\/usr\/bin\/env python3\n/);
  assert.match(text, /sys\.path\.insert\(0, "\/app\/src"\)\nfrom greeter\.cli import main\n/);
});

test("detectCommand() uses the installed console script when the build installed the project", async () => {
  const d = await detect(fixture("src_scripts"), "/app/.venv/bin");
  assert.deepEqual(d.entrypoint, ["/app/.venv/bin/greeter"]);
  assert.equal(d.launcher, undefined);
});

test("detectCommand() picks the first script when none is named like the project", async () => {
  await withPyproject(
    "src_scripts",
    (t) => t.replace('name = "greeter"', 'name = "greeter-suite"'),
    async (dir) => {
      const d = await detect(dir);
      assert.deepEqual(d.entrypoint, ["/app/.pycontainer/bin/greet-admin"]);
      const text = d.launcher?.type === "file" && d.launcher.content.kind === "bytes"
        ? new TextDecoder().decode(d.launcher.content.bytes)
        : "";
      assert.match(text, /from greeter\.admin import run\n/);
    },
  );
});

test("detectCommand() splits a command-line script into exec form and exposes its port", async () => {
  const d = await detect(fixture("cmdline_script"));
  assert.deepEqual(d.entrypoint, ["uvicorn", "app:app", "--host", "0.0.0.0", "--port", "8080"]);
  assert.deepEqual(d.ports, ["8080/tcp"]);
  assert.equal(d.launcher, undefined);
  assert.equal(d.reason, "[project.scripts] myapi is a command line");
});

test("detectCommand() reports an unbalanced quote in a script with the file and script name", async () => {
  const path = join(fixture("bad_script"), "pyproject.toml");
  await assert.rejects(detect(fixture("bad_script")), (err) => {
    assert.ok(err instanceof PycontainerError);
    assert.equal(err.exitCode, 2);
    assert.equal(
      err.message,
      `${path} [project.scripts] bad has an unbalanced ' quote: gunicorn -b '0.0.0.0:8000 app:app`,
    );
    return true;
  });
});

test("detectCommand() serves a FastAPI app object with uvicorn on port 8000", async () => {
  const d = await detect(fixture("fastapi_app"));
  assert.deepEqual(d.cmd, ["uvicorn", "app.main:api", "--host", "0.0.0.0", "--port", "8000"]);
  assert.deepEqual(d.ports, ["8000/tcp"]);
  assert.deepEqual(d.labels, { "io.pycontainer.framework": "fastapi" });
  assert.equal(d.framework, "fastapi");
  assert.equal(d.reason, "fastapi (a dependency) app in app/main.py (app.main:api)");
});

test("detectCommand() serves Flask with gunicorn when it is a dependency", async () => {
  const d = await detect(fixture("flask_app"));
  assert.deepEqual(d.cmd, ["gunicorn", "-b", "0.0.0.0:8000", "app:app"]);
  assert.deepEqual(d.ports, ["8000/tcp"]);
  assert.equal(d.framework, "flask");
});

test("detectCommand() serves a Flask factory with flask run when gunicorn is absent", async () => {
  const d = await detect(fixture("flask_factory"));
  assert.deepEqual(d.cmd, [
    "flask",
    "--app",
    "blog:create_app()",
    "run",
    "--host",
    "0.0.0.0",
    "--port",
    "5000",
  ]);
  assert.deepEqual(d.ports, ["5000/tcp"]);
  assert.deepEqual(d.labels, { "io.pycontainer.framework": "flask" });
});

test("detectCommand() runs Django with runserver, or gunicorn and the project's wsgi module", async () => {
  const d = await detect(fixture("django_site"));
  assert.deepEqual(d.cmd, ["python3", "manage.py", "runserver", "0.0.0.0:8000"]);
  assert.deepEqual(d.ports, ["8000/tcp"]);
  assert.equal(d.framework, "django");
  await withPyproject(
    "django_site",
    (t) => t.replace('"Django>=5.0,<6"', '"Django>=5.0,<6", "gunicorn"'),
    async (dir) => {
      const g = await detect(dir);
      assert.deepEqual(g.cmd, ["gunicorn", "-b", "0.0.0.0:8000", "mysite.wsgi:application"]);
    },
  );
});

test("detectCommand() runs Streamlit on 8501 listening on all interfaces", async () => {
  const d = await detect(fixture("streamlit_app"));
  assert.deepEqual(d.cmd, [
    "streamlit",
    "run",
    "streamlit_app.py",
    "--server.port",
    "8501",
    "--server.address",
    "0.0.0.0",
  ]);
  assert.deepEqual(d.ports, ["8501/tcp"]);
  assert.deepEqual(d.labels, { "io.pycontainer.framework": "streamlit" });
});

test("detectCommand() runs Gradio with python3 and GRADIO_SERVER_NAME=0.0.0.0", async () => {
  const d = await detect(fixture("gradio_app"));
  assert.deepEqual(d.cmd, ["python3", "app.py"]);
  assert.deepEqual(d.env, { GRADIO_SERVER_NAME: "0.0.0.0", GRADIO_SERVER_PORT: "7860" });
  assert.deepEqual(d.ports, ["7860/tcp"]);
  assert.equal(d.framework, "gradio");
});

test("detectCommand() runs python3 -m for a flat package with __main__.py, never tests", async () => {
  const d = await detect(fixture("flat_main"));
  assert.deepEqual(d.cmd, ["python3", "-m", "weather"]);
  assert.deepEqual(d.env, {});
  assert.equal(d.reason, "package weather has weather/__main__.py");
});

test("detectCommand() runs python3 -m with PYTHONPATH for a src-layout package", async () => {
  await withPyproject(
    "src_scripts",
    (t) => t.replace(/\[project\.scripts\][^[]*/, ""),
    async (dir) => {
      await writeFile(
        join(dir, "src/greeter/__main__.py"),
        "from greeter.cli import main\nmain()\n",
      );
      const d = await detect(dir);
      assert.deepEqual(d.cmd, ["python3", "-m", "greeter"]);
      assert.deepEqual(d.env, { PYTHONPATH: "/app/src" });
    },
  );
});

test("detectCommand() falls back to main.py and notes a framework dependency without an app", async () => {
  await withPyproject("hello", (t) => t + 'dependencies = ["fastapi"]\n', async (dir) => {
    await writeFile(join(dir, "main.py"), "print('main')\n");
    const d = await detect(dir);
    assert.deepEqual(d.cmd, ["python3", "app.py"]);
    assert.equal(d.reason, "runs app.py (fastapi listed but no app found)");
  });
  const secrets = await detect(fixture("secrets_project"));
  assert.deepEqual(secrets.cmd, ["python3", "main.py"]);
});

test("detectCommand() fails with a hint when there is no entry point", async () => {
  const dir = fixture("no_entry");
  await assert.rejects(detect(dir), (err) => {
    assert.ok(err instanceof PycontainerError);
    assert.equal(err.exitCode, 1);
    assert.equal(err.message, `No entry point found in ${dir}`);
    assert.match(err.hint ?? "", /\[project\.scripts\]/);
    assert.match(err.hint ?? "", /--entrypoint\/--cmd/);
    return true;
  });
});

test("detectCommand() keeps a trailing-slash workdir tidy", async () => {
  const { facts } = await readProject(fixture("src_scripts"));
  const d = detectCommand(facts, { workdir: "/srv/app/" });
  assert.deepEqual(d.entrypoint, ["/srv/app/.pycontainer/bin/greeter"]);
  assert.deepEqual(d.env, { PYTHONPATH: "/srv/app/src" });
});
