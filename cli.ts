/**
 * The `pycontainer` command line: argument parsing, the subcommand table and output.
 *
 * ```
 * pycontainer build [--tag REF]... [--context DIR] [--base-image REF] ...
 * pycontainer --help | --version
 * ```
 *
 * Output goes to stderr (progress, `--verbose` details, errors) and stdout (the result: the
 * image digest, or one JSON object with `--json`). Failures print `error: …` and `hint: …`,
 * never a stack trace unless `--verbose`; usage errors exit 2, build failures exit 1.
 *
 * @module
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { PycontainerError } from "./src/errors.ts";
import { buildCommand } from "./src/cli/build_command.ts";
import { loginCommand, logoutCommand } from "./src/cli/login_command.ts";
import { pushCommand } from "./src/cli/push_command.ts";
import { cacheCommand } from "./src/cli/cache_command.ts";
import { formatFlagHelp } from "./src/cli/args.ts";
import type { CliIo, Subcommand } from "./src/cli/io.ts";
import { closestMatch } from "./src/config/did_you_mean.ts";
import { VERSION } from "./src/version.ts";

const COMMANDS: Record<string, Subcommand> = {
  build: buildCommand,
  cache: cacheCommand,
  push: pushCommand,
  login: loginCommand,
  logout: logoutCommand,
};

function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length)) + 2;
  return [
    `pycontainer ${VERSION}: build OCI images for Python projects, without Docker.`,
    "",
    "Usage: pycontainer <command> [flags]",
    "",
    "Commands:",
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`),
    "",
    "Flags:",
    "  -h, --help     Show help (also: pycontainer <command> --help)",
    "  -V, --version  Print the version",
    "",
    "Example: pycontainer build --tag myapp:latest",
  ].join("\n");
}

/**
 * Runs the CLI with the given arguments and returns the exit code.
 *
 * @param argv Arguments after the program name, e.g. `["build", "--tag", "app:1"]`.
 * @param io Where output goes and which environment to read; defaults to the process's.
 * @returns 0 on success, 1 for a failed build, 2 for a usage error.
 *
 * @example
 * ```ts
 * import { main } from "./cli.ts";
 * const out: string[] = [];
 * const code = await main(["--version"], { stdout: (s) => out.push(s), stderr: () => {}, env: {}, isTTY: false });
 * console.assert(code === 0 && out[0]!.includes("."));
 * ```
 */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const verbose = argv.includes("--verbose") || argv.includes("-v");
  try {
    const [first, ...rest] = argv;
    if (first === undefined || first === "-h" || first === "--help" || first === "help") {
      io.stdout(mainHelp());
      return first === undefined ? 2 : 0;
    }
    if (first === "-V" || first === "--version") {
      io.stdout(VERSION);
      return 0;
    }
    const command = COMMANDS[first];
    if (!command) {
      const guess = closestMatch(first, Object.keys(COMMANDS));
      throw new PycontainerError(`unknown command "${first}"`, {
        hint: guess
          ? `did you mean "pycontainer ${guess}"?`
          : `run "pycontainer --help" for the commands`,
        exitCode: 2,
      });
    }
    if (rest.includes("--help") || rest.includes("-h")) {
      io.stdout(
        `${command.usage}\n\n${command.summary}\n\nFlags:\n${formatFlagHelp(command.flags)}`,
      );
      return 0;
    }
    return await command.run(rest, io);
  } catch (err) {
    return reportError(err, io, verbose);
  }
}

function reportError(err: unknown, io: CliIo, verbose: boolean): number {
  if (err instanceof PycontainerError) {
    io.stderr(`error: ${err.message}`);
    if (err.hint) io.stderr(`hint: ${err.hint}`);
    if (verbose && err.cause !== undefined) io.stderr(`cause: ${describeCause(err.cause)}`);
    if (verbose && err.stack) io.stderr(err.stack);
    return err.exitCode;
  }
  const message = err instanceof Error ? err.message : String(err);
  io.stderr(`error: ${message.split("\n")[0]}`);
  io.stderr(
    verbose && err instanceof Error && err.stack
      ? err.stack
      : "hint: this is a bug in pycontainer; run again with --verbose and report the output",
  );
  return 1;
}

function describeCause(cause: unknown): string {
  return cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
}

function processIo(): CliIo {
  return {
    stdout: (s) => void process.stdout.write(`${s}\n`),
    stderr: (s) => void process.stderr.write(`${s}\n`),
    env: process.env,
    isTTY: !!process.stderr.isTTY,
  };
}

/** True when this file is the program being run (`import.meta.main` is missing on Node 20). */
function isEntryPoint(): boolean {
  const meta = import.meta as ImportMeta & { main?: boolean };
  if (typeof meta.main === "boolean") return meta.main;
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  process.exitCode = await main(process.argv.slice(2));
}
