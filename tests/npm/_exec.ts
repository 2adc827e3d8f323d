/**
 * Process helpers for the packaging tests: run a command with a timeout and collect its output,
 * and locate the repository's dev tools (deno, bun, tsc in node_modules/.bin).
 *
 * @module
 */
import { spawn } from "node:child_process";
import { Buffer } from "node:buffer";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (two levels above this file). */
export const ROOT: string = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** node_modules/.bin of the repository, where `npm ci` puts deno and bun. */
export const BIN: string = join(ROOT, "node_modules", ".bin");

/** Output and exit status of a finished command. */
export interface ExecResult {
  /** Captured stdout. */
  stdout: string;
  /** Captured stderr. */
  stderr: string;
  /** Exit code (128 + 9 when killed on timeout). */
  code: number;
  /** Wall time in milliseconds. */
  ms: number;
}

/** Options for {@linkcode exec}. */
export interface ExecOptions {
  /** Working directory. */
  cwd?: string;
  /** Extra environment variables on top of this process's. */
  env?: Record<string, string>;
  /** Kill after this many milliseconds (default 120 000). */
  timeoutMs?: number;
}

/**
 * Runs `cmd args…` and resolves with its output once it exits (never rejects for a non-zero
 * exit; rejects only if the command can't be started).
 *
 * @param cmd Program to run (looked up on PATH).
 * @param args Its arguments.
 * @param opts Working directory, extra env, timeout.
 * @returns stdout, stderr, exit code and wall time.
 *
 * @example
 * ```ts
 * import { exec } from "./_exec.ts";
 * const r = await exec("node", ["--version"]);
 * console.assert(r.code === 0 && r.stdout.startsWith("v"));
 * ```
 */
export function exec(cmd: string, args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, NO_COLOR: "1", ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Uint8Array[] = [];
    const err: Uint8Array[] = [];
    child.stdout.on("data", (c: Uint8Array) => out.push(c));
    child.stderr.on("data", (c: Uint8Array) => err.push(c));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 120_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${cmd}: ${e.message}`));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        code: code ?? 137,
        ms: Date.now() - started,
      });
    });
  });
}

/**
 * Formats a result for assertion messages.
 *
 * @param r A finished command.
 * @returns Its exit code, stdout and stderr as one string.
 *
 * @example
 * ```ts
 * import { describeResult } from "./_exec.ts";
 * console.assert(describeResult({ stdout: "", stderr: "x", code: 1, ms: 1 }).includes("exit 1"));
 * ```
 */
export function describeResult(r: ExecResult): string {
  return `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
}
