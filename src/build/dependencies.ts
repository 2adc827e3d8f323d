/**
 * `--include-deps`: which wheels the target needs, fetched and installed into a venv as layer
 * entries — no pip, no Python, nothing unpacked on the host.
 *
 * 1. **What**: the lock file given by `--lock`, else the first one found (uv.lock, pylock.toml,
 *    poetry.lock, requirements.txt), narrowed to the target (markers, extras, groups, wheel
 *    tags); without one, `[project.dependencies]` plus the requested extras and groups resolved
 *    against the indexes and `--find-links` directories. The resolution is printed (and, with
 *    `--write-lock FILE`, written as a pylock.toml; a lock discovered at FILE itself is not read
 *    but replaced, so the flag always means "resolve afresh"; a multi-platform build writes all
 *    its platforms into the one file). Lock entries without URLs (poetry.lock, hashed
 *    requirements.txt) are found on the index by file name and hash; sdist-only packages are
 *    built with uv or pip when the result is pure Python (see `dependency_index.ts`).
 * 2. **Fetch**: into the content-addressed wheel cache, every file's sha256 verified.
 * 3. **Install**: the venv skeleton plus each wheel streamed from its zip into entries; wheels
 *    whose files exceed {@linkcode OWN_LAYER_BYTES} get a layer of their own (at most
 *    {@linkcode MAX_OWN_LAYERS}) so a change to a small dependency doesn't re-push a huge one.
 * 4. **The project itself**: see `project_install.ts`.
 *
 * Start-up: an app-only rebuild reads the lock and finds the installed set in the layer cache,
 * so the modules needed only on a miss (index client, resolver, wheel download and install,
 * sdist builds, lock writing) are imported where they are used, not when the build starts.
 *
 * @module
 */
import { isAbsolute, resolve } from "node:path";
import type { PyprojectFacts } from "../project/pyproject.ts";
import type { LayerEntry } from "../layer/entry.ts";
import { PycontainerError } from "../errors.ts";
import { findLockFile, readLockFile } from "../python/locks/find_lock_file.ts";
import { describeTarget, selectForTarget } from "../python/locks/select.ts";
import type { Resolution } from "../python/resolver_types.ts";
import type { TargetEnvironment } from "../python/target_env.ts";
import type { WheelDownload } from "../python/wheel_cache.ts";
import type { WheelInstall } from "../python/wheel_install.ts";
import { normalizeName } from "../python/names.ts";
import type { DependencyIndex } from "./dependency_index.ts";
import { lockedWheel, type LockedWheelSource } from "./locked_wheel.ts";
import type { BuildEventSink } from "./events.ts";
import { projectRequirements } from "./project_requirements.ts";
import type { LockedTarget } from "./write_lock.ts";
export { projectInstallEntries } from "./project_install.ts";

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
  /** The resolution, when the dependencies were resolved rather than read from a lock. */
  resolution?: Resolution;
}

/** The user's dependency options (flags or configuration); relative paths are to the project. */
export interface DependencyOptions {
  /** Index replacing PyPI. */
  indexUrl?: string | undefined;
  /** More indexes. */
  extraIndexUrls?: readonly string[] | undefined;
  /** Directories of wheels and sdists. */
  findLinks?: readonly string[] | undefined;
  /** Project extras to install. */
  extras?: readonly string[] | undefined;
  /** Dependency groups to install. */
  groups?: readonly string[] | undefined;
  /** The lock file to use instead of discovering one. */
  lockFile?: string | undefined;
  /** Where to write the resolution as a pylock.toml. */
  writeLock?: string | undefined;
  /** The build's earlier platforms' resolutions, written into the same `writeLock` file. */
  lockedTargets?: readonly LockedTarget[] | undefined;
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
  /** Flags and configuration. */
  options?: DependencyOptions;
}

const _sources = new WeakMap<DependencyContext, Promise<DependencyIndex>>();

/**
 * The package source of a build (indexes + find-links + sdist builds), one per context. Its
 * modules (index client, sdist builds) are imported on the first call.
 *
 * @param ctx The dependency context.
 * @returns The source, created on first use.
 *
 * @example
 * ```ts ignore
 * const files = await (await dependencySource(ctx)).projectFiles("flask");
 * ```
 */
export function dependencySource(ctx: DependencyContext): Promise<DependencyIndex> {
  let source = _sources.get(ctx);
  if (source === undefined) {
    source = _newSource(ctx);
    _sources.set(ctx, source);
  }
  return source;
}

async function _newSource(ctx: DependencyContext): Promise<DependencyIndex> {
  const [{ IndexClient }, { DependencyIndex }] = await Promise.all([
    import("../python/index_client.ts"),
    import("./dependency_index.ts"),
  ]);
  const o = ctx.options ?? {};
  const index = new IndexClient({
    tool: ctx.pyproject.tool,
    env: ctx.env,
    ...(o.indexUrl === undefined ? {} : { indexUrl: o.indexUrl }),
    ...(o.extraIndexUrls === undefined ? {} : { extraIndexUrls: o.extraIndexUrls }),
  });
  return new DependencyIndex({
    index,
    findLinks: (o.findLinks ?? []).map((d) => _inProject(ctx, d)),
    tags: ctx.target.tags,
    targetName: _targetName(ctx),
    cacheDir: ctx.cacheDir,
    env: ctx.env,
    emit: ctx.emit,
  });
}

/**
 * What `lockedWheel` reads of its source (the target's tags, a project's files, an sdist
 * build), standing in for the real source until one of the two methods is called: a lock that
 * names every file's URL and hash never loads the index client.
 */
function _lazySource(ctx: DependencyContext): LockedWheelSource {
  return {
    tags: ctx.target.tags,
    projectFiles: async (project) => await (await dependencySource(ctx)).projectFiles(project),
    buildSdist: async (sdist) => await (await dependencySource(ctx)).buildSdist(sdist),
  };
}

function _inProject(ctx: DependencyContext, path: string): string {
  return isAbsolute(path) ? path : resolve(ctx.context, path);
}

function _targetName(ctx: DependencyContext): string {
  return describeTarget({ markerEnv: ctx.target.markerEnv, tags: ctx.target.tags });
}

/**
 * Decides the wheels to install for the target: from the lock file, or by resolving.
 *
 * @param ctx Project, target, cache, environment and options.
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
  const o = ctx.options ?? {};
  let found = await findLockFile(
    ctx.context,
    o.lockFile === undefined ? {} : { prefer: _inProject(ctx, o.lockFile) },
  );
  if (
    found && o.lockFile === undefined && o.writeLock !== undefined &&
    resolve(found.path) === _inProject(ctx, o.writeLock)
  ) {
    // `--write-lock pylock.toml` asks for a fresh resolution to replace that file (and, in a
    // multi-platform build, the earlier platforms have just written it).
    if (!o.lockedTargets?.length) {
      ctx.emit({ type: "info", message: `resolving again to replace ${found.path}` });
    }
    found = undefined;
  }
  const projectName = normalizeName(ctx.pyproject.name);
  if (found) {
    if (o.writeLock !== undefined) {
      ctx.emit({
        type: "warning",
        message: `--write-lock ${o.writeLock} ignored: the dependencies come from ${found.path}`,
      });
    }
    ctx.emit({ type: "info", message: `installing from ${found.path}` });
    const set = await readLockFile(found, { env: ctx.env, context: ctx.context } as never);
    for (const w of set.warnings ?? []) ctx.emit({ type: "warning", message: w });
    const chosen = selectForTarget(set, {
      markerEnv: ctx.target.markerEnv,
      tags: ctx.target.tags,
      ...(o.extras === undefined ? {} : { extras: o.extras }),
      ...(o.groups === undefined ? {} : { groups: o.groups }),
      allowSdist: true,
    }).filter((s) => normalizeName(s.package.name) !== projectName);
    const wheels: WheelDownload[] = [];
    const source = _lazySource(ctx);
    for (const s of chosen) {
      wheels.push(await lockedWheel(s.package, s.wheel, s.sdist, source, found.path));
    }
    if (set.unpinned?.length) {
      ctx.emit({
        type: "info",
        message: `resolving ${set.unpinned.length} unpinned requirements from ${found.path}`,
      });
      wheels.push(...(await resolved(set.unpinned, ctx, found.path)).wheels);
    }
    ctx.emit({ type: "info", message: `${wheels.length} packages from ${found.kind}` });
    return { source: found.kind, wheels };
  }
  const requirements = projectRequirements(ctx.pyproject, o.extras ?? [], o.groups ?? []);
  ctx.emit({
    type: "info",
    message: `resolving ${requirements.length} requirements from pyproject.toml`,
  });
  const { wheels, resolution } = await resolved(requirements, ctx, ctx.pyproject.path);
  if (resolution !== undefined && o.writeLock !== undefined) {
    const path = _inProject(ctx, o.writeLock);
    const targets = [
      ...(o.lockedTargets ?? []),
      { resolution, markerEnv: ctx.target.markerEnv },
    ];
    const { writeLockFile } = await import("./write_lock.ts");
    const n = await writeLockFile(path, targets, {
      requiresPython: ctx.pyproject.requiresPython,
      extras: o.extras ?? [],
      groups: o.groups ?? [],
    });
    ctx.emit({
      type: "info",
      message: `wrote the resolution (${n} packages${
        targets.length > 1 ? `, ${targets.length} platforms` : ""
      }) to ${path}`,
    });
  } else if (resolution !== undefined && resolution.packages.length > 0) {
    ctx.emit({
      type: "info",
      message: "to install exactly these next time, add --write-lock pylock.toml",
    });
  }
  return resolution === undefined
    ? { source: "pyproject.toml (resolved)", wheels }
    : { source: "pyproject.toml (resolved)", wheels, resolution };
}

async function resolved(
  requirements: readonly string[],
  ctx: DependencyContext,
  from: string,
): Promise<{ wheels: WheelDownload[]; resolution?: Resolution }> {
  if (requirements.length === 0) return { wheels: [] };
  const { resolve: resolveRequirements } = await import("../python/resolver.ts");
  const resolution = await resolveRequirements({
    requirements,
    target: {
      markerEnv: ctx.target.markerEnv,
      tags: ctx.target.tags,
      pythonFullVersion: ctx.target.pythonFullVersion,
    },
    index: await dependencySource(ctx),
    source: from,
  });
  reportResolution(resolution, ctx);
  const wheels = resolution.packages.map((p) => {
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
  return { wheels, resolution };
}

/**
 * Prints a resolution: how many packages and their pins (info), and with `--verbose` why each
 * one is there (the requirement path from the project down to it) and which file was chosen.
 *
 * @param resolution The resolver's result.
 * @param ctx For the progress sink.
 *
 * @example
 * ```ts ignore
 * reportResolution(resolution, ctx); // "resolved 20 packages: …"
 * ```
 */
export function reportResolution(resolution: Resolution, ctx: Pick<DependencyContext, "emit">) {
  const n = resolution.packages.length;
  const s = resolution.stats;
  ctx.emit({
    type: "info",
    message:
      `resolved ${n} package${n === 1 ? "" : "s"} for Python ${resolution.pythonFullVersion}` +
      ` (${s.metadata} metadata files, ${s.backjumps} backtracking steps):`,
  });
  for (const p of resolution.packages) {
    ctx.emit({ type: "info", message: `  ${p.displayName}==${p.version}` });
    ctx.emit({
      type: "detail",
      message: `  via ${p.path.join(" → ")}: ${p.wheel.filename}`,
    });
  }
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
  const [source, { downloadWheels }, { installWheel }, { venvEntries }, { mergeInstalls }] =
    await Promise.all([
      dependencySource(ctx),
      import("../python/wheel_cache.ts"),
      import("../python/wheel_install.ts"),
      import("../python/venv.ts"),
      import("../python/install_merge.ts"),
    ]);
  const cached = await downloadWheels(deps.wheels, {
    cacheDir: ctx.cacheDir,
    open: (url) => source.openUrl(url),
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
