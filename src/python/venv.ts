/**
 * The virtual environment in the image, laid out as `uv venv` makes it on Linux, so uv and poetry
 * users find what they expect and `python -m site` inside the container agrees:
 *
 * ```
 * app/.venv/pyvenv.cfg                  home = <dir of the base interpreter>, version, …
 * app/.venv/bin/python -> /usr/local/bin/python3.12   (absolute link to the base interpreter)
 * app/.venv/bin/python3 -> python, bin/python3.12 -> python
 * app/.venv/bin/activate                (POSIX shell, optional)
 * app/.venv/lib/python3.12/site-packages/
 * app/.venv/lib64 -> lib
 * app/.venv/.gitignore, CACHEDIR.TAG    (as uv writes them)
 * ```
 *
 * `pyvenv.cfg` carries both `version` (stdlib `venv`) and `version_info` (uv, virtualenv), so
 * tools that read either find it. Python itself only needs `home` and
 * `include-system-site-packages`. Paths are image paths without a leading `/` (layer entries);
 * the interpreter paths inside links and scripts are absolute.
 *
 * @module
 */
import { posix } from "node:path";
import { fileEntry, type LayerEntry } from "../layer/entry.ts";
import { usageError } from "../errors.ts";

/** Where a venv lives and which Python it is for — all the wheel installer needs. */
export interface VenvTarget {
  /** Image path of the venv without a leading slash, e.g. `app/.venv`. */
  readonly venvDir: string;
  /** Target Python `X.Y`, e.g. `3.12`. */
  readonly pythonVersion: string;
}

/** The install scheme of a venv (sysconfig's `venv` scheme on POSIX), as image paths. */
export interface VenvLayout {
  /** The venv root, also the `data` scheme. */
  readonly root: string;
  /** `bin`: scripts and launchers. */
  readonly scripts: string;
  /** `lib/pythonX.Y/site-packages`: purelib and platlib. */
  readonly sitePackages: string;
  /** `include/site/pythonX.Y`: headers go to `<include>/<distribution name>`. */
  readonly include: string;
  /** Absolute path of the venv's interpreter in the image, for shebangs. */
  readonly python: string;
  /** The target's minor version number, e.g. 12. */
  readonly pythonMinor: number;
}

/** Options for {@linkcode venvEntries}. */
export interface VenvOptions extends VenvTarget {
  /** Absolute directory of the base interpreter in the image, e.g. `/usr/local/bin`. */
  readonly pythonHome: string;
  /** Full version `X.Y.Z` when known (from the base image); `pythonVersion` is used otherwise. */
  readonly pythonFullVersion?: string;
  /** Base interpreter's file name in `pythonHome`. Default `python<X.Y>`. */
  readonly interpreter?: string;
  /** Prompt for `activate` and `pyvenv.cfg`. Omitted by default. */
  readonly prompt?: string;
  /** Write `bin/activate` (POSIX shell). Default true. */
  readonly activate?: boolean;
}

/**
 * Computes the install paths of a venv.
 *
 * @param target The venv directory and Python version.
 * @returns The scheme paths.
 * @throws {PycontainerError} (exit code 2) when the directory or version is malformed.
 *
 * @example
 * ```ts
 * import { venvLayout } from "./venv.ts";
 * const l = venvLayout({ venvDir: "app/.venv", pythonVersion: "3.12" });
 * console.assert(l.sitePackages === "app/.venv/lib/python3.12/site-packages");
 * console.assert(l.python === "/app/.venv/bin/python");
 * ```
 */
export function venvLayout(target: VenvTarget): VenvLayout {
  const root = target.venvDir;
  if (
    root === "" || root.startsWith("/") || root.endsWith("/") ||
    root.split("/").some((s) => s === "" || s === "." || s === "..") || root.includes("\\")
  ) {
    throw usageError(
      `invalid venv directory "${root}"`,
      "give an image path without a leading slash, e.g. app/.venv",
    );
  }
  const m = /^3\.(\d+)$/.exec(target.pythonVersion);
  if (!m) {
    throw usageError(`invalid Python version "${target.pythonVersion}"`, "use X.Y, e.g. 3.12");
  }
  return {
    root,
    scripts: `${root}/bin`,
    sitePackages: `${root}/lib/python${target.pythonVersion}/site-packages`,
    include: `${root}/include/site/python${target.pythonVersion}`,
    python: `/${root}/bin/python`,
    pythonMinor: Number(m[1]),
  };
}

/**
 * The layer entries of an empty venv (directories, `pyvenv.cfg`, interpreter links).
 *
 * @param options Venv directory, base interpreter location and version.
 * @returns Entries sorted by path.
 * @throws {PycontainerError} (exit code 2) on a relative `pythonHome` or a malformed version.
 *
 * @example
 * ```ts
 * import { venvEntries } from "./venv.ts";
 * const entries = venvEntries({
 *   venvDir: "app/.venv",
 *   pythonHome: "/usr/local/bin",
 *   pythonVersion: "3.12",
 *   pythonFullVersion: "3.12.7",
 * });
 * const python = entries.find((e) => e.path === "app/.venv/bin/python");
 * console.assert(python?.type === "symlink" && python.target === "/usr/local/bin/python3.12");
 * ```
 */
export function venvEntries(options: VenvOptions): LayerEntry[] {
  const layout = venvLayout(options);
  const home = options.pythonHome.replace(/(.)\/+$/, "$1");
  if (!home.startsWith("/")) {
    throw usageError(
      `invalid Python home "${options.pythonHome}"`,
      "give an absolute directory, e.g. /usr/local/bin",
    );
  }
  const full = options.pythonFullVersion ?? options.pythonVersion;
  if (!full.startsWith(`${options.pythonVersion}.`) && full !== options.pythonVersion) {
    throw usageError(
      `Python version ${full} does not match ${options.pythonVersion}`,
      "pass the full version of the same interpreter",
    );
  }
  const interpreter = options.interpreter ?? `python${options.pythonVersion}`;
  const cfg = [
    `home = ${home}`,
    "implementation = CPython",
    `version = ${full}`,
    `version_info = ${full}`,
    "include-system-site-packages = false",
    ...(options.prompt === undefined ? [] : [`prompt = ${options.prompt}`]),
  ].join("\n") + "\n";
  const r = layout.root;
  const dir = (path: string): LayerEntry => ({ type: "dir", path, mode: 0o755 });
  const link = (path: string, target: string): LayerEntry => ({ type: "symlink", path, target });
  const entries: LayerEntry[] = [
    dir(r),
    fileEntry(`${r}/.gitignore`, "*"),
    fileEntry(`${r}/CACHEDIR.TAG`, _CACHEDIR_TAG),
    fileEntry(`${r}/pyvenv.cfg`, cfg),
    dir(layout.scripts),
    link(`${layout.scripts}/python`, posix.join(home, interpreter)),
    link(`${layout.scripts}/python3`, "python"),
    link(`${layout.scripts}/python${options.pythonVersion}`, "python"),
    dir(`${r}/lib`),
    dir(`${r}/lib/python${options.pythonVersion}`),
    dir(layout.sitePackages),
    link(`${r}/lib64`, "lib"),
  ];
  if (options.activate ?? true) {
    entries.push(fileEntry(`${layout.scripts}/activate`, _activate(`/${r}`, options.prompt)));
  }
  return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

const _CACHEDIR_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n" +
  "# This file is a cache directory tag created by pycontainer.\n" +
  "# For information about cache directory tags, see https://bford.info/cachedir/\n";

/** A minimal POSIX-shell `activate` (bash, zsh, dash): sets VIRTUAL_ENV and PATH, `deactivate` undoes it. */
function _activate(venv: string, prompt: string | undefined): string {
  const quoted = `'${venv.replaceAll("'", `'"'"'`)}'`;
  const label = (prompt ?? posix.basename(venv)).replaceAll("'", "");
  return `# This file must be used with "source bin/activate"; you cannot run it directly.
deactivate () {
    if [ -n "\${_OLD_VIRTUAL_PATH:-}" ]; then
        PATH="\${_OLD_VIRTUAL_PATH}"
        export PATH
        unset _OLD_VIRTUAL_PATH
    fi
    if [ -n "\${_OLD_VIRTUAL_PS1:-}" ]; then
        PS1="\${_OLD_VIRTUAL_PS1}"
        export PS1
        unset _OLD_VIRTUAL_PS1
    fi
    unset VIRTUAL_ENV VIRTUAL_ENV_PROMPT
    hash -r 2>/dev/null
    if [ "\${1:-}" != "nondestructive" ]; then
        unset -f deactivate
    fi
}
deactivate nondestructive
VIRTUAL_ENV=${quoted}
export VIRTUAL_ENV
_OLD_VIRTUAL_PATH="$PATH"
PATH="$VIRTUAL_ENV/bin:$PATH"
export PATH
VIRTUAL_ENV_PROMPT='${label}'
export VIRTUAL_ENV_PROMPT
if [ -z "\${VIRTUAL_ENV_DISABLE_PROMPT:-}" ]; then
    _OLD_VIRTUAL_PS1="\${PS1:-}"
    PS1="(\${VIRTUAL_ENV_PROMPT}) \${PS1:-}"
    export PS1
fi
hash -r 2>/dev/null
`;
}
