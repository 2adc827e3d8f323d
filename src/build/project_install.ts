/**
 * The project itself installed into the venv of an `--include-deps` image, the way an editable
 * install does it: a dist-info with METADATA, entry points, INSTALLER and RECORD, a `.pth` file
 * putting the app directory on `sys.path`, and launchers for `[project.scripts]` and
 * `[project.gui-scripts]`. These entries form their own small layer above the dependencies, so
 * the dependency layer does not depend on the project's metadata.
 *
 * @module
 */
import type { PyprojectFacts } from "../project/pyproject.ts";
import type { LayerEntry } from "../layer/entry.ts";
import { fileEntry } from "../layer/entry.ts";
import type { TargetEnvironment } from "../python/target_env.ts";
import { venvLayout } from "../python/venv.ts";
import { launcherScript, parseScriptEntryPoints } from "../python/script_launcher.ts";
import { formatRecord, recordHash } from "../python/record.ts";

/**
 * The project installed into the venv the way an editable install does it: a dist-info with
 * METADATA, entry points, INSTALLER and RECORD, a `.pth` file putting the app directory on
 * `sys.path`, and launchers for `[project.scripts]`/`[project.gui-scripts]`.
 *
 * @param pyproject The project.
 * @param target The target environment (for the site-packages path).
 * @param venvDir Absolute venv path, e.g. `/app/.venv`.
 * @param importDir Absolute directory to put on `sys.path` (the workdir, or `<workdir>/src`).
 * @returns Layer entries (paths without a leading slash).
 *
 * @example
 * ```ts ignore
 * const entries = projectInstallEntries(pyproject, target, "/app/.venv", "/app/src");
 * ```
 */
export function projectInstallEntries(
  pyproject: PyprojectFacts,
  target: TargetEnvironment,
  venvDir: string,
  importDir: string,
): LayerEntry[] {
  const layout = venvLayout({
    venvDir: venvDir.replace(/^\/+/, ""),
    pythonVersion: target.pythonVersion,
  });
  const name = pyproject.name.replace(/[-_.]+/g, "_");
  const version = pyproject.version ?? "0";
  const distInfo = `${name}-${version}.dist-info`;
  const site = layout.sitePackages;
  const python = `/${layout.python}`;
  const files: { path: string; text: string; mode?: number }[] = [];
  const metadata = [`Metadata-Version: 2.1`, `Name: ${pyproject.name}`, `Version: ${version}`];
  if (pyproject.description) metadata.push(`Summary: ${pyproject.description}`);
  if (pyproject.requiresPython) metadata.push(`Requires-Python: ${pyproject.requiresPython}`);
  for (const d of pyproject.dependencies) metadata.push(`Requires-Dist: ${d}`);
  files.push({ path: `${distInfo}/METADATA`, text: `${metadata.join("\n")}\n` });
  files.push({ path: `${distInfo}/INSTALLER`, text: "pycontainer\n" });
  files.push({ path: `__editable__.${name}-${version}.pth`, text: `${importDir}\n` });
  const sections: string[] = [];
  const scripts: LayerEntry[] = [];
  for (
    const [section, table, kind] of [
      ["console_scripts", pyproject.scripts, "console"],
      ["gui_scripts", pyproject.guiScripts, "gui"],
    ] as const
  ) {
    const lines = Object.entries(table).filter(([, v]) => /^[\w.]+\s*:\s*[\w.]+$/.test(v.trim()));
    if (!lines.length) continue;
    sections.push(`[${section}]`, ...lines.map(([k, v]) => `${k} = ${v.trim()}`), "");
    const text = `[${section}]\n${lines.map(([k, v]) => `${k} = ${v.trim()}`).join("\n")}\n`;
    const parsed = parseScriptEntryPoints(text, pyproject.path, layout.pythonMinor);
    for (const script of parsed) {
      if (script.kind !== kind) continue;
      scripts.push(
        fileEntry(`${layout.scripts}/${script.name}`, launcherScript(script, python), 0o755),
      );
    }
  }
  if (sections.length) {
    files.push({ path: `${distInfo}/entry_points.txt`, text: `${sections.join("\n")}` });
  }
  const entries = files.map((f) => fileEntry(`${site}/${f.path}`, f.text));
  const rows = [
    ...files.map((f) => {
      const bytes = new TextEncoder().encode(f.text);
      return { path: f.path, hash: recordHash(bytes), size: String(bytes.length) };
    }),
    ...scripts.map((s) => {
      const bytes = s.type === "file" && s.content.kind === "bytes"
        ? s.content.bytes
        : new Uint8Array();
      return {
        path: relativeTo(site, s.path),
        hash: recordHash(bytes),
        size: String(bytes.length),
      };
    }),
    { path: `${distInfo}/RECORD`, hash: "", size: "" },
  ];
  entries.push(fileEntry(`${site}/${distInfo}/RECORD`, formatRecord(rows)));
  return [...entries, ...scripts];
}

function relativeTo(fromDir: string, path: string): string {
  const from = fromDir.split("/");
  const to = path.split("/");
  let i = 0;
  while (i < from.length && from[i] === to[i]) i++;
  return [...from.slice(i).map(() => ".."), ...to.slice(i)].join("/");
}
