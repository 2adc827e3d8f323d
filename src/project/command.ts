/**
 * Decides what the image runs, from the project facts alone (pure). The rules, first match wins:
 *
 * 1. `[project.scripts]`: the script named like the project, else the first one.
 *    - `name = "module:func"` runs that function: through the console script of an installed
 *      project when the build says where those are (`installedScriptsDir`), else through a
 *      generated launcher (`<workdir>/.pycontainer/bin/<name>`, see `launcher.ts`);
 *    - any other value is a command line, split with POSIX shell rules into exec form
 *      (`uvicorn app:app --host 0.0.0.0 --port 8080`); `--port`/`-p`/`--bind`/`-b` values
 *      become exposed ports.
 *    Scripts become the `Entrypoint` (arguments to `docker run` go to the program).
 * 2. A framework app (see `frameworks.ts`): a framework that is also a `[project.dependencies]`
 *    entry first, in {@linkcode FRAMEWORK_ORDER}; then one found in source only.
 * 3. `python3 -m <package>` for a package with `__main__.py` (the one named like the project,
 *    else the first by name).
 * 4. `python3 <file>` for the first of `app.py`, `main.py`, `__main__.py`, `run.py`,
 *    `server.py`, `<name>.py`, `src/app.py`, `src/main.py`, else the only top-level module.
 *
 * Rules 2–4 set `Cmd`, so `docker run IMAGE sh` still works for debugging. Commands use
 * `python3`, present in both the official images and Debian-packaged Pythons. The working
 * directory is the workdir (where the files are copied), so `module:var` resolves from there;
 * a src layout adds `PYTHONPATH=<workdir>/src`. Explicit configuration (`--entrypoint`, `--cmd`,
 * `--expose`) always wins: the build applies it over this result.
 *
 * @module
 */

import type { LayerEntry } from "../layer/entry.ts";
import { PycontainerError } from "../errors.ts";
import {
  findFrameworkApps,
  FRAMEWORK_ORDER,
  type FrameworkApp,
  frameworkCommand,
  type FrameworkName,
} from "./frameworks.ts";
import { LAUNCHER_DIR, makeLauncher, parseEntryPoint } from "./launcher.ts";
import { normalizeName, requirementName } from "./pyproject.ts";
import { shellSplit } from "./shell_split.ts";
import type { ProjectFacts } from "./facts.ts";

/** Options for {@linkcode detectCommand}. */
export interface DetectOptions {
  /** The image's working directory, where the app files are copied, e.g. `/app`. */
  workdir: string;
  /** Where console scripts of the installed project live (e.g. `/app/.venv/bin`), if installed. */
  installedScriptsDir?: string;
}

/** What the image should run. */
export interface DetectedCommand {
  /** Exec-form entrypoint (for `[project.scripts]`). */
  entrypoint?: string[];
  /** Exec-form command (frameworks and plain Python). */
  cmd?: string[];
  /** Ports to expose, `N/tcp`. */
  ports: string[];
  /** Environment additions (`PYTHONPATH` for src layouts, framework settings). */
  env: Record<string, string>;
  /** Labels, e.g. `io.pycontainer.framework`. */
  labels: Record<string, string>;
  /** The detected framework, if any. */
  framework?: FrameworkName;
  /** One sentence for `--verbose` and `--dry-run`: what was chosen and why. */
  reason: string;
  /** A generated launcher to add to the app layer, path relative to the workdir. */
  launcher?: LayerEntry;
}

const _FALLBACK_FILES = ["app.py", "main.py", "__main__.py", "run.py", "server.py"];
const _NOT_ENTRY = new Set(["setup.py", "conftest.py", "noxfile.py", "fabfile.py", "manage.py"]);

/**
 * Detects the entrypoint/command, ports, environment and labels of the image.
 *
 * @param facts The project facts (see `readProject` in `facts.ts`).
 * @param options The workdir and, if the project is installed, its console scripts directory.
 * @returns The detected command and why.
 * @throws {PycontainerError} (exit 1) when nothing runnable is found; (exit 2) for a script value
 *   that is neither an entry point nor a well-formed command line.
 *
 * @example A single-module app
 * ```ts
 * import { detectCommand } from "./command.ts";
 * import { detectLayout } from "./layout.ts";
 * import { parsePyproject } from "./pyproject.ts";
 * const pyproject = parsePyproject('[project]\nname = "hello"\n', "pyproject.toml");
 * const facts = { context: ".", pyproject, layout: detectLayout(["app.py"]), sources: {} };
 * const d = detectCommand(facts, { workdir: "/app" });
 * console.assert(d.cmd!.join(" ") === "python3 app.py");
 * ```
 */
export function detectCommand(facts: ProjectFacts, options: DetectOptions): DetectedCommand {
  const workdir = options.workdir.replace(/\/+$/, "") || "/";
  const src = facts.layout.importRoot === "src";
  const env: Record<string, string> = src ? { PYTHONPATH: _join(workdir, "src") } : {};
  const fromScripts = _fromScripts(facts, options, workdir, env);
  if (fromScripts !== undefined) return fromScripts;

  const deps = new Set(
    facts.pyproject.dependencies.map(requirementName).filter((n): n is string => n !== undefined),
  );
  const apps = findFrameworkApps(facts.sources, facts.layout);
  const app = _pickApp(apps, deps);
  if (app !== undefined) {
    const served = frameworkCommand(app, facts.sources, deps);
    const how = deps.has(app.framework) ? "a dependency" : "found in source";
    return {
      cmd: served.cmd,
      ports: served.ports,
      env: { ...env, ...served.env },
      labels: { "io.pycontainer.framework": app.framework },
      framework: app.framework,
      reason: `${app.framework} (${how}) app in ${app.file}` +
        (app.target === undefined ? "" : ` (${app.target})`),
    };
  }
  const missed = FRAMEWORK_ORDER.filter((f) => deps.has(f));
  const note = missed.length === 0 ? "" : ` (${missed.join(", ")} listed but no app found)`;

  const pkgName = normalizeName(facts.pyproject.name).replaceAll("-", "_");
  const mains = facts.layout.packages.filter((p) => p.hasMain);
  const main = mains.find((p) => p.name === pkgName) ?? mains[0];
  if (main !== undefined) {
    return {
      cmd: ["python3", "-m", main.name],
      ports: [],
      env,
      labels: {},
      reason: `package ${main.name} has ${main.dir}/__main__.py${note}`,
    };
  }
  const candidates = [..._FALLBACK_FILES, `${pkgName}.py`, "src/app.py", "src/main.py"];
  const topLevel = facts.layout.modules.filter((m) => !m.includes("/") && !_NOT_ENTRY.has(m));
  const file = candidates.find((c) => facts.layout.modules.includes(c)) ??
    (topLevel.length === 1 ? topLevel[0] : undefined);
  if (file !== undefined) {
    return { cmd: ["python3", file], ports: [], env, labels: {}, reason: `runs ${file}${note}` };
  }
  throw new PycontainerError(`No entry point found in ${facts.context}${note}`, {
    hint: 'add [project.scripts] to pyproject.toml (e.g. app = "mypkg.cli:main"), an app.py or ' +
      "main.py, a package with __main__.py, or pass --entrypoint/--cmd",
    exitCode: 1,
  });
}

function _fromScripts(
  facts: ProjectFacts,
  options: DetectOptions,
  workdir: string,
  env: Record<string, string>,
): DetectedCommand | undefined {
  const scripts = Object.entries(facts.pyproject.scripts);
  if (scripts.length === 0) return undefined;
  const wanted = normalizeName(facts.pyproject.name);
  const [name, value] = scripts.find(([n]) => normalizeName(n) === wanted) ?? scripts[0]!;
  const others = scripts.length > 1 ? ` (of ${scripts.length} scripts)` : "";
  const ref = parseEntryPoint(value);
  if (ref === undefined) {
    const argv = shellSplit(value, `${facts.pyproject.path} [project.scripts] ${name}`);
    if (argv.length === 0) {
      throw new PycontainerError(`${facts.pyproject.path}: [project.scripts] ${name} is empty`, {
        hint: 'set it to "module:function" or a command line',
        exitCode: 2,
      });
    }
    return {
      entrypoint: argv,
      ports: _portsOf(argv),
      env,
      labels: {},
      reason: `[project.scripts] ${name} is a command line${others}`,
    };
  }
  if (options.installedScriptsDir !== undefined) {
    return {
      entrypoint: [_join(options.installedScriptsDir, name)],
      ports: [],
      env,
      labels: {},
      reason: `[project.scripts] ${name} = "${value}" via the installed console script${others}`,
    };
  }
  const importDir = facts.layout.importRoot === "src" ? _join(workdir, "src") : workdir;
  return {
    entrypoint: [_join(workdir, `${LAUNCHER_DIR}/${name}`)],
    ports: [],
    env,
    labels: {},
    reason: `[project.scripts] ${name} = "${value}" via a generated launcher${others}`,
    launcher: makeLauncher(name, ref, importDir),
  };
}

/** Picks the app of a framework that is a dependency, else the first found in source. */
function _pickApp(apps: FrameworkApp[], deps: ReadonlySet<string>): FrameworkApp | undefined {
  for (const f of FRAMEWORK_ORDER) {
    const app = apps.find((a) => a.framework === f);
    if (app !== undefined && deps.has(f)) return app;
  }
  for (const f of FRAMEWORK_ORDER) {
    const app = apps.find((a) => a.framework === f);
    if (app !== undefined) return app;
  }
  return undefined;
}

/** Ports named by common server flags in an argv: --port N, -p N, --bind/-b host:N. */
function _portsOf(argv: string[]): string[] {
  const ports = new Set<string>();
  argv.forEach((arg, i) => {
    const [flag, inline] = arg.includes("=")
      ? arg.split("=", 2) as [string, string]
      : [arg, undefined];
    const value = inline ?? argv[i + 1];
    if (value === undefined) return;
    let port: string | undefined;
    if (["--port", "-p", "--server.port"].includes(flag)) port = value;
    else if (["--bind", "-b"].includes(flag)) port = /:(\d+)$/.exec(value)?.[1];
    if (port !== undefined && /^\d{1,5}$/.test(port) && Number(port) <= 65535) {
      ports.add(`${Number(port)}/tcp`);
    }
  });
  return [...ports];
}

function _join(dir: string, rel: string): string {
  return dir.endsWith("/") ? dir + rel : `${dir}/${rel}`;
}
