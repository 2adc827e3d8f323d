/**
 * The build plan: every decision of a build, made from the merged configuration and the project
 * facts before any byte is written or any registry is asked. `--dry-run` prints it; the build
 * executes it. Explicit configuration always wins over detection; detection wins over defaults.
 *
 * @module
 */
import type { BuildConfig } from "../config/types.ts";
import type { ImageSettings } from "../image/compose.ts";
import type { LayerEntry } from "../layer/entry.ts";
import type { Platform } from "../oci/types.ts";
import { parsePlatform } from "../oci/platform.ts";
import { formatReference, parseReference } from "../oci/reference.ts";
import type { ProjectRead } from "../project/facts.ts";
import { projectPythonVersion } from "../project/facts.ts";
import { detectCommand, type DetectedCommand } from "../project/command.ts";
import type { PythonChoice } from "../project/python_version.ts";
import { PycontainerError } from "../errors.ts";

/** Everything a build will do. */
export interface BuildPlan {
  /** The project directory. */
  context: string;
  /** Base image reference as given or defaulted (`python:3.12-slim`, `scratch`, `oci-layout:…`). */
  baseImage: string;
  /** Platforms to build, in order. */
  platforms: Platform[];
  /** Python minor version and why. */
  python: PythonChoice;
  /** Full image references to tag the result with. */
  tags: string[];
  /** Output OCI layout directory. */
  output: string;
  /** The image settings merged over the base image's config. */
  settings: ImageSettings;
  /** Why the command is what it is (one sentence). */
  commandReason: string;
  /** Entries of the app layer, with image paths (workdir prefix applied). */
  appEntries: LayerEntry[];
  /** Manifest annotations from pyproject (title, version, description, licenses, source). */
  annotations: Record<string, string>;
  /** `created` timestamp (RFC 3339) and the mtime of every file, from `SOURCE_DATE_EPOCH`. */
  created: string;
  /** Seconds since the epoch for file mtimes. */
  epoch: number;
  /** With `--include-deps`: the venv (absolute, e.g. `/app/.venv`) and the directory the project imports from. */
  deps?: { venvDir: string; importDir: string };
}

/** Inputs of {@linkcode planBuild}. */
export interface PlanInputs {
  /** The merged configuration. */
  config: BuildConfig;
  /** The project as read from disk. */
  project: ProjectRead;
  /** The process environment (for `SOURCE_DATE_EPOCH`). */
  env: Record<string, string | undefined>;
}

/**
 * Makes the plan of a build. Pure: no I/O.
 *
 * @param inputs Configuration, project facts and environment.
 * @returns The plan.
 * @throws {PycontainerError} for invalid tags, platforms or `SOURCE_DATE_EPOCH`, or when nothing
 *   runnable was found and no command was configured.
 *
 * @example
 * ```ts ignore
 * import { planBuild } from "./plan.ts";
 * const plan = planBuild({ config, project, env: {} });
 * console.log(plan.settings.cmd);
 * ```
 */
export function planBuild(inputs: PlanInputs): BuildPlan {
  const { config, project, env } = inputs;
  const { build } = config;
  const workdir = build.workdir ?? "/app";
  const python: PythonChoice = build.pythonVersion
    ? {
      version: build.pythonVersion,
      source: "default",
      reason: `Python ${build.pythonVersion} from ${
        config.sources["build.pythonVersion"] ?? "configuration"
      }`,
      warnings: [],
    }
    : projectPythonVersion(project.facts);
  const configured = build.entrypoint !== undefined || build.cmd !== undefined;
  const venvDir = `${workdir.replace(/\/+$/, "")}/.venv`;
  const detected = detectOrExplain(
    project,
    workdir,
    configured,
    build.includeDeps ? `${venvDir}/bin` : undefined,
  );
  const epoch = sourceDateEpoch(env);
  const pyproject = project.facts.pyproject;

  const env_: Record<string, string> = { PYTHONUNBUFFERED: "1", ...detected?.env, ...build.env };
  const labels: Record<string, string> = { ...detected?.labels, ...build.labels };
  const settings: ImageSettings = {
    env: env_,
    labels,
    exposedPorts: build.expose ?? (configured ? [] : detected?.ports ?? []),
    workingDir: workdir,
  };
  if (configured) {
    if (build.entrypoint) settings.entrypoint = build.entrypoint;
    if (build.cmd) settings.cmd = build.cmd;
  } else if (detected) {
    if (detected.entrypoint) settings.entrypoint = detected.entrypoint;
    if (detected.cmd) settings.cmd = detected.cmd;
    // A detected command replaces whatever the base would run (python:*-slim runs python3).
    if (!detected.entrypoint) settings.entrypoint = [];
  }
  if (build.user !== undefined) settings.user = build.user;

  const prefix = workdir.replace(/^\/+|\/+$/g, "");
  const withPrefix = (e: LayerEntry): LayerEntry => ({
    ...e,
    path: prefix ? `${prefix}/${e.path}` : e.path,
  });
  const appEntries = project.files.entries.map(withPrefix);
  if (!configured && detected?.launcher) appEntries.push(withPrefix(detected.launcher));

  const importDir = project.facts.layout.importRoot === "src"
    ? `${workdir.replace(/\/+$/, "")}/src`
    : workdir;
  return {
    ...(build.includeDeps ? { deps: { venvDir, importDir } } : {}),
    context: config.context,
    baseImage: build.baseImage ?? `python:${python.version}-slim`,
    platforms: (build.platforms ?? ["linux/amd64"]).map((p) => parsePlatform(p)),
    python,
    tags: planTags(build.tags, pyproject.name),
    output: build.output ?? `${config.context}/dist/image`,
    settings,
    commandReason: configured
      ? `command from ${config.sources["build.entrypoint"] ?? config.sources["build.cmd"]}`
      : detected!.reason,
    appEntries,
    annotations: annotationsFor(pyproject),
    created: new Date(epoch * 1000).toISOString().replace(".000Z", "Z"),
    epoch,
  };
}

function detectOrExplain(
  project: ProjectRead,
  workdir: string,
  configured: boolean,
  installedScriptsDir: string | undefined,
): DetectedCommand | undefined {
  try {
    return detectCommand(
      project.facts,
      installedScriptsDir === undefined ? { workdir } : { workdir, installedScriptsDir },
    );
  } catch (err) {
    // With an explicit command, not finding one is fine.
    if (configured && err instanceof PycontainerError) return undefined;
    throw err;
  }
}

function planTags(tags: readonly string[] | undefined, projectName: string): string[] {
  const given = tags?.length
    ? tags
    : [`${projectName.toLowerCase().replace(/[^a-z0-9._-]+/g, "-")}:latest`];
  return given.map((t) => formatReference(parseReference(t)));
}

/**
 * Reads `SOURCE_DATE_EPOCH` (seconds since the epoch); 0 when unset.
 *
 * @param env The process environment.
 * @returns Seconds since the epoch.
 * @throws {PycontainerError} exit code 2 when it is not a non-negative integer.
 *
 * @example
 * ```ts
 * import { sourceDateEpoch } from "./plan.ts";
 * console.assert(sourceDateEpoch({ SOURCE_DATE_EPOCH: "1700000000" }) === 1700000000);
 * console.assert(sourceDateEpoch({}) === 0);
 * ```
 */
export function sourceDateEpoch(env: Record<string, string | undefined>): number {
  const raw = env.SOURCE_DATE_EPOCH?.trim();
  if (raw === undefined || raw === "") return 0;
  if (!/^\d{1,11}$/.test(raw)) {
    throw new PycontainerError(`SOURCE_DATE_EPOCH="${raw}" is not a number of seconds`, {
      hint: "set it to an integer such as $(git log -1 --format=%ct), or unset it",
      exitCode: 2,
    });
  }
  return Number(raw);
}

function annotationsFor(p: ProjectRead["facts"]["pyproject"]): Record<string, string> {
  const out: Record<string, string> = { "org.opencontainers.image.title": p.name };
  if (p.version) out["org.opencontainers.image.version"] = p.version;
  if (p.description) out["org.opencontainers.image.description"] = p.description;
  if (p.license?.kind === "expression") out["org.opencontainers.image.licenses"] = p.license.value;
  if (p.sourceUrl) out["org.opencontainers.image.source"] = p.sourceUrl;
  return out;
}
