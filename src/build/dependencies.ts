/**
 * `--include-deps`: which wheels the target needs, fetched and installed into a venv as layer
 * entries — no pip, no Python, nothing unpacked on the host.
 *
 * 1. **What**: the first lock file found (uv.lock, pylock.toml, poetry.lock, requirements.txt)
 *    narrowed to the target (markers, wheel tags); without one, `[project.dependencies]` resolved
 *    against the index. Lock entries without URLs (poetry.lock, hashed requirements.txt) are found
 *    on the index by file name and hash.
 * 2. **Fetch**: into the content-addressed wheel cache, every file's sha256 verified.
 * 3. **Install**: the venv skeleton plus each wheel streamed from its zip into entries; wheels
 *    whose files exceed {@linkcode OWN_LAYER_BYTES} get a layer of their own (at most
 *    {@linkcode MAX_OWN_LAYERS}) so a change to a small dependency doesn't re-push a huge one.
 * 4. **The project itself**: a dist-info (METADATA, entry points, RECORD) and a `.pth` file
 *    pointing at the app directory, so `[project.scripts]` become `<venv>/bin/<name>`.
 *
 * @module
 */
import type { PyprojectFacts } from "../project/pyproject.ts";
import type { LayerEntry } from "../layer/entry.ts";
import { fileEntry } from "../layer/entry.ts";
import { PycontainerError } from "../errors.ts";
import { findLockFile, readLockFile } from "../python/locks/find_lock_file.ts";
import { selectForTarget } from "../python/locks/select.ts";
import type { LockedFile, LockedPackage } from "../python/locks/types.ts";
import { IndexClient } from "../python/index_client.ts";
import { resolve as resolveRequirements } from "../python/resolver.ts";
import type { TargetEnvironment } from "../python/target_env.ts";
import { downloadWheels, type WheelDownload } from "../python/wheel_cache.ts";
import { installWheel, type WheelInstall } from "../python/wheel_install.ts";
import { venvEntries, venvLayout } from "../python/venv.ts";
import { mergeInstalls } from "../python/install_merge.ts";
import { launcherScript, parseScriptEntryPoints } from "../python/script_launcher.ts";
import { formatRecord, recordHash } from "../python/record.ts";
import { normalizeName } from "../python/names.ts";
import type { BuildEventSink } from "./events.ts";

/** Wheels installing more than this many bytes get their own layer. */
export const OWN_LAYER_BYTES = 50 * 1024 * 1024;
/** At most this many dependency layers of their own (the rest share one). */
export const MAX_OWN_LAYERS = 8;

/** Where the dependencies come from and what they are. */
export interface DependencySet {
  /** `uv.lock`, `poetry.lock`…, or `pyproject.toml (resolved)`. */
  source: string;
  /** Wheels to install, one per package. */
  wheels: WheelDownload[];
}

/** Inputs shared by the dependency steps. */
export interface DependencyContext {
  /** Project directory. */
  context: string;
  /** The project's pyproject facts. */
  pyproject: PyprojectFacts;
  /** The target interpreter and platform. */
  target: TargetEnvironment;
  /** Cache root (wheels live under `wheels/`). */
  cacheDir: string;
  /** Host environment (index URLs, credentials). */
  env: Record<string, string | undefined>;
  /** Progress. */
  emit: BuildEventSink;
}

/**
 * Decides the wheels to install for the target: from the lock file, or by resolving.
 *
 * @param ctx Project, target, cache and environment.
 * @returns The source and the wheels (name, version, file, URL, sha256).
 * @throws {PycontainerError} when a package has no wheel for the target, or resolution fails.
 *
 * @example
 * ```ts ignore
 * const deps = await chooseDependencies(ctx);
 * console.log(deps.source, deps.wheels.length);
 * ```
 */
export async function chooseDependencies(ctx: DependencyContext): Promise<DependencySet> {
  const index = indexClientFor(ctx);
  const found = await findLockFile(ctx.context);
  const projectName = normalizeName(ctx.pyproject.name);
  if (found) {
    const set = await readLockFile(found, { env: ctx.env, context: ctx.context } as never);
    for (const w of set.warnings ?? []) ctx.emit({ type: "warning", message: w });
    const chosen = selectForTarget(set, { markerEnv: ctx.target.markerEnv, tags: ctx.target.tags })
      .filter((s) => normalizeName(s.package.name) !== projectName);
    const wheels: WheelDownload[] = [];
    for (const s of chosen) wheels.push(await lockedWheel(s.package, s.wheel, index, found.path));
    if (set.unpinned?.length) {
      ctx.emit({
        type: "info",
        message: `resolving ${set.unpinned.length} unpinned requirements from ${found.path}`,
      });
      wheels.push(...await resolved(set.unpinned, ctx, index, found.path));
    }
    ctx.emit({ type: "info", message: `${wheels.length} packages from ${found.kind}` });
    return { source: found.kind, wheels };
  }
  const requirements = [...ctx.pyproject.dependencies];
  ctx.emit({
    type: "info",
    message: `resolving ${requirements.length} dependencies from pyproject.toml`,
  });
  const wheels = await resolved(requirements, ctx, index, ctx.pyproject.path);
  return { source: "pyproject.toml (resolved)", wheels };
}

function indexClientFor(ctx: DependencyContext): IndexClient {
  return new IndexClient({ tool: ctx.pyproject.tool, env: ctx.env });
}

async function resolved(
  requirements: readonly string[],
  ctx: DependencyContext,
  index: IndexClient,
  source: string,
): Promise<WheelDownload[]> {
  if (requirements.length === 0) return [];
  const resolution = await resolveRequirements({
    requirements,
    target: {
      markerEnv: ctx.target.markerEnv,
      tags: ctx.target.tags,
      pythonFullVersion: ctx.target.pythonFullVersion,
    },
    index,
    source,
  });
  for (const p of resolution.packages) {
    ctx.emit({
      type: "detail",
      message: `resolved ${p.displayName} ${p.version} (${p.wheel.filename})`,
    });
  }
  return resolution.packages.map((p) => {
    const sha256 = p.wheel.hashes["sha256"];
    if (!sha256) {
      throw new PycontainerError(
        `${p.name} ${p.version}: the index gives no sha256 for ${p.wheel.filename}`,
        {
          hint:
            "use an index that publishes sha256 hashes (PyPI does), or lock the dependencies with hashes",
        },
      );
    }
    return {
      name: p.name,
      version: p.version,
      filename: p.wheel.filename,
      url: p.wheel.url,
      sha256,
      size: p.wheel.size,
    };
  });
}

async function lockedWheel(
  pkg: LockedPackage,
  wheel: LockedFile | undefined,
  index: IndexClient,
  lockPath: string,
): Promise<WheelDownload> {
  const version = pkg.version ?? "";
  if (!wheel) {
    throw new PycontainerError(
      `${pkg.name} ${version} in ${lockPath} has no wheel pycontainer can install`,
      {
        hint: "pin a version that publishes wheels, or provide the wheel's URL in the lock",
      },
    );
  }
  const sha256 = wheel.hashes.sha256 ?? pkg.hashes?.find((h) => h.startsWith("sha256:"))?.slice(7);
  if (wheel.url && sha256) {
    return {
      name: pkg.name,
      version,
      filename: wheel.filename,
      url: wheel.url,
      sha256,
      size: wheel.size,
    };
  }
  // poetry.lock and requirements.txt name files (and hashes) but not URLs: ask the index.
  const page = await index.projectFiles(pkg.name);
  const hashes = new Set(
    [sha256, ...(pkg.hashes ?? []).map((h) => h.replace(/^sha256:/, ""))].filter(Boolean),
  );
  const file =
    page?.files.find((f) =>
      f.filename === wheel.filename && (!hashes.size || hashes.has(f.hashes["sha256"] ?? ""))
    ) ??
      page?.files.find((f) => hashes.has(f.hashes["sha256"] ?? "") && f.filename.endsWith(".whl"));
  const fileSha = file?.hashes["sha256"];
  if (!file || !fileSha) {
    throw new PycontainerError(
      `${pkg.name} ${version}: ${wheel.filename} from ${lockPath} is not on the index`,
      {
        hint: "check the lock's index (--index-url / PIP_INDEX_URL) or regenerate the lock",
      },
    );
  }
  return {
    name: pkg.name,
    version,
    filename: file.filename,
    url: file.url,
    sha256: fileSha,
    size: file.size,
  };
}

/** A group of dependency entries that becomes one layer. */
export interface DependencyLayer {
  /** Layer name for history and progress, e.g. `dependencies` or `dependency torch 2.5.1`. */
  name: string;
  /** The entries. */
  entries: LayerEntry[];
}

/**
 * Downloads the wheels and installs them (plus the venv skeleton) as layer entries.
 *
 * @param deps The chosen wheels.
 * @param ctx Project, target, cache and environment.
 * @param venvDir Absolute venv path in the image, e.g. `/app/.venv`.
 * @returns Dependency layers, bottom first: the shared one, then the big wheels.
 *
 * @example
 * ```ts ignore
 * const layers = await installDependencies(deps, ctx, "/app/.venv");
 * ```
 */
export async function installDependencies(
  deps: DependencySet,
  ctx: DependencyContext,
  venvDir: string,
): Promise<DependencyLayer[]> {
  const index = indexClientFor(ctx);
  const cached = await downloadWheels(deps.wheels, {
    cacheDir: ctx.cacheDir,
    open: (url) => index.openUrl(url),
    onEvent: (e) => {
      if (e.kind === "done") ctx.emit({ type: "info", message: `downloaded ${e.filename}` });
      else if (e.kind === "retry") {
        ctx.emit({ type: "detail", message: `retrying ${e.filename}: ${e.reason}` });
      }
    },
  });
  const target = { venvDir: venvDir.replace(/^\/+/, ""), pythonVersion: ctx.target.pythonVersion };
  const installs: WheelInstall[] = [];
  for (const w of cached) {
    installs.push(await installWheel(w.path, target, { sha256: w.sha256, requested: true }));
  }
  const skeleton = {
    label: "venv",
    entries: venvEntries({
      ...target,
      pythonHome: ctx.target.pythonHome,
      pythonFullVersion: ctx.target.pythonFullVersion,
      interpreter: ctx.target.pythonPath.split("/").pop()!,
    }),
  };
  mergeInstalls([skeleton, ...installs]); // rejects two wheels writing different content to one path
  const size = (i: WheelInstall) =>
    i.entries.reduce(
      (n, e) =>
        n + (e.type === "file"
          ? (e.content.kind === "bytes" ? e.content.bytes.length : e.content.size)
          : 0),
      0,
    );
  const big = installs.filter((i) => size(i) > OWN_LAYER_BYTES).sort((a, b) => size(b) - size(a))
    .slice(0, MAX_OWN_LAYERS);
  const shared = installs.filter((i) => !big.includes(i));
  return [
    { name: "dependencies", entries: mergeInstalls([skeleton, ...shared]) },
    ...big.map((i) => ({
      name: `dependency ${i.dist.name} ${i.dist.version}`,
      entries: mergeInstalls([i]),
    })),
  ];
}

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
