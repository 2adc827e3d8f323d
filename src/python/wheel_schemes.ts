/**
 * Where each member of a wheel goes in a venv (the "spread" step of the binary distribution
 * format spec), and the small pieces of metadata an installer writes about where a wheel came
 * from. The archive root goes to site-packages; `{name}-{version}.data/<scheme>/…` goes to the
 * scheme's directory: `purelib` and `platlib` → site-packages (one directory in a venv),
 * `scripts` → `bin` (flat: no subdirectories, never the venv's own `python*`), `headers` →
 * `include/site/pythonX.Y/<name>`, `data` → the venv root. Any other scheme is an error rather
 * than a guess.
 *
 * @module
 */
import { PycontainerError } from "../errors.ts";
import type { VenvLayout } from "./venv.ts";

/** The destination of one archive member. */
export interface MemberDestination {
  /** `root` for members outside `.data/`, else the `.data` scheme (`purelib`, `scripts`, …). */
  readonly scheme: string;
  /** Image path (no leading slash). */
  readonly path: string;
}

/**
 * Maps an archive member to its place in the venv.
 *
 * @param name The member name (already checked safe by the ZIP reader).
 * @param dataDir The wheel's `{name}-{version}.data` directory name.
 * @param layout The venv's scheme paths.
 * @param distName Distribution name from METADATA (for `headers`).
 * @param file The wheel's file name, for messages.
 * @returns Scheme and image path.
 * @throws {PycontainerError} On an unknown scheme, a file directly in `.data/`, a directory in
 *   `scripts`, or a script that would replace the venv's python.
 *
 * @example
 * ```ts
 * import { memberDestination } from "./wheel_schemes.ts";
 * import { venvLayout } from "./venv.ts";
 * const layout = venvLayout({ venvDir: "app/.venv", pythonVersion: "3.12" });
 * const d = memberDestination("demo-1.0.data/scripts/tool", "demo-1.0.data", layout, "demo", "demo.whl");
 * console.assert(d.scheme === "scripts" && d.path === "app/.venv/bin/tool");
 * ```
 */
export function memberDestination(
  name: string,
  dataDir: string,
  layout: VenvLayout,
  distName: string,
  file: string,
): MemberDestination {
  if (!name.startsWith(`${dataDir}/`)) {
    return { scheme: "root", path: `${layout.sitePackages}/${name}` };
  }
  const rest = name.slice(dataDir.length + 1);
  const slash = rest.indexOf("/");
  if (slash < 0) {
    throw invalidWheel(
      file,
      `has "${name}" directly in ${dataDir}/ (expected ${dataDir}/<scheme>/…)`,
    );
  }
  const scheme = rest.slice(0, slash);
  const sub = rest.slice(slash + 1);
  switch (scheme) {
    case "purelib":
    case "platlib":
      return { scheme, path: `${layout.sitePackages}/${sub}` };
    case "scripts":
      if (sub.includes("/")) {
        throw invalidWheel(file, `has a directory in ${dataDir}/scripts/ ("${sub}")`);
      }
      if (/^(python|pythonw|python3|python3\.\d+)$/.test(sub)) {
        throw invalidWheel(file, `has script "${sub}", which would replace the venv's python`);
      }
      return { scheme, path: `${layout.scripts}/${sub}` };
    case "headers":
      return { scheme, path: `${layout.include}/${distName}/${sub}` };
    case "data":
      return { scheme, path: `${layout.root}/${sub}` };
    default:
      throw invalidWheel(file, `uses unknown .data scheme "${scheme}" (${name})`);
  }
}

/**
 * The name pip and uv compare with entry point names to let a launcher replace a `.data/scripts`
 * file of the same name: the file name without a Windows suffix (`.exe`, `-script.py`, `.pya`).
 *
 * @param name A file name from `.data/scripts`.
 * @returns The name to compare.
 *
 * @example
 * ```ts
 * import { scriptMatchName } from "./wheel_schemes.ts";
 * console.assert(scriptMatchName("tool.exe") === "tool" && scriptMatchName("tool.py") === "tool.py");
 * ```
 */
export function scriptMatchName(name: string): string {
  for (const suffix of [".exe", "-script.py", ".pya"]) {
    if (name.endsWith(suffix)) return name.slice(0, -suffix.length);
  }
  return name;
}

/**
 * The PEP 610 `direct_url.json` for an archive URL, without credentials.
 *
 * @param url Where the wheel was downloaded from.
 * @param sha256 The wheel's SHA-256 (hex).
 * @returns The JSON text (keys sorted, as pip writes it).
 *
 * @example
 * ```ts
 * import { directUrlJson } from "./wheel_schemes.ts";
 * const json = JSON.parse(directUrlJson("https://user:pw@example.com/x.whl", "ab"));
 * console.assert(json.url === "https://example.com/x.whl" && json.archive_info.hashes.sha256 === "ab");
 * ```
 */
export function directUrlJson(url: string, sha256: string): string {
  let clean = url;
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    clean = u.href;
  } catch {
    // Not a URL (e.g. a plain path): keep as given.
  }
  return JSON.stringify({
    archive_info: { hash: `sha256=${sha256}`, hashes: { sha256 } },
    url: clean,
  });
}

/**
 * The error for a wheel that breaks the format's rules.
 *
 * @param file The wheel's file name.
 * @param what What it does wrong, starting with a verb (`has no RECORD`).
 * @returns The error, to be thrown.
 *
 * @example
 * ```ts
 * import { invalidWheel } from "./wheel_schemes.ts";
 * console.assert(invalidWheel("x.whl", "has no RECORD").message === "x.whl is not a valid wheel: it has no RECORD");
 * ```
 */
export function invalidWheel(file: string, what: string): PycontainerError {
  return new PycontainerError(`${file} is not a valid wheel: it ${what}`, {
    hint: "use another build of this package, or report the broken wheel to its publisher",
  });
}
