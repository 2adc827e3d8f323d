/**
 * The dependency layers of one platform's image (`--include-deps`): detect the target
 * environment in the base image, choose and install the wheels, add the project's own
 * dist-info, and turn each group into a cached layer. Dependencies sit below the app layer, so
 * editing app code never changes their digests.
 *
 * @module
 */
import { LayerCache } from "../cache/layer_cache.ts";
import { sha256Hex } from "../runtime/sha256.ts";
import { VERSION } from "../version.ts";
import type { BuildConfig } from "../config/types.ts";
import type { NewLayer } from "../image/compose.ts";
import { envValue } from "../image/compose.ts";
import type { Platform } from "../oci/types.ts";
import type { ProjectRead } from "../project/facts.ts";
import { detectTargetEnvironment } from "../python/target_env.ts";
import type { BaseImage } from "../registry/base_image.ts";
import type { BlobStore } from "../store/blob_store.ts";
import { cachedLayer, knownLayer, type LayerContext, layerDescriptor } from "./cached_layer.ts";
import {
  chooseDependencies,
  type DependencyOptions,
  type DependencySet,
  installDependencies,
  projectInstallEntries,
} from "./dependencies.ts";
import type { BuildEventSink } from "./events.ts";
import type { BuildPlan } from "./plan.ts";
import type { LockedTarget } from "./write_lock.ts";

/**
 * The dependency options of a build's configuration (flags, pycontainer.toml, `[tool.pycontainer]`).
 *
 * @param config The merged configuration.
 * @returns The options the dependency steps read.
 *
 * @example
 * ```ts
 * import { dependencyOptions } from "./dependency_layers.ts";
 * const o = dependencyOptions({ context: "/p", build: { extras: ["prod"] }, registry: {}, sources: {} });
 * console.assert(o.extras?.[0] === "prod");
 * ```
 */
export function dependencyOptions(config: BuildConfig): DependencyOptions {
  const b = config.build;
  return {
    indexUrl: b.indexUrl,
    extraIndexUrls: b.extraIndexUrls,
    findLinks: b.findLinks,
    extras: b.extras,
    groups: b.groups,
    lockFile: b.lockFile,
    writeLock: b.writeLock,
  };
}

/**
 * The dependency layers, from the set cache when this exact wheel set was installed for this
 * target before (no wheel is opened then: an app-only rebuild stays fast), else installed. For
 * a registry build whose set record survives but whose blobs are gone, nothing is installed
 * now: each layer is deferred, and the first one a push needs installs the whole set.
 */
async function dependencyLayers(
  chosen: DependencySet,
  ctx: Parameters<typeof installDependencies>[1],
  input: DependencyLayersInput,
): Promise<NewLayer[]> {
  const { plan, store, layers: layerCtx } = input;
  const venvDir = plan.deps!.venvDir;
  const t = ctx.target;
  const key = sha256Hex(JSON.stringify({
    v: VERSION,
    epoch: plan.epoch,
    venvDir,
    target: [t.pythonPath, t.pythonHome, t.pythonVersion, t.pythonFullVersion],
    wheels: chosen.wheels.map((w) => [w.sha256, w.filename]).sort(),
  }));
  const cache = new LayerCache(store.root);
  const { deferred, ...eager } = layerCtx;
  const install = async (): Promise<NewLayer[]> => {
    const groups = await installDependencies(chosen, ctx, venvDir);
    // Built at once: small layers compress on this thread while big ones use the gzip workers.
    const built = await Promise.all(
      groups.map((group) => cachedLayer(eager, { ...group, kind: "deps" })),
    );
    await cache.putSet(
      key,
      built.map((l, i) => ({
        name: groups[i]!.name,
        digest: l.descriptor.digest,
        diffId: l.diffId,
        size: l.descriptor.size,
        uncompressedSize: 0,
      })),
    ).catch(() => {});
    return built;
  };
  const hit = await cache.getSet(key);
  if (!hit) return install();
  const found = await Promise.all(hit.map((l) => store.has(layerDescriptor(l))));
  if (found.every(Boolean)) return hit.map((l) => knownLayer(layerCtx, l.name, l, "cached"));
  if (!deferred) return install();
  let installing: Promise<NewLayer[]> | undefined;
  return hit.map((l, i) => {
    deferred.defer(layerDescriptor(l), l.name, async () => {
      if (!installing) {
        installing = install();
        installing.catch(() => (installing = undefined)); // a later push may try again
      }
      return (await installing)[i]?.descriptor.digest ?? "(no such layer)";
    });
    return knownLayer(layerCtx, l.name, l, found[i] ? "cached" : "deferred");
  });
}

/**
 * Per build, the platforms' dependency choices in platform order. Platforms are built at once;
 * only with `--write-lock` does each platform's choice wait for the one before it, because each
 * rewrites the lock with every resolution so far (installing still runs concurrently).
 */
interface _ChoiceOrder {
  done: Promise<void>[];
  finish: (() => void)[];
  targets: (LockedTarget | undefined)[];
}
const _choices = new WeakMap<BuildPlan, _ChoiceOrder>();

function _choiceOrder(plan: BuildPlan): _ChoiceOrder {
  let order = _choices.get(plan);
  if (!order) {
    const finish: (() => void)[] = [];
    const done = plan.platforms.map(() => new Promise<void>((r) => finish.push(r)));
    order = { done, finish, targets: [] };
    _choices.set(plan, order);
  }
  return order;
}

/** Everything {@linkcode dependencyLayersFor} needs. */
export interface DependencyLayersInput {
  plan: BuildPlan;
  project: ProjectRead;
  config: BuildConfig;
  base: BaseImage;
  platform: Platform;
  /** The platform's position in `plan.platforms` (the order of a multi-platform lock). */
  platformIndex: number;
  store: BlobStore;
  /** Where the layers are built and cached (and, for registry builds, deferred). */
  layers: LayerContext;
  env: Record<string, string | undefined>;
  emit: BuildEventSink;
}

/**
 * Builds (or reuses) the dependency and project-metadata layers for one platform.
 *
 * @param input Plan, project, base image, platform, store and progress sink.
 * @returns The layers, bottom first, and the image env additions (`PATH`, `VIRTUAL_ENV`).
 *
 * @example
 * ```ts ignore
 * const { layers, env } = await dependencyLayersFor(input);
 * ```
 */
export async function dependencyLayersFor(
  input: DependencyLayersInput,
): Promise<{ layers: NewLayer[]; env: Record<string, string> }> {
  const { plan, project, base, platform, store, emit } = input;
  const deps = plan.deps!;
  const order = _choiceOrder(plan);
  const i = input.platformIndex;
  let ctx: Parameters<typeof installDependencies>[1];
  let chosen: DependencySet;
  try {
    const pythonVersion = input.config.build.pythonVersion;
    const target = await detectTargetEnvironment(base, platform, {
      cache: store,
      ...(pythonVersion === undefined ? {} : { overrides: { pythonVersion } }),
    });
    emit({
      type: "info",
      message: `target: CPython ${target.pythonFullVersion} at ${target.pythonPath}, ` +
        `${target.platformMachine}, ${target.libc.family} ${target.libc.version}`,
    });
    if (input.config.build.writeLock !== undefined && i > 0) await order.done[i - 1];
    const lockedTargets = order.targets.slice(0, i).filter((t) => t !== undefined);
    ctx = {
      context: plan.context,
      pyproject: project.facts.pyproject,
      target,
      cacheDir: store.root,
      env: input.env,
      emit,
      options: { ...dependencyOptions(input.config), lockedTargets },
    };
    chosen = await chooseDependencies(ctx);
    if (chosen.resolution !== undefined) {
      order.targets[i] = { resolution: chosen.resolution, markerEnv: target.markerEnv };
    }
  } finally {
    order.finish[i]?.();
  }
  const layers = await dependencyLayers(chosen, ctx, input);
  const projectEntries = projectInstallEntries(
    project.facts.pyproject,
    ctx.target,
    deps.venvDir,
    deps.importDir,
  );
  layers.push(
    await cachedLayer(input.layers, {
      name: "project metadata",
      kind: "project",
      entries: projectEntries,
    }),
  );
  const basePath = envValue(base.config.value.config?.Env, "PATH") ??
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  return {
    layers,
    env: { PATH: `${deps.venvDir}/bin:${basePath}`, VIRTUAL_ENV: deps.venvDir },
  };
}
