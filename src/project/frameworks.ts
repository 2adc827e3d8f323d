/**
 * Web/app framework detection from source: finds the app object a server must load (module and
 * variable, e.g. `app.main:app`) or the script a framework runs, and the command, port and
 * environment that serve it inside a container (listening on 0.0.0.0, not localhost).
 *
 * | framework | found by | command | port |
 * |---|---|---|---|
 * | FastAPI, Starlette, Litestar | `app = FastAPI(` (top level) | `uvicorn mod:app --host 0.0.0.0 --port 8000` | 8000 |
 * | Flask | `app = Flask(` or `def create_app(` | `gunicorn -b 0.0.0.0:8000 mod:app` if gunicorn is a dependency, else `flask --app mod:app run --host 0.0.0.0 --port 5000` | 8000 / 5000 |
 * | Django | `manage.py` naming `DJANGO_SETTINGS_MODULE` | `gunicorn -b 0.0.0.0:8000 proj.wsgi:application` if gunicorn is a dependency and `proj/wsgi.py` exists, else `python3 manage.py runserver 0.0.0.0:8000` | 8000 |
 * | Streamlit | `import streamlit` | `streamlit run app.py --server.port 8501 --server.address 0.0.0.0` | 8501 |
 * | Gradio | `import gradio` and `.launch(` | `python3 app.py` with `GRADIO_SERVER_NAME=0.0.0.0` | 7860 |
 *
 * Test files (`tests/`, `test_*.py`, `conftest.py`) are never candidates. Among several
 * candidates the shallowest file wins, then the conventional name (`main.py`, `app.py`, …).
 *
 * @module
 */

import { moduleName, type SourceLayout } from "./layout.ts";

/** A framework pycontainer knows how to serve. */
export type FrameworkName =
  | "django"
  | "fastapi"
  | "litestar"
  | "starlette"
  | "flask"
  | "streamlit"
  | "gradio";

/** Order of preference when several frameworks are found (Django projects often embed others). */
export const FRAMEWORK_ORDER: readonly FrameworkName[] = [
  "django",
  "fastapi",
  "litestar",
  "starlette",
  "flask",
  "streamlit",
  "gradio",
];

/** One app found in the source. */
export interface FrameworkApp {
  /** The framework. */
  readonly framework: FrameworkName;
  /** The file, relative to the context. */
  readonly file: string;
  /** For app objects: `module:variable` (or `module:create_app()` for a Flask factory). */
  readonly target?: string;
}

/** How to serve an app: the command (exec form), exposed ports and environment. */
export interface FrameworkCommand {
  /** The command, exec form. */
  readonly cmd: string[];
  /** Exposed ports, `N/tcp`. */
  readonly ports: string[];
  /** Environment the command needs. */
  readonly env: Record<string, string>;
}

const _CLASSES: Record<string, FrameworkName> = {
  FastAPI: "fastapi",
  Starlette: "starlette",
  Litestar: "litestar",
  Flask: "flask",
};
const _ASSIGN =
  /^([A-Za-z_]\w*)\s*(?::[^=\n]+)?=\s*(?:[A-Za-z_]\w*\.)*(FastAPI|Starlette|Litestar|Flask)\s*\(/gm;
const _NAME_RANK = [
  "main.py",
  "app.py",
  "streamlit_app.py",
  "api.py",
  "server.py",
  "asgi.py",
  "wsgi.py",
];

/**
 * Finds framework apps in the project's Python sources.
 *
 * @param sources Source text by relative path (the files the reader chose to read).
 * @param layout The source layout (for module names under `src/`).
 * @returns The apps found, best candidate first within each framework.
 *
 * @example
 * ```ts
 * import { findFrameworkApps } from "./frameworks.ts";
 * import { detectLayout } from "./layout.ts";
 * const sources = { "main.py": "from fastapi import FastAPI\napi = FastAPI()\n" };
 * const [app] = findFrameworkApps(sources, detectLayout(Object.keys(sources)));
 * console.assert(app!.framework === "fastapi" && app!.target === "main:api");
 * ```
 */
export function findFrameworkApps(
  sources: Readonly<Record<string, string>>,
  layout: SourceLayout,
): FrameworkApp[] {
  const apps: FrameworkApp[] = [];
  const files = Object.keys(sources).filter((f) => f.endsWith(".py") && !_isTest(f)).sort(_rank);
  for (const file of files) {
    const text = sources[file]!;
    const mod = moduleName(file, layout.importRoot) ?? moduleName(file, "");
    if (mod !== undefined) {
      for (const m of text.matchAll(_ASSIGN)) {
        const framework = _CLASSES[m[2]!]!;
        if (_imports(text, framework)) apps.push({ framework, file, target: `${mod}:${m[1]}` });
      }
      if (/^def create_app\s*\(/m.test(text) && _imports(text, "flask")) {
        if (!apps.some((a) => a.file === file && a.framework === "flask")) {
          apps.push({ framework: "flask", file, target: `${mod}:create_app()` });
        }
      }
    }
    if (file === "manage.py" && /DJANGO_SETTINGS_MODULE/.test(text)) {
      apps.push({ framework: "django", file });
    }
    if (_imports(text, "streamlit")) apps.push({ framework: "streamlit", file });
    if (_imports(text, "gradio") && /\.launch\s*\(/.test(text)) {
      apps.push({ framework: "gradio", file });
    }
  }
  return apps;
}

/**
 * The command that serves an app found by {@linkcode findFrameworkApps}.
 *
 * @param app The app.
 * @param sources Source texts (Django reads `DJANGO_SETTINGS_MODULE` from `manage.py`).
 * @param dependencies PEP 503 normalised dependency names (gunicorn changes Flask and Django).
 * @returns Command, ports and environment.
 *
 * @example
 * ```ts
 * import { frameworkCommand } from "./frameworks.ts";
 * const c = frameworkCommand({ framework: "flask", file: "app.py", target: "app:app" }, {}, new Set());
 * console.assert(c.cmd.join(" ") === "flask --app app:app run --host 0.0.0.0 --port 5000");
 * ```
 */
export function frameworkCommand(
  app: FrameworkApp,
  sources: Readonly<Record<string, string>>,
  dependencies: ReadonlySet<string>,
): FrameworkCommand {
  const target = app.target ?? "";
  switch (app.framework) {
    case "fastapi":
    case "starlette":
    case "litestar":
      return _serve(["uvicorn", target, "--host", "0.0.0.0", "--port", "8000"], 8000);
    case "flask":
      return dependencies.has("gunicorn")
        ? _serve(["gunicorn", "-b", "0.0.0.0:8000", target], 8000)
        : _serve(["flask", "--app", target, "run", "--host", "0.0.0.0", "--port", "5000"], 5000);
    case "django": {
      const settings = /DJANGO_SETTINGS_MODULE["']\s*,\s*["']([\w.]+)["']/.exec(
        sources[app.file] ?? "",
      );
      const project = settings?.[1]?.split(".").slice(0, -1).join(".");
      const wsgiFile = project === undefined
        ? undefined
        : `${project.replaceAll(".", "/")}/wsgi.py`;
      if (
        dependencies.has("gunicorn") && wsgiFile !== undefined && sources[wsgiFile] !== undefined
      ) {
        return _serve(["gunicorn", "-b", "0.0.0.0:8000", `${project}.wsgi:application`], 8000);
      }
      return _serve(["python3", "manage.py", "runserver", "0.0.0.0:8000"], 8000);
    }
    case "streamlit":
      return _serve(
        ["streamlit", "run", app.file, "--server.port", "8501", "--server.address", "0.0.0.0"],
        8501,
      );
    case "gradio":
      return {
        cmd: ["python3", app.file],
        ports: ["7860/tcp"],
        env: { GRADIO_SERVER_NAME: "0.0.0.0", GRADIO_SERVER_PORT: "7860" },
      };
  }
}

function _serve(cmd: string[], port: number): FrameworkCommand {
  return { cmd, ports: [`${port}/tcp`], env: {} };
}

/** True when the text imports the framework's top-level module. */
function _imports(text: string, module: string): boolean {
  return new RegExp(`^\\s*(?:import|from)\\s+${module}\\b`, "m").test(text);
}

function _isTest(file: string): boolean {
  const segs = file.split("/");
  const base = segs.at(-1)!;
  return segs.slice(0, -1).some((s) => s === "tests" || s === "test") ||
    base.startsWith("test_") || base.endsWith("_test.py") || base === "conftest.py";
}

/** Shallowest first, then conventional names, then path order. */
function _rank(a: string, b: string): number {
  const depth = a.split("/").length - b.split("/").length;
  if (depth !== 0) return depth;
  const ra = _nameRank(a);
  const rb = _nameRank(b);
  if (ra !== rb) return ra - rb;
  return a < b ? -1 : a > b ? 1 : 0;
}

function _nameRank(file: string): number {
  const i = _NAME_RANK.indexOf(file.slice(file.lastIndexOf("/") + 1));
  return i === -1 ? _NAME_RANK.length : i;
}
