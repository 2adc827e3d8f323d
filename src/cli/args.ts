/**
 * Flag parsing for the CLI's subcommands, on `node:util` `parseArgs` (built into Deno, Bun and
 * Node; repeated flags work). Each subcommand declares its flags once in a {@linkcode FlagSpec}
 * table; the same table drives parsing, `--help` text and "did you mean" for typos. Every parse
 * failure is a usage error (exit code 2) that names the flag.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { usageError } from "../errors.ts";
import { closestMatch } from "../config/did_you_mean.ts";

/** One flag of a subcommand. */
export interface FlagSpec {
  /** `string` takes a value, `boolean` doesn't. */
  type: "string" | "boolean";
  /** May be given several times (values collected in order). */
  multiple?: boolean;
  /** One-letter alias, e.g. `t` for `--tag`. */
  short?: string;
  /** Placeholder for the value in help, e.g. `REF`. */
  value?: string;
  /** One line for `--help`. */
  help: string;
}

/** A subcommand's flags, by long name. */
export type FlagTable = Record<string, FlagSpec>;

/** Parsed flags: strings, string arrays for `multiple`, booleans. */
export type ParsedFlags = Record<string, string | string[] | boolean | undefined>;

/**
 * Parses `argv` against a flag table.
 *
 * @param command The subcommand, for messages (e.g. `build`).
 * @param flags The subcommand's flag table.
 * @param argv Arguments after the subcommand.
 * @returns Flag values and positional arguments.
 * @throws {PycontainerError} exit code 2 for unknown flags (with a suggestion) or missing values.
 *
 * @example
 * ```ts
 * import { parseFlags } from "./args.ts";
 * const { values } = parseFlags("build", {
 *   tag: { type: "string", multiple: true, help: "tag" },
 * }, ["--tag", "a:1", "--tag", "a:latest"]);
 * console.assert((values.tag as string[]).length === 2);
 * ```
 */
export function parseFlags(
  command: string,
  flags: FlagTable,
  argv: readonly string[],
): { values: ParsedFlags; positionals: string[] } {
  const options: Record<
    string,
    { type: "string" | "boolean"; multiple?: boolean; short?: string }
  > = {};
  for (const [name, spec] of Object.entries(flags)) {
    options[name] = { type: spec.type };
    if (spec.multiple) options[name].multiple = true;
    if (spec.short) options[name].short = spec.short;
  }
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options,
      allowPositionals: true,
      strict: true,
    });
    return { values: values as ParsedFlags, positionals };
  } catch (err) {
    throw translateParseError(command, flags, err);
  }
}

function translateParseError(command: string, flags: FlagTable, err: unknown): Error {
  const message = err instanceof Error ? err.message : String(err);
  const unknown = /Unknown option '(-{1,2}[^']+)'/.exec(message);
  if (unknown) {
    const flag = unknown[1]!;
    const guess = closestMatch(flag.replace(/^-+/, "").split("=")[0]!, Object.keys(flags));
    return usageError(
      `unknown flag ${flag} for "pycontainer ${command}"`,
      guess ? `did you mean --${guess}?` : `run "pycontainer ${command} --help" for the flags`,
    );
  }
  const missing = /Option '(?:-\w, )?(--[\w-]+)(?: <value>)?' argument missing/.exec(message);
  if (missing) {
    return usageError(`${missing[1]} needs a value`, `e.g. ${example(flags, missing[1]!)}`);
  }
  const noValue = /Option '(--[\w-]+)' does not take an argument/.exec(message);
  if (noValue) return usageError(`${noValue[1]} does not take a value`, `write just ${noValue[1]}`);
  return usageError(message.split("\n")[0]!, `run "pycontainer ${command} --help"`);
}

function example(flags: FlagTable, flag: string): string {
  const spec = flags[flag.replace(/^--/, "")];
  return `${flag} ${spec?.value ?? "VALUE"}`;
}

/**
 * Formats a flag table as help text lines.
 *
 * @param flags The flag table.
 * @returns Aligned lines like `  -t, --tag REF   Tag the image (repeatable)`.
 *
 * @example
 * ```ts
 * import { formatFlagHelp } from "./args.ts";
 * const text = formatFlagHelp({ quiet: { type: "boolean", short: "q", help: "Print nothing" } });
 * console.assert(text.includes("-q, --quiet"));
 * ```
 */
export function formatFlagHelp(flags: FlagTable): string {
  const rows = Object.entries(flags).map(([name, spec]) => {
    const short = spec.short ? `-${spec.short}, ` : "    ";
    const value = spec.type === "string" ? ` ${spec.value ?? "VALUE"}` : "";
    return [`  ${short}--${name}${value}`, spec.help + (spec.multiple ? " (repeatable)" : "")];
  });
  const width = Math.max(...rows.map(([left]) => left!.length)) + 2;
  return rows.map(([left, right]) => left!.padEnd(width) + right).join("\n");
}

/**
 * Reads a string flag value.
 *
 * @param values Parsed flags.
 * @param name Flag name.
 * @returns The value, or undefined when not given.
 *
 * @example
 * ```ts
 * import { stringFlag } from "./args.ts";
 * console.assert(stringFlag({ user: "app" }, "user") === "app");
 * ```
 */
export function stringFlag(values: ParsedFlags, name: string): string | undefined {
  const v = values[name];
  return typeof v === "string" ? v : undefined;
}

/**
 * Reads a repeatable string flag, splitting comma-separated values when asked.
 *
 * @param values Parsed flags.
 * @param name Flag name.
 * @param splitCommas Also split each value on commas (e.g. `--platform a,b`).
 * @returns The values, or undefined when not given.
 *
 * @example
 * ```ts
 * import { listFlag } from "./args.ts";
 * console.assert(listFlag({ platform: ["linux/amd64,linux/arm64"] }, "platform", true)?.length === 2);
 * ```
 */
export function listFlag(
  values: ParsedFlags,
  name: string,
  splitCommas = false,
): string[] | undefined {
  const v = values[name];
  if (!Array.isArray(v) || v.length === 0) return undefined;
  return splitCommas ? v.flatMap((s) => s.split(",")).map((s) => s.trim()).filter(Boolean) : v;
}
