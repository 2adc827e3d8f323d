import { test } from "node:test";
import assert from "node:assert/strict";
import { findFrameworkApps, frameworkCommand } from "../../src/project/frameworks.ts";
import { detectLayout } from "../../src/project/layout.ts";

function find(sources: Record<string, string>) {
  return findFrameworkApps(sources, detectLayout(Object.keys(sources)));
}

test("findFrameworkApps() finds Starlette and Litestar app objects", () => {
  const apps = find({
    "asgi.py": "from starlette.applications import Starlette\napplication = Starlette(routes=[])\n",
    "lite.py": "from litestar import Litestar\n\napp = Litestar(route_handlers=[])\n",
  });
  assert.deepEqual(apps, [
    { framework: "starlette", file: "asgi.py", target: "asgi:application" },
    { framework: "litestar", file: "lite.py", target: "lite:app" },
  ]);
});

test("findFrameworkApps() needs the framework import and a top-level assignment", () => {
  assert.deepEqual(find({ "main.py": "class FastAPI: pass\napp = FastAPI()\n" }), []);
  assert.deepEqual(
    find({ "main.py": "import fastapi\ndef make():\n    app = fastapi.FastAPI()\n" }),
    [],
  );
  assert.deepEqual(find({ "main.py": "import fastapi\nserver = fastapi.FastAPI(title='x')\n" }), [
    { framework: "fastapi", file: "main.py", target: "main:server" },
  ]);
});

test("findFrameworkApps() uses module names relative to src/ in a src layout", () => {
  const apps = find({
    "src/shop/__init__.py": "",
    "src/shop/web.py": "from flask import Flask\napp = Flask(__name__)\n",
  });
  assert.deepEqual(apps, [{ framework: "flask", file: "src/shop/web.py", target: "shop.web:app" }]);
});

test("findFrameworkApps() skips tests and prefers shallow, conventional files", () => {
  const fast = "from fastapi import FastAPI\napp = FastAPI()\n";
  const apps = find({
    "tests/test_api.py": fast,
    "test_smoke.py": fast,
    "conftest.py": fast,
    "pkg/__init__.py": "",
    "pkg/zzz.py": fast,
    "pkg/main.py": fast,
    "server.py": fast,
  });
  assert.deepEqual(apps.map((a) => a.file), ["server.py", "pkg/main.py", "pkg/zzz.py"]);
});

test("findFrameworkApps() needs .launch( for Gradio and manage.py settings for Django", () => {
  assert.deepEqual(find({ "ui.py": "import gradio as gr\n" }), []);
  assert.deepEqual(find({ "ui.py": "import gradio as gr\ngr.Blocks().launch()\n" }), [
    { framework: "gradio", file: "ui.py" },
  ]);
  assert.deepEqual(find({ "manage.py": "print('not django')\n" }), []);
});

test("frameworkCommand() serves ASGI apps with uvicorn", () => {
  const c = frameworkCommand(
    { framework: "litestar", file: "lite.py", target: "lite:app" },
    {},
    new Set(),
  );
  assert.deepEqual(c, {
    cmd: ["uvicorn", "lite:app", "--host", "0.0.0.0", "--port", "8000"],
    ports: ["8000/tcp"],
    env: {},
  });
});

test("frameworkCommand() falls back to runserver when the wsgi module is missing", () => {
  const manage = 'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site.conf.settings")\n';
  const app = { framework: "django" as const, file: "manage.py" };
  const deps = new Set(["django", "gunicorn"]);
  assert.deepEqual(frameworkCommand(app, { "manage.py": manage }, deps).cmd, [
    "python3",
    "manage.py",
    "runserver",
    "0.0.0.0:8000",
  ]);
  const withWsgi = frameworkCommand(app, { "manage.py": manage, "site/conf/wsgi.py": "" }, deps);
  assert.deepEqual(withWsgi.cmd, ["gunicorn", "-b", "0.0.0.0:8000", "site.conf.wsgi:application"]);
});

test("findFrameworkApps() picks a multipage Streamlit app's entry, not its pages", () => {
  const page = "import streamlit as st\nst.write('page')\n";
  const apps = find({ "pages/1_Plots.py": page, "pages/2_Data.py": page, "Home.py": page });
  assert.deepEqual(apps[0], { framework: "streamlit", file: "Home.py" });
});
