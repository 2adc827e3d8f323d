/**
 * Console and GUI script launchers: parses the `[console_scripts]` and `[gui_scripts]` groups of
 * a wheel's `entry_points.txt` (entry points spec: INI, `=` as the only delimiter, case-sensitive
 * names, `module:attr [extras]` values with extras ignored) and writes the small Python file that
 * goes to `<venv>/bin/<name>`. The text is the one uv writes (pip's distlib template without
 * `import re`), so images look like what uv and poetry users get; the shebang names the venv's
 * python, falling back to the `/bin/sh` trampoline pip and uv use for paths longer than 127 bytes
 * or containing spaces.
 *
 * @module
 */
import { PycontainerError } from "../errors.ts";

/** One launcher to generate. */
export interface ScriptEntryPoint {
  /** File name in the venv's bin directory. */
  readonly name: string;
  /** Module to import, e.g. `docutils.__main__`. */
  readonly module: string;
  /** Attribute path to call, e.g. `main` or `cli.main`. */
  readonly attr: string;
  /** `console` or `gui` (identical on Linux; kept for the report). */
  readonly kind: "console" | "gui";
}

const VALUE = /^([\p{L}\p{N}_.-]+)\s*:\s*([\p{L}\p{N}_.-]+)(?:\s*\[[^\]]*\])?\s*$/u;
const RESERVED = /^(python|pythonw|python3|python3\.\d+)$/;

/**
 * Parses the script groups of `entry_points.txt`. Like uv and pip, `pip3.N` launchers are
 * replaced by one named for the target's Python minor version.
 *
 * @param text The file content.
 * @param label The wheel, for messages.
 * @param pythonMinor The target's minor version (e.g. 12), for the `pip3.N` special case.
 * @returns Launchers in file order.
 * @throws {PycontainerError} On a malformed line or value, an unsafe or reserved script name.
 *
 * @example
 * ```ts
 * import { parseScriptEntryPoints } from "./script_launcher.ts";
 * const eps = parseScriptEntryPoints("[console_scripts]\nwheel = wheel.cli:main\n", "w.whl", 12);
 * console.assert(eps[0]!.name === "wheel" && eps[0]!.attr === "main");
 * ```
 */
export function parseScriptEntryPoints(
  text: string,
  label: string,
  pythonMinor: number,
): ScriptEntryPoint[] {
  const bad = (line: number, what: string) =>
    new PycontainerError(`${label}: entry_points.txt line ${line}: ${what}`, {
      hint: "the wheel's entry points are broken; use another build of this package",
    });
  const scripts = new Map<string, ScriptEntryPoint>();
  let kind: "console" | "gui" | undefined;
  let inSection = false;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const section = /^\[(.*)\]$/.exec(line);
    if (section) {
      const name = section[1]!.trim();
      inSection = true;
      kind = name === "console_scripts" ? "console" : name === "gui_scripts" ? "gui" : undefined;
      continue;
    }
    if (!inSection) throw bad(i + 1, "a value before any [section]");
    if (kind === undefined) continue;
    const eq = line.indexOf("=");
    if (eq < 0) throw bad(i + 1, `"${line}" has no "="`);
    const name = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    const m = VALUE.exec(value);
    if (!m) throw bad(i + 1, `"${value}" is not a module:function reference`);
    if (name === "" || name === "." || name === ".." || /[/\\\0\s]/.test(name)) {
      throw bad(i + 1, `"${name}" is not a safe script name`);
    }
    if (RESERVED.test(name)) {
      throw bad(i + 1, `script "${name}" would replace the venv's python`);
    }
    scripts.set(name, { name, module: m[1]!, attr: m[2]!, kind });
  }
  const result = [...scripts.values()].filter((s) => !/^pip3\.\d+$/.test(s.name));
  const pip3 = result.find((s) => s.name === "pip3");
  if (pip3) result.push({ ...pip3, name: `pip3.${pythonMinor}` });
  return result;
}

/**
 * The shebang line for a Python executable, without the newline.
 *
 * @param python Absolute path of the interpreter in the image, e.g. `/app/.venv/bin/python`.
 * @returns `#!/app/.venv/bin/python`, or a `/bin/sh` trampoline for long or spaced paths.
 *
 * @example
 * ```ts
 * import { shebang } from "./script_launcher.ts";
 * console.assert(shebang("/app/.venv/bin/python") === "#!/app/.venv/bin/python");
 * ```
 */
export function shebang(python: string): string {
  if (2 + python.length + 1 > 127 || python.includes(" ")) {
    const quoted = `'${python.replaceAll("'", `'"'"'`)}'`;
    return `#!/bin/sh\n'''exec' ${quoted} "$0" "$@"\n' '''`;
  }
  return `#!${python}`;
}

/**
 * The launcher script for an entry point.
 *
 * @param script The entry point.
 * @param python Absolute path of the venv's interpreter in the image.
 * @returns The file content (mode 0755 in the image).
 *
 * @example
 * ```ts
 * import { launcherScript } from "./script_launcher.ts";
 * const text = launcherScript({ name: "x", module: "pkg.cli", attr: "app.run", kind: "console" }, "/app/.venv/bin/python");
 * console.assert(text.includes("from pkg.cli import app\n") && text.includes("sys.exit(app.run())"));
 * ```
 */
export function launcherScript(script: ScriptEntryPoint, python: string): string {
  const importName = script.attr.split(".")[0]!;
  return `${shebang(python)}
# -*- coding: utf-8 -*-
import sys
from ${script.module} import ${importName}
if __name__ == "__main__":
    if sys.argv[0].endswith("-script.pyw"):
        sys.argv[0] = sys.argv[0][:-11]
    elif sys.argv[0].endswith(".exe"):
        sys.argv[0] = sys.argv[0][:-4]
    sys.exit(${script.attr}())
`;
}

/**
 * Rewrites a `#!python` / `#!pythonw` first line (wheel spec, `.data/scripts`) to the venv's
 * interpreter, as pip does: the whole first line is replaced.
 *
 * @param content The script as shipped in the wheel.
 * @param python Absolute path of the venv's interpreter in the image.
 * @returns The rewritten script, or `undefined` if it doesn't start with `#!python`.
 *
 * @example
 * ```ts
 * import { rewriteScriptShebang } from "./script_launcher.ts";
 * const out = rewriteScriptShebang(new TextEncoder().encode("#!python\nprint(1)\n"), "/v/bin/python");
 * console.assert(new TextDecoder().decode(out) === "#!/v/bin/python\nprint(1)\n");
 * ```
 */
export function rewriteScriptShebang(content: Uint8Array, python: string): Uint8Array | undefined {
  if (!startsWithPythonShebang(content)) return undefined;
  const nl = content.indexOf(0x0a);
  const rest = nl < 0 ? new Uint8Array(0) : content.subarray(nl + 1);
  const head = new TextEncoder().encode(`${shebang(python)}\n`);
  const out = new Uint8Array(head.length + rest.length);
  out.set(head);
  out.set(rest, head.length);
  return out;
}

/**
 * Whether content starts with the bytes `#!python` (which also covers `#!pythonw`).
 *
 * @param content The first bytes of a script (8 are enough).
 * @returns True when the shebang must be rewritten.
 *
 * @example
 * ```ts
 * import { startsWithPythonShebang } from "./script_launcher.ts";
 * console.assert(!startsWithPythonShebang(new TextEncoder().encode("#!/bin/sh\n")));
 * ```
 */
export function startsWithPythonShebang(content: Uint8Array): boolean {
  const magic = "#!python";
  if (content.length < magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (content[i] !== magic.charCodeAt(i)) return false;
  return true;
}
