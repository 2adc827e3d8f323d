/**
 * Test harness for the tests that run `pycontainer` as separate processes (`deno run -A cli.ts`),
 * as users do — several at once (concurrency) or killed midway (interruption): a temporary work
 * directory with the cached Debian/Python base image's `oci-layout:` reference, and a process
 * runner that captures output and can SIGKILL.
 *
 * @module
 */
import { after, before } from "node:test";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { baseLayoutPath } from "./_registry.ts";

const repo = resolve(import.meta.dirname!, "..", "..");
const deno = join(repo, "node_modules", ".bin", "deno");

/** How a CLI process ended. */
export interface CliExit {
  /** Exit code (null when killed by a signal). */
  code: number | null;
  /** The signal that ended it, e.g. `SIGKILL`. */
  signal: string | null;
  /** Its stdout, trimmed. */
  stdout: string;
  /** Its stderr. */
  stderr: string;
}

/** A running CLI process. */
export interface CliProcess {
  /** Resolves once the process is gone. */
  exited: Promise<CliExit>;
  /** Sends SIGKILL, as a crash or the OOM killer would. */
  kill(): void;
}

/**
 * Starts `deno run -A cli.ts ARGS` in the repository.
 *
 * @param args Arguments after `pycontainer`.
 * @param env Environment additions (over the test process's, with `NO_COLOR=1`).
 * @returns The process.
 */
export function startCliProcess(args: string[], env: Record<string, string> = {}): CliProcess {
  const child = spawn(deno, ["run", "-A", join(repo, "cli.ts"), ...args], {
    cwd: repo,
    env: { ...process.env, NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += String(d)));
  child.stderr.on("data", (d) => (stderr += String(d)));
  const exited = new Promise<CliExit>((done, fail) => {
    child.once("error", fail);
    child.once("close", (code, signal) => done({ code, signal, stdout: stdout.trim(), stderr }));
  });
  return { exited, kill: () => child.kill("SIGKILL") };
}

/** What {@linkcode useProcessFixture} sets up (filled in by its `before` hook). */
export interface ProcessFixture {
  /** A temporary directory, removed after the file's tests. */
  work: string;
  /** `oci-layout:<cached bookworm base>:bookworm`. */
  base: string;
}

/**
 * Registers `before`/`after` hooks that make (and remove) a work directory.
 *
 * @param prefix Name prefix of the temporary directory.
 * @param skip The file's skip reason (nothing is set up when given).
 * @returns The fixture, usable inside tests.
 */
export function useProcessFixture(prefix: string, skip: string | undefined): ProcessFixture {
  const fixture = {} as ProcessFixture;
  before(async () => {
    if (skip) return;
    fixture.work = await mkdtemp(join(tmpdir(), prefix));
    fixture.base = `oci-layout:${baseLayoutPath()}:bookworm`;
  });
  after(async () => {
    if (fixture.work) await rm(fixture.work, { recursive: true, force: true });
  });
  return fixture;
}
