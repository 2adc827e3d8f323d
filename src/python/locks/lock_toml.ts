/**
 * Shared plumbing of the TOML lock readers (`uv.lock`, `pylock.toml`, `poetry.lock`): parsing
 * with one-line errors that name the file and line, finding the line of the N-th `[[package]]`
 * (smol-toml gives values without positions, and an error about a package is only useful when
 * it points at it), and small typed accessors that turn a wrong type into such an error.
 *
 * @module
 */

import { readFile } from "node:fs/promises";
import { parse, TomlError } from "smol-toml";
import { PycontainerError } from "../../errors.ts";

/** A parsed TOML table. */
export type TomlTable = Record<string, unknown>;

/** Where a value sits, for error messages: the file and (when known) the line. */
export interface LockPlace {
  /** The lock file's path as shown to the user. */
  file: string;
  /** 1-based line. */
  line?: number;
}

/**
 * Builds the one-line error every lock reader throws: `<file>:<line>: <what>`.
 *
 * @param place The file and line.
 * @param message What is wrong.
 * @param hint What to do about it.
 * @returns The error (exit code 2: the input is bad).
 *
 * @example
 * ```ts
 * import { lockError } from "./lock_toml.ts";
 * const e = lockError({ file: "uv.lock", line: 7 }, "package has no name", "run `uv lock` again");
 * console.assert(e.message === "uv.lock:7: package has no name");
 * ```
 */
export function lockError(place: LockPlace, message: string, hint: string): PycontainerError {
  const at = place.line === undefined ? place.file : `${place.file}:${place.line}`;
  return new PycontainerError(`${at}: ${message}`, { hint, exitCode: 2 });
}

/**
 * Parses a lock file's TOML, turning smol-toml's multi-line error into `file:line:column: why`.
 *
 * @param text The document.
 * @param file The path to name in errors.
 * @param tool The command that regenerates it, for the hint (e.g. `uv lock`).
 * @returns The root table.
 * @throws {PycontainerError} On invalid TOML.
 *
 * @example
 * ```ts
 * import { parseLockToml } from "./lock_toml.ts";
 * console.assert(parseLockToml('version = 1', "uv.lock", "uv lock").version === 1);
 * ```
 */
export function parseLockToml(text: string, file: string, tool: string): TomlTable {
  try {
    return parse(text) as TomlTable;
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    const reason = (err.message.split("\n")[0] ?? "").replace(/^Invalid TOML document: /, "");
    throw new PycontainerError(`${file}:${err.line}:${err.column}: invalid TOML: ${reason}`, {
      hint: `the lock file is damaged; regenerate it with \`${tool}\``,
      exitCode: 2,
      cause: err,
    });
  }
}

/**
 * The 1-based line of every `[[header]]` array-of-tables header, in document order, so the N-th
 * table of the parsed array can be reported by line. Lines inside multi-line strings are skipped.
 *
 * @param text The document.
 * @param header The array name, e.g. `package` or `packages`.
 * @returns One line number per table.
 *
 * @example
 * ```ts
 * import { arrayTableLines } from "./lock_toml.ts";
 * console.assert(arrayTableLines('a = 1\n[[package]]\nname = "x"\n', "package")[0] === 2);
 * ```
 */
export function arrayTableLines(text: string, header: string): number[] {
  const lines = text.split(/\r?\n/);
  const re = new RegExp(`^\\s*\\[\\[\\s*${header.replace(/[.]/g, "\\.")}\\s*\\]\\]\\s*(#.*)?$`);
  const out: number[] = [];
  let inString: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (inString !== undefined) {
      if (line.includes(inString)) inString = undefined;
      continue;
    }
    if (re.test(line)) {
      out.push(i + 1);
      continue;
    }
    const m = /("""|''')/.exec(line);
    if (m !== null && line.split(m[1] as string).length === 2) inString = m[1];
  }
  return out;
}

/** Reads values of a table with type checks that fail with the table's file and line. */
export class TableReader {
  /**
   * @param table The table.
   * @param place Its file and line.
   * @param what How to name the table in errors, e.g. `package "uvloop"`.
   * @param tool The command that regenerates the file, for hints.
   */
  constructor(
    readonly table: TomlTable,
    readonly place: LockPlace,
    readonly what: string,
    readonly tool: string,
  ) {}

  /**
   * An error about this table.
   *
   * @param message What is wrong with it.
   * @returns The error.
   */
  error(message: string): PycontainerError {
    return lockError(
      this.place,
      `${this.what}: ${message}`,
      `the lock file is damaged or from an unsupported version; regenerate it with \`${this.tool}\``,
    );
  }

  /**
   * A string value.
   *
   * @param key The key.
   * @returns The value, or `undefined` when absent.
   */
  string(key: string): string | undefined {
    const v = this.table[key];
    if (v === undefined) return undefined;
    if (typeof v !== "string") throw this.error(`"${key}" must be a string`);
    return v;
  }

  /**
   * A string value that must be present.
   *
   * @param key The key.
   * @returns The value.
   */
  requiredString(key: string): string {
    const v = this.string(key);
    if (v === undefined) throw this.error(`"${key}" is missing`);
    return v;
  }

  /**
   * A table value.
   *
   * @param key The key.
   * @returns The value, or `undefined` when absent.
   */
  subtable(key: string): TomlTable | undefined {
    const v = this.table[key];
    if (v === undefined) return undefined;
    if (!isTable(v)) throw this.error(`"${key}" must be a table`);
    return v;
  }

  /**
   * An array of tables.
   *
   * @param key The key.
   * @returns The tables (empty when absent).
   */
  tables(key: string): TomlTable[] {
    const v = this.table[key];
    if (v === undefined) return [];
    if (!Array.isArray(v) || !v.every(isTable)) {
      throw this.error(`"${key}" must be an array of tables`);
    }
    return v;
  }

  /**
   * An array of strings.
   *
   * @param key The key.
   * @returns The strings (empty when absent).
   */
  strings(key: string): string[] {
    const v = this.table[key];
    if (v === undefined) return [];
    if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) {
      throw this.error(`"${key}" must be an array of strings`);
    }
    return v;
  }

  /**
   * A non-negative integer.
   *
   * @param key The key.
   * @returns The value, or `undefined` when absent.
   */
  integer(key: string): number | undefined {
    const v = this.table[key];
    if (v === undefined) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
      throw this.error(`"${key}" must be a non-negative integer`);
    }
    return v;
  }

  /**
   * A date-time (TOML datetime or string), as ISO 8601 text.
   *
   * @param key The key.
   * @returns The value, or `undefined` when absent.
   */
  dateTime(key: string): string | undefined {
    const v = this.table[key];
    if (v === undefined) return undefined;
    if (typeof v === "string") return v;
    if (v instanceof Date) return v.toISOString();
    throw this.error(`"${key}" must be a date-time`);
  }
}

/**
 * Whether a parsed TOML value is a table (not an array or a date).
 *
 * @param v Any value.
 * @returns `true` for plain objects.
 *
 * @example
 * ```ts
 * import { isTable } from "./lock_toml.ts";
 * console.assert(isTable({}) && !isTable([]) && !isTable(new Date()));
 * ```
 */
export function isTable(v: unknown): v is TomlTable {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/**
 * The file name at the end of a URL or path (`.../x-1.0-py3-none-any.whl#sha256=...` → the name).
 *
 * @param urlOrPath A URL or a path.
 * @returns The last path segment, URL-decoded, without query or fragment.
 *
 * @example
 * ```ts
 * import { fileNameOf } from "./lock_toml.ts";
 * console.assert(fileNameOf("https://h/p/a-1.0.tar.gz#sha256=00") === "a-1.0.tar.gz");
 * ```
 */
export function fileNameOf(urlOrPath: string): string {
  const bare = urlOrPath.replace(/[?#].*$/s, "").replace(/\\/g, "/");
  const last = bare.slice(bare.lastIndexOf("/") + 1);
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

/**
 * Splits a `algorithm:hexdigest` hash (uv.lock, poetry.lock) into a hashes record.
 *
 * @param hash E.g. `sha256:ab12...`.
 * @returns `{ sha256: "ab12..." }`, or `undefined` when it is not `algo:hex`.
 *
 * @example
 * ```ts
 * import { splitHash } from "./lock_toml.ts";
 * console.assert(splitHash("sha256:AB")?.sha256 === "ab");
 * ```
 */
export function splitHash(hash: string): Record<string, string> | undefined {
  const m = /^([a-z0-9_]+)[:=]([0-9a-fA-F]+)$/.exec(hash.trim());
  if (m === null) return undefined;
  return { [m[1] as string]: (m[2] as string).toLowerCase() };
}

/**
 * Reads a lock file as UTF-8 text, failing with a one-line error naming it.
 *
 * @param path The file.
 * @returns Its text (a leading BOM removed).
 * @throws {PycontainerError} When it cannot be read.
 *
 * @example
 * ```ts ignore
 * import { readLockText } from "./lock_toml.ts";
 * const text = await readLockText("uv.lock");
 * ```
 */
export async function readLockText(path: string): Promise<string> {
  try {
    return (await readFile(path, "utf8")).replace(/^\uFEFF/, "");
  } catch (e) {
    const code = (e as { code?: string }).code ?? String(e);
    throw new PycontainerError(`cannot read ${path}: ${code}`, {
      hint: code === "ENOENT" ? "check the lock file path" : "check the file's permissions",
      exitCode: 2,
      cause: e,
    });
  }
}
