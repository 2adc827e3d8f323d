/**
 * Test harness that runs a built image with real OCI tools: `umoci unpack` turns the image in an
 * OCI layout into a runtime bundle, the bundle's `config.json` is adjusted for tests, and `runc run`
 * executes it. This is how the integration tests prove an image really runs, without Docker.
 *
 * Adjustments made to the bundle: `process.terminal = false` (output goes to pipes), optional
 * `args`/`env` overrides, and the network namespace is removed so a server in the container listens
 * on the host's loopback (HTTP tests reach it at 127.0.0.1:PORT). Needs root, `umoci` and `runc`;
 * Bundles are unpacked on tmpfs (/dev/shm) when available, or under `$PYCONTAINER_RUN_DIR`.
 * {@linkcode runtimeSkipReason} says why not when they are missing so tests can skip cleanly.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { access, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { constants } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { Buffer } from "node:buffer";

/** Options for {@linkcode runImage}. */
export interface RunImageOptions {
  /** Replaces the image's entrypoint + cmd (the full argv inside the container). */
  args?: string[];
  /** Extra environment variables; they override the image's values of the same name. */
  env?: Record<string, string>;
  /** Kill the container after this many milliseconds (default 60 000). */
  timeoutMs?: number;
  /** Start in the background and return a {@linkcode RunningContainer} instead of waiting. */
  detach?: boolean;
}

/** What a finished container printed and how it exited. */
export interface RunResult {
  /** Everything the container wrote to stdout, decoded as UTF-8. */
  stdout: string;
  /** Everything the container wrote to stderr (runc's own messages included). */
  stderr: string;
  /** The container's exit code (128 + signal number when killed by a signal). */
  exitCode: number;
}

/** A container started with `detach: true`. */
export interface RunningContainer {
  /** The runc container id. */
  readonly id: string;
  /** The unpacked bundle directory (removed by {@linkcode RunningContainer.stop}). */
  readonly bundle: string;
  /** Output so far (stdout, stderr), for polling logs while the container runs. */
  output(): { stdout: string; stderr: string };
  /** Resolves when the container exits by itself (or is stopped). */
  readonly exited: Promise<RunResult>;
  /** Kills the container (SIGKILL), deletes it and its bundle; resolves with what it printed. */
  stop(): Promise<RunResult>;
}

interface _Exec {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/**
 * Says why containers can't be run here (not root, umoci or runc missing), or `undefined` if they
 * can. Use it as the `skip` option of integration tests.
 *
 * @returns A human-readable skip reason, or `undefined` when {@linkcode runImage} will work.
 *
 * @example Skipping a test that needs runc
 * ```ts
 * import { test } from "node:test";
 * import { runtimeSkipReason } from "./_runtime.ts";
 * const skip = await runtimeSkipReason();
 * test("image runs", { skip: skip ?? false }, async () => {});
 * ```
 */
export async function runtimeSkipReason(): Promise<string | undefined> {
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    return "running images needs root (umoci unpack + runc run)";
  }
  for (const tool of ["umoci", "runc"]) {
    const found = await _exec(tool, ["--version"], 10_000).catch(() => undefined);
    if (found === undefined || found.exitCode !== 0) {
      return `${tool} is not installed (apt-get install ${tool})`;
    }
  }
  return undefined;
}

/**
 * Runs the image tagged `tag` in the OCI layout `layoutDir` with runc and returns its output.
 * The bundle and the runc container are always removed afterwards.
 *
 * @param layoutDir Path to an OCI image layout (has `index.json`).
 * @param tag The tag (`org.opencontainers.image.ref.name`) of the image in the layout.
 * @param opts Argument/env overrides, timeout, and `detach` for background servers.
 * @returns The container's stdout, stderr and exit code; with `detach: true` a handle to stop it.
 * @throws Error when unpacking fails or the container outlives `timeoutMs`.
 *
 * @example Running python in the test base image
 * ```ts
 * import { runImage } from "./_runtime.ts";
 * const r = await runImage("/root/.cache/pycontainer-test/base-layout", "bookworm", {
 *   args: ["python3", "-c", "print(6*7)"],
 * });
 * console.assert(r.stdout === "42\n");
 * ```
 */
export function runImage(
  layoutDir: string,
  tag: string,
  opts: RunImageOptions & { detach: true },
): Promise<RunningContainer>;
export function runImage(
  layoutDir: string,
  tag: string,
  opts?: RunImageOptions & { detach?: false },
): Promise<RunResult>;
export async function runImage(
  layoutDir: string,
  tag: string,
  opts: RunImageOptions = {},
): Promise<RunResult | RunningContainer> {
  const container = await _start(layoutDir, tag, opts);
  if (opts.detach === true) return container;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  const first = await Promise.race([container.exited, timedOut]);
  clearTimeout(timer);
  const result = await container.stop();
  if (first === "timeout") {
    throw new Error(
      `container ${container.id} still running after ${timeoutMs} ms\n` +
        `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`,
    );
  }
  return result;
}

async function _start(
  layoutDir: string,
  tag: string,
  opts: RunImageOptions,
): Promise<RunningContainer> {
  const work = await mkdtemp(join(await _bundleParent(), "pycontainer-run-"));
  const bundle = join(work, "bundle");
  const id = `pyct-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    const unpack = await _exec(
      "umoci",
      ["unpack", "--image", `${layoutDir}:${tag}`, bundle],
      300_000,
    );
    if (unpack.exitCode !== 0) {
      throw new Error(`umoci unpack ${layoutDir}:${tag} failed: ${unpack.stderr.trim()}`);
    }
    await _editConfig(join(bundle, "config.json"), opts);
  } catch (err) {
    await rm(work, { recursive: true, force: true });
    throw err;
  }

  const child = spawn("runc", ["run", "--bundle", bundle, id], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const out: Uint8Array[] = [];
  const errOut: Uint8Array[] = [];
  child.stdout.on("data", (c: Uint8Array) => out.push(c));
  child.stderr.on("data", (c: Uint8Array) => errOut.push(c));
  const decode = (parts: Uint8Array[]) => Buffer.concat(parts).toString("utf8");
  const exited = new Promise<RunResult>((resolve) => {
    child.on("error", (e) => {
      errOut.push(Buffer.from(`runc: ${e.message}\n`));
      resolve({ stdout: decode(out), stderr: decode(errOut), exitCode: 127 });
    });
    child.on("close", (code, signal) => {
      resolve({
        stdout: decode(out),
        stderr: decode(errOut),
        exitCode: code ?? 128 + _signalNumber(signal),
      });
    });
  });

  let finished = false;
  void exited.then(() => {
    finished = true;
  });
  let stopping: Promise<RunResult> | undefined;
  const stop = (): Promise<RunResult> => {
    stopping ??= (async () => {
      // Only kill when runc has not exited yet; then clean up whatever is left.
      if (!finished) {
        await _exec("runc", ["kill", id, "KILL"], 10_000).catch(() => undefined);
        const killed = await Promise.race([exited, _sleep(10_000)]);
        if (killed === undefined) child.kill("SIGKILL");
      }
      const result = await exited;
      await _exec("runc", ["delete", "--force", id], 10_000).catch(() => undefined);
      await rm(work, { recursive: true, force: true });
      return result;
    })();
    return stopping;
  };

  return {
    id,
    bundle,
    output: () => ({ stdout: decode(out), stderr: decode(errOut) }),
    exited,
    stop,
  };
}

async function _editConfig(path: string, opts: RunImageOptions): Promise<void> {
  const config = JSON.parse(await readFile(path, "utf8"));
  const proc = config.process ?? {};
  proc.terminal = false;
  if (opts.args !== undefined) proc.args = opts.args;
  if (opts.env !== undefined) {
    const env: string[] = (proc.env ?? []).filter((kv: string) => {
      const key = kv.split("=", 1)[0] ?? "";
      return !Object.hasOwn(opts.env ?? {}, key);
    });
    for (const [k, v] of Object.entries(opts.env)) env.push(`${k}=${v}`);
    proc.env = env;
  }
  config.process = proc;
  const linux = config.linux ?? {};
  // Share the host's network namespace: servers in the container are reachable on 127.0.0.1.
  linux.namespaces = (linux.namespaces ?? []).filter(
    (ns: { type?: string }) => ns.type !== "network",
  );
  config.linux = linux;
  await writeFile(path, JSON.stringify(config, null, 2));
}

function _exec(cmd: string, args: string[], timeoutMs: number): Promise<_Exec> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    const out: Uint8Array[] = [];
    const errOut: Uint8Array[] = [];
    child.stdout.on("data", (c: Uint8Array) => out.push(c));
    child.stderr.on("data", (c: Uint8Array) => errOut.push(c));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(errOut).toString("utf8"),
        exitCode: code ?? 137,
      });
    });
  });
}

/**
 * Where bundles go: $PYCONTAINER_RUN_DIR, else /dev/shm (tmpfs: unpacking there is about 5× faster
 * than on the disk of our machines), else the OS temp dir.
 */
async function _bundleParent(): Promise<string> {
  const fromEnv = process.env.PYCONTAINER_RUN_DIR;
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  try {
    await access("/dev/shm", constants.W_OK);
    return "/dev/shm";
  } catch {
    return tmpdir();
  }
}

function _sleep(ms: number): Promise<undefined> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(undefined), ms);
    // Don't keep the process alive just for this timer.
    (t as { unref?: () => void }).unref?.();
  });
}

function _signalNumber(signal: NodeJS.Signals | null): number {
  const table: Record<string, number> = { SIGKILL: 9, SIGTERM: 15, SIGINT: 2, SIGHUP: 1 };
  return signal === null ? 0 : table[signal] ?? 0;
}
