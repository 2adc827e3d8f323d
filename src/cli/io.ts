/**
 * What a subcommand gets to talk to the world: output lines, the environment and whether a
 * person is watching. Passing these in (rather than using `process` directly) lets tests run the
 * CLI in-process and capture everything it prints.
 *
 * @module
 */
import type { FlagTable } from "./args.ts";

/** Output and environment of one CLI run. */
export interface CliIo {
  /** Writes one line to standard output (results). */
  stdout: (line: string) => void;
  /** Writes one line to standard error (progress, warnings, errors). */
  stderr: (line: string) => void;
  /** Environment variables. */
  env: Record<string, string | undefined>;
  /** True when stderr is a terminal. */
  isTTY: boolean;
  /** Reads all of standard input (`--password-stdin`); default: the process's stdin. */
  stdin?: () => Promise<string>;
}

/** A subcommand of the CLI. */
export interface Subcommand {
  /** One line for `pycontainer --help`. */
  summary: string;
  /** Usage line, e.g. `Usage: pycontainer build [flags]`. */
  usage: string;
  /** Its flags (also used for `--help`). */
  flags: FlagTable;
  /** Runs it; returns the exit code. */
  run: (argv: readonly string[], io: CliIo) => Promise<number>;
}
