/**
 * `pycontainer build`: flags → {@linkcode ConfigOverrides} → {@linkcode build} → output.
 * Flags that were not given stay unset so they never override a configuration file.
 *
 * @module
 */
import { resolve } from "node:path";
import { build, type BuildResult } from "../build/build.ts";
import type { BuildEvent } from "../build/events.ts";
import type { BuildPlan } from "../build/plan.ts";
import type { ConfigOverrides } from "../config/merge_config.ts";
import type { BuildOptions, RegistryOptions } from "../config/types.ts";
import { parseKeyValue } from "../config/key_value.ts";
import { shellSplit } from "../project/shell_split.ts";
import { formatPlatform } from "../oci/platform.ts";
import { type FlagTable, listFlag, type ParsedFlags, parseFlags, stringFlag } from "./args.ts";
import { REGISTRY_TLS_FLAGS } from "./registry_flags.ts";
import type { CliIo, Subcommand } from "./io.ts";
import { formatBytes } from "./format.ts";
import { PUSH_AUTH_FLAGS, pushLayoutWithFlags, resultJson as pushJson } from "./push_command.ts";
import type { PushResult } from "../registry/push.ts";

const FLAGS: FlagTable = {
  tag: {
    type: "string",
    multiple: true,
    short: "t",
    value: "REF",
    help: "Tag the image, e.g. myapp:1.0",
  },
  context: { type: "string", short: "C", value: "DIR", help: "Project directory (default: .)" },
  "base-image": {
    type: "string",
    value: "REF",
    help:
      "Base image: a registry reference, oci-layout:PATH[:TAG] or scratch (default: python:X.Y-slim)",
  },
  workdir: {
    type: "string",
    value: "DIR",
    help: "Working directory and app root in the image (default: /app)",
  },
  env: {
    type: "string",
    multiple: true,
    short: "e",
    value: "K=V",
    help: "Set an environment variable",
  },
  label: { type: "string", multiple: true, short: "l", value: "K=V", help: "Set an image label" },
  platform: {
    type: "string",
    multiple: true,
    value: "OS/ARCH[/VARIANT]",
    help: "Target platform(s), comma-separated (default: linux/amd64)",
  },
  entrypoint: { type: "string", value: "CMD", help: "Entrypoint, split like a shell command line" },
  cmd: { type: "string", value: "CMD", help: "Command, split like a shell command line" },
  user: { type: "string", value: "USER[:GROUP]", help: "User to run as" },
  expose: { type: "string", multiple: true, value: "PORT[/PROTO]", help: "Expose a port" },
  "include-deps": {
    type: "boolean",
    help: "Install the dependencies (lock file, else resolved) into a venv at <workdir>/.venv",
  },
  "index-url": {
    type: "string",
    value: "URL",
    help: "Package index instead of PyPI (env: PIP_INDEX_URL, UV_DEFAULT_INDEX)",
  },
  "extra-index-url": {
    type: "string",
    multiple: true,
    value: "URL",
    help: "Another package index, searched after --index-url",
  },
  "find-links": {
    type: "string",
    multiple: true,
    value: "DIR",
    help:
      "A directory of wheels (and sdists) to use besides the indexes (relative: to the project)",
  },
  extra: { type: "string", multiple: true, value: "NAME", help: "Install a project extra" },
  group: {
    type: "string",
    multiple: true,
    value: "NAME",
    help: "Install a dependency group ([dependency-groups])",
  },
  lock: {
    type: "string",
    value: "FILE",
    help:
      "Install from this lock file (uv.lock, pylock*.toml, poetry.lock, *.txt; relative: to the project)",
  },
  "write-lock": {
    type: "string",
    value: "FILE",
    help: "Write the resolution as a PEP 751 lock, e.g. pylock.toml (relative: to the project)",
  },
  "python-version": {
    type: "string",
    value: "X.Y",
    help: "Python version (default: from the project)",
  },
  output: {
    type: "string",
    short: "o",
    value: "DIR",
    help: "OCI layout directory (default: <context>/dist/image)",
  },
  config: {
    type: "string",
    short: "c",
    value: "FILE",
    help: "Configuration file (default: <context>/pycontainer.toml)",
  },
  "registry-mirror": {
    type: "string",
    value: "HOST[:PORT]",
    help: "Pull Docker Hub images from this mirror (env: PYCONTAINER_REGISTRY_MIRROR)",
  },
  ...REGISTRY_TLS_FLAGS,
  "cache-dir": {
    type: "string",
    value: "DIR",
    help: "Blob cache (default: $PYCONTAINER_CACHE_DIR or ~/.cache/pycontainer)",
  },
  "dry-run": { type: "boolean", help: "Print the plan; write nothing, contact no registry" },
  json: { type: "boolean", help: "Print one JSON object with digests, tags, layers and sizes" },
  verbose: { type: "boolean", short: "v", help: "Explain every decision; stack traces on errors" },
  quiet: { type: "boolean", short: "q", help: "Print nothing but errors and the result" },
  push: {
    type: "boolean",
    help:
      "Push the image to every --tag instead of writing an OCI layout (add --output to write one too)",
  },
  ...PUSH_AUTH_FLAGS,
};

/** The `build` subcommand. */
export const buildCommand: Subcommand = {
  summary: "Build an OCI image from a Python project",
  usage: "Usage: pycontainer build [flags]",
  flags: FLAGS,
  run: runBuild,
};

async function runBuild(argv: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseFlags("build", FLAGS, argv);
  const json = values.json === true;
  const verbose = values.verbose === true;
  const quiet = values.quiet === true || json;
  const context = resolve(stringFlag(values, "context") ?? ".");
  const configFile = stringFlag(values, "config");
  const cacheDir = stringFlag(values, "cache-dir");
  const caFile = stringFlag(values, "ca-file");
  const result = await build({
    context,
    overrides: overridesFrom(values),
    env: io.env,
    dryRun: values["dry-run"] === true,
    onEvent: (event) => report(event, io, { quiet, verbose }),
    origin: "cli",
    registryOnly: values.push === true,
    ...(configFile === undefined ? {} : { configFile }),
    ...(cacheDir === undefined ? {} : { cacheDir: resolve(cacheDir) }),
    ...(caFile === undefined ? {} : { caFile: resolve(caFile) }),
  });
  const dryRun = values["dry-run"] === true;
  if (!json && !dryRun && !quiet) {
    // What was built comes before the push's progress, in the order things happened.
    for (const image of result.images) {
      io.stderr(
        `built ${image.platform} ${image.manifestDigest} (${
          formatBytes(image.size)
        }, ${image.layers.length} layers)`,
      );
    }
    if (result.output !== undefined) {
      io.stderr(`wrote ${result.output} tagged ${result.tags.join(", ")}`);
    }
  }
  let pushed: PushResult | undefined;
  if (values.push === true && !dryRun) {
    pushed = await pushLayoutWithFlags({
      blobs: result.blobs,
      root: result.descriptor,
      tags: result.tags,
      values,
      io,
    });
  }
  if (json) {
    io.stdout(JSON.stringify(
      { ...resultJson(result, dryRun), ...(pushed ? { push: pushJson(pushed) } : {}) },
      null,
      2,
    ));
  } else if (dryRun) io.stdout(formatPlan(result.plan));
  else {
    io.stdout(result.digest);
    for (const r of pushed?.repositories ?? []) io.stdout(r.reference);
  }
  return 0;
}

/**
 * Maps parsed `build` flags to configuration overrides; unset flags stay unset.
 *
 * @param values Parsed flags.
 * @returns Overrides for `mergeConfig`.
 *
 * @example
 * ```ts
 * import { overridesFrom } from "./build_command.ts";
 * const o = overridesFrom({ tag: ["a:1"], cmd: "python3 -m app" });
 * console.assert(o.build?.cmd?.join(" ") === "python3 -m app" && o.build?.workdir === undefined);
 * ```
 */
export function overridesFrom(values: ParsedFlags): ConfigOverrides {
  const b: BuildOptions = {};
  const set = <K extends keyof BuildOptions>(key: K, value: BuildOptions[K] | undefined) => {
    if (value !== undefined) b[key] = value;
  };
  set("tags", listFlag(values, "tag"));
  set("baseImage", stringFlag(values, "base-image"));
  set("workdir", stringFlag(values, "workdir"));
  set("env", pairs(values, "env"));
  set("labels", pairs(values, "label"));
  set("platforms", listFlag(values, "platform", true));
  const entrypoint = stringFlag(values, "entrypoint");
  set("entrypoint", entrypoint === undefined ? undefined : shellSplit(entrypoint, "--entrypoint"));
  const cmd = stringFlag(values, "cmd");
  set("cmd", cmd === undefined ? undefined : shellSplit(cmd, "--cmd"));
  set("user", stringFlag(values, "user"));
  set("expose", listFlag(values, "expose", true));
  set("pythonVersion", stringFlag(values, "python-version"));
  if (values["include-deps"] === true) b.includeDeps = true;
  set("indexUrl", stringFlag(values, "index-url"));
  set("extraIndexUrls", listFlag(values, "extra-index-url"));
  set("findLinks", listFlag(values, "find-links"));
  set("extras", listFlag(values, "extra", true));
  set("groups", listFlag(values, "group", true));
  set("lockFile", stringFlag(values, "lock"));
  set("writeLock", stringFlag(values, "write-lock"));
  const output = stringFlag(values, "output");
  set("output", output === undefined ? undefined : resolve(output));
  const r: RegistryOptions = {};
  const mirror = stringFlag(values, "registry-mirror");
  if (mirror !== undefined) r.mirror = mirror;
  const insecure = listFlag(values, "insecure-registry", true);
  if (insecure !== undefined) r.insecure = insecure;
  return { build: b, registry: r };
}

function pairs(values: ParsedFlags, flag: string): Record<string, string> | undefined {
  const list = listFlag(values, flag);
  if (!list) return undefined;
  return Object.fromEntries(list.map((kv) => parseKeyValue(`--${flag}`, kv)));
}

function report(event: BuildEvent, io: CliIo, mode: { quiet: boolean; verbose: boolean }): void {
  if (event.type === "warning") {
    if (!mode.quiet || mode.verbose) io.stderr(`warning: ${event.message}`);
    return;
  }
  if (mode.quiet) return;
  if (event.type === "detail") {
    if (mode.verbose) io.stderr(`  ${event.message}`);
  } else if (event.type === "info") {
    io.stderr(event.message);
  } else {
    io.stderr(
      `layer ${event.digest.slice(7, 19)} ${formatBytes(event.size).padStart(9)} ${
        event.state.padEnd(6)
      } ${event.name}`,
    );
  }
}

function formatPlan(plan: BuildPlan): string {
  const s = plan.settings;
  const lines = [
    `context:     ${plan.context}`,
    `base image:  ${plan.baseImage}`,
    `python:      ${plan.python.version} (${plan.python.reason})`,
    `platforms:   ${plan.platforms.map(formatPlatform).join(", ")}`,
    `tags:        ${plan.tags.join(", ")}`,
    `output:      ${plan.output}`,
    `workdir:     ${s.workingDir}`,
    `entrypoint:  ${JSON.stringify(s.entrypoint ?? null)}`,
    `cmd:         ${JSON.stringify(s.cmd ?? null)}`,
    `             (${plan.commandReason})`,
    `ports:       ${s.exposedPorts.join(", ") || "-"}`,
    `user:        ${s.user ?? "(base image's)"}`,
    `env:         ${Object.entries(s.env).map(([k, v]) => `${k}=${v}`).join(" ")}`,
    `labels:      ${Object.entries(s.labels).map(([k, v]) => `${k}=${v}`).join(" ") || "-"}`,
    `app layer:   ${plan.appEntries.filter((e) => e.type !== "dir").length} files`,
  ];
  return lines.join("\n");
}

function resultJson(result: BuildResult, dryRun: boolean): Record<string, unknown> {
  if (dryRun) {
    const { appEntries, ...plan } = result.plan;
    return {
      dryRun: true,
      plan: { ...plan, appFiles: appEntries.filter((e) => e.type !== "dir").map((e) => e.path) },
    };
  }
  return {
    digest: result.digest,
    mediaType: result.mediaType,
    tags: result.tags,
    output: result.output,
    base: result.base,
    images: result.images,
    size: result.images.reduce((n, i) => n + i.size, 0),
  };
}
