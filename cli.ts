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
import { PycontainerError } from "./src/errors.ts";
import type { CliIo, Subcommand } from "./src/cli/io.ts";
import { VERSION } from "./src/version.ts";

/** A subcommand as `--help` lists it, and how to load the module that runs it. */
interface CommandEntry {
  /** One line for `pycontainer --help` (the same as the loaded {@linkcode Subcommand}'s). */
  summary: string;
  /** Imports the subcommand's module (only when that subcommand runs or shows its help). */
  load: () => Promise<Subcommand>;
}

/**
 * The subcommands. Each module is imported only when its subcommand runs, so `--version` and
 * `--help` load none of the build graph and `build` does not load `cache` (start-up time: each
 * module costs loading and evaluation before any work). A test keeps these summaries equal to
 * the modules' own.
 */
const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  build: {
    summary: "Build an OCI image from a Python project",
    load: async () => (await import("./src/cli/build_command.ts")).buildCommand,
  },
  cache: {
    summary: "Show, prune or clear the build cache",
    load: async () => (await import("./src/cli/cache_command.ts")).cacheCommand,
  },
  push: {
    summary: "Push an image from an OCI layout to a registry",
    load: async () => (await import("./src/cli/push_command.ts")).pushCommand,
  },
  login: {
    summary: "Check and store registry credentials in Docker's config.json",
    load: async () => (await import("./src/cli/login_command.ts")).loginCommand,
  },
  logout: {
    summary: "Remove stored registry credentials",
    load: async () => (await import("./src/cli/login_command.ts")).logoutCommand,
  },
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
    const entry = Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined;
    if (!entry) {
      const { closestMatch } = await import("./src/config/did_you_mean.ts");
      const guess = closestMatch(first, Object.keys(COMMANDS));
      throw new PycontainerError(`unknown command "${first}"`, {
        hint: guess
          ? `did you mean "pycontainer ${guess}"?`
          : `run "pycontainer --help" for the commands`,
        exitCode: 2,
      });
    }
    const command = await entry.load();
    if (rest.includes("--help") || rest.includes("-h")) {
      const { formatFlagHelp } = await import("./src/cli/args.ts");
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

/**
 * True when this file is the program being run (`import.meta.main` is missing on Node 20, so
 * there the script path is compared; node:fs is imported only then: on Deno, loading its
 * node:fs layer costs ~40 ms, which `--version` doesn't need).
 */
async function isEntryPoint(): Promise<boolean> {
  const meta = import.meta as ImportMeta & { main?: boolean };
  if (typeof meta.main === "boolean") return meta.main;
  const script = process.argv[1];
  if (!script) return false;
  const [{ realpathSync }, { fileURLToPath }] = await Promise.all([
    import("node:fs"),
    import("node:url"),
  ]);
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (await isEntryPoint()) {
  process.exitCode = await main(process.argv.slice(2));
}
