/**
 * Building a wheel from an sdist, for dependencies that publish no wheel the target can use.
 * pycontainer installs wheels only and never runs Python itself, so it borrows a build frontend
 * from the host when there is one on `PATH`: `uv build --wheel` first, else `pip wheel --no-deps`
 * (pip builds a local sdist from source by definition, so `--no-binary` would only force the
 * *build backend* — setuptools and friends — to be compiled too; it is left out).
 *
 * A wheel built on the host is only correct for the target when it is pure Python: ABI `none`,
 * platform `any`, and a Python tag the target accepts (`py3-none-any`). A host-built
 * `cp311-cp311-linux_x86_64` is refused even when host and target look alike: it was compiled
 * against the host's libraries, which the base image need not have.
 * Anything else fails with the package, the reason and what to do: pin a version that has wheels,
 * build the wheel on the target, or point `--find-links` at a directory of wheels.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { access, constants, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { PycontainerError } from "../errors.ts";
import { wheelTagPriority } from "../python/tags.ts";
import { parseWheelFilename } from "../python/wheel_name.ts";

/** A build frontend found on the host. */
export interface SdistBuilder {
  /** Which tool. */
  tool: "uv" | "pip";
  /** The program and leading arguments, e.g. `["/usr/bin/uv"]` or `["/usr/bin/python3", "-m", "pip"]`. */
  command: string[];
}

/**
 * Finds `uv`, else `pip`/`pip3`, on the `PATH` of `env`.
 *
 * @param env The environment whose `PATH` is searched (and `PYCONTAINER_NO_SDIST_BUILD=1` to
 *   disable building).
 * @returns The builder, or undefined when there is none.
 *
 * @example
 * ```ts ignore
 * const builder = await findSdistBuilder(process.env);
 * console.log(builder?.tool ?? "no builder");
 * ```
 */
export async function findSdistBuilder(
  env: Record<string, string | undefined>,
): Promise<SdistBuilder | undefined> {
  if (env.PYCONTAINER_NO_SDIST_BUILD === "1") return undefined;
  const uv = await _which("uv", env);
  if (uv !== undefined) return { tool: "uv", command: [uv] };
  for (const name of ["pip", "pip3"]) {
    const pip = await _which(name, env);
    if (pip !== undefined) return { tool: "pip", command: [pip] };
  }
  return undefined;
}

async function _which(name: string, env: Record<string, string | undefined>) {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    const path = join(dir, name);
    try {
      await access(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Options of {@linkcode buildWheelFromSdist}. */
export interface SdistBuildOptions {
  /** The frontend to run. */
  builder: SdistBuilder;
  /** Directory the wheel is written to. */
  outDir: string;
  /** Environment for the tool (the index URLs are passed on so build requirements come from them). */
  env: Record<string, string | undefined>;
  /** The index to fetch build requirements from, if not the tool's default. */
  indexUrl?: string | undefined;
  /** Kill the tool after this long (default 10 minutes). */
  timeoutMs?: number;
}

/**
 * Builds one wheel from an sdist with uv or pip.
 *
 * @param sdistPath The sdist (`.tar.gz` or `.zip`) on disk.
 * @param what `name version`, for messages.
 * @param options Builder, output directory, environment.
 * @returns The path of the wheel written to `outDir`.
 * @throws {PycontainerError} when the tool fails (with the end of its output) or writes no wheel.
 *
 * @example
 * ```ts ignore
 * const wheel = await buildWheelFromSdist("/tmp/pkg-1.0.tar.gz", "pkg 1.0", { builder, outDir, env });
 * ```
 */
export async function buildWheelFromSdist(
  sdistPath: string,
  what: string,
  options: SdistBuildOptions,
): Promise<string> {
  const { builder, outDir } = options;
  const args = builder.tool === "uv"
    ? ["build", "--wheel", "--out-dir", outDir, sdistPath]
    : ["wheel", "--no-deps", "--disable-pip-version-check", "-w", outDir, sdistPath];
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(options.env)) if (v !== undefined) env[k] = v;
  // Through the environment, not argv: the URL may hold credentials (argv is world-readable).
  if (options.indexUrl !== undefined) {
    env[builder.tool === "uv" ? "UV_DEFAULT_INDEX" : "PIP_INDEX_URL"] = options.indexUrl;
  }
  const scratch = await mkdtemp(join(tmpdir(), "pycontainer-sdist-"));
  env.TMPDIR = scratch;
  try {
    const result = await _run(builder.command[0]!, [...builder.command.slice(1), ...args], env, {
      timeoutMs: options.timeoutMs ?? 600_000,
    });
    if (result.code !== 0) {
      const tail = redactUserinfo(result.output.trim().split("\n").slice(-6).join(" | "));
      throw sdistError(what, `${builder.tool} could not build a wheel from it: ${tail}`);
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  const wheels = (await readdir(outDir)).filter((f) => f.endsWith(".whl"));
  if (wheels.length !== 1) {
    throw sdistError(what, `${builder.tool} wrote ${wheels.length} wheels instead of one`);
  }
  return join(outDir, wheels[0]!);
}

/**
 * Accepts a wheel built on the host only when it is pure Python and its tags fit the target.
 *
 * @param filename The built wheel's file name.
 * @param what `name version`, for messages.
 * @param tags The target's compatible tags, best first.
 * @param target How to name the target, e.g. `CPython 3.11.2, linux/aarch64`.
 * @throws {PycontainerError} naming the package, the wheel's tags and the options.
 *
 * @example
 * ```ts
 * import { checkBuiltWheel } from "./sdist_build.ts";
 * checkBuiltWheel("pkg-1.0-py3-none-any.whl", "pkg 1.0", ["cp311-cp311-manylinux_2_17_x86_64", "py3-none-any"], "x");
 * ```
 */
export function checkBuiltWheel(
  filename: string,
  what: string,
  tags: readonly string[],
  target: string,
): void {
  const wheel = parseWheelFilename(filename);
  const pure = wheel.abiTags.every((t) => t === "none") &&
    wheel.platformTags.every((t) => t === "any");
  if (pure && wheelTagPriority(tags, wheel.tags) !== undefined) return;
  throw sdistError(
    what,
    `the wheel built from its sdist on this host is ${filename} (compiled code for the host), ` +
      `which does not fit ${target}`,
  );
}

/**
 * The error for an sdist-only dependency that could not be turned into a usable wheel.
 *
 * @param what `name version`.
 * @param why The reason, one clause.
 * @returns The error, with the options in the hint.
 *
 * @example
 * ```ts
 * import { sdistError } from "./sdist_build.ts";
 * console.assert(sdistError("pkg 1.0", "no uv or pip").message.includes("pkg 1.0"));
 * ```
 */
export function sdistError(what: string, why: string): PycontainerError {
  return new PycontainerError(`${what} has no wheel for the target, only an sdist: ${why}`, {
    hint:
      "pin a version that publishes wheels for the target, build the wheel on the target platform, " +
      "or pass --find-links DIR with a directory holding the wheel",
  });
}

/**
 * Removes `user:password@` from every URL in a text (tool output shown in error messages).
 *
 * @param text Any text.
 * @returns The text with URL credentials replaced by `***@`.
 *
 * @example
 * ```ts
 * import { redactUserinfo } from "./sdist_build.ts";
 * console.assert(redactUserinfo("GET https://u:secret@host/simple/") === "GET https://***@host/simple/");
 * ```
 */
export function redactUserinfo(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi, "$1***@");
}

function _run(
  cmd: string,
  args: string[],
  env: Record<string, string>,
  options: { timeoutMs: number },
): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    const chunks: Uint8Array[] = [];
    child.stdout.on("data", (c: Uint8Array) => chunks.push(c));
    child.stderr.on("data", (c: Uint8Array) => chunks.push(c));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
    const done = (code: number, extra = "") => {
      clearTimeout(timer);
      const text = new TextDecoder().decode(_concat(chunks)) + extra;
      resolve({ code, output: text });
    };
    child.on("error", (e) => done(127, `\n${e.message}`));
    child.on("close", (code) => done(code ?? 137));
  });
}

function _concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
