/**
 * The `RECORD` file of a `.dist-info` directory (PEP 376, binary distribution format spec): one
 * CSV row per file, `path,algorithm=urlsafe-base64-nopad-digest,size`, the RECORD itself with
 * empty hash and size. The installer reads the wheel's RECORD to verify every file it streams,
 * and writes a new RECORD with the installed paths relative to site-packages.
 *
 * CSV follows Python's `csv` module defaults (what pip and wheel use): `,` separated, fields
 * quoted with `"` when they contain `,`, `"` or a line break, `""` for a quote inside quotes.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { PycontainerError } from "../errors.ts";

/** One row of a RECORD file. `hash` and `size` are empty strings when absent. */
export interface RecordRow {
  /** Path relative to site-packages, `/`-separated (may start with `../` for other schemes). */
  readonly path: string;
  /** `sha256=…` (or `sha384=`/`sha512=`), or `""`. */
  readonly hash: string;
  /** Size in bytes as decimal text, or `""`. */
  readonly size: string;
}

/** Hash algorithms allowed in RECORD: SHA-256 or stronger (md5 and sha1 are forbidden). */
const ALGORITHMS = new Set(["sha256", "sha384", "sha512"]);

/**
 * Parses RECORD text.
 *
 * @param text The file's content.
 * @param label Where it came from, for messages (e.g. `six-1.16.0-py2.py3-none-any.whl`).
 * @returns The rows in file order, blank lines skipped.
 * @throws {PycontainerError} On malformed CSV or a row without exactly 3 fields.
 *
 * @example
 * ```ts
 * import { parseRecord } from "./record.ts";
 * const rows = parseRecord("six.py,sha256=abc,10\nsix-1.dist-info/RECORD,,\n", "six.whl");
 * console.assert(rows.length === 2 && rows[0]!.size === "10" && rows[1]!.hash === "");
 * ```
 */
export function parseRecord(text: string, label: string): RecordRow[] {
  const rows: RecordRow[] = [];
  let fields: string[] = [];
  let field = "";
  let quoted = false;
  let line = 1;
  const endRow = () => {
    fields.push(field);
    field = "";
    if (!(fields.length === 1 && fields[0] === "")) {
      if (fields.length !== 3) {
        throw new PycontainerError(
          `${label}: RECORD line ${line} has ${fields.length} fields, expected path,hash,size`,
          { hint: "the wheel's RECORD is broken; use another build of this package" },
        );
      }
      rows.push({ path: fields[0]!, hash: fields[1]!, size: fields[2]! });
    }
    fields = [];
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === "\n") line++;
        field += c;
      }
    } else if (c === '"' && field === "") quoted = true;
    else if (c === ",") {
      fields.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      endRow();
      line++;
    } else field += c;
  }
  if (quoted) {
    throw new PycontainerError(`${label}: RECORD has an unterminated quote`, {
      hint: "the wheel's RECORD is broken; use another build of this package",
    });
  }
  if (field !== "" || fields.length > 0) endRow();
  return rows;
}

/**
 * Formats rows as RECORD text (one row per line, `\n` line ends, minimal quoting).
 *
 * @param rows Rows in the order to write.
 * @returns The file content.
 *
 * @example
 * ```ts
 * import { formatRecord } from "./record.ts";
 * const text = formatRecord([{ path: "a,b.py", hash: "sha256=x", size: "1" }]);
 * console.assert(text === '"a,b.py",sha256=x,1\n');
 * ```
 */
export function formatRecord(rows: readonly RecordRow[]): string {
  const quote = (s: string) => /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  return rows.map((r) => `${quote(r.path)},${quote(r.hash)},${quote(r.size)}\n`).join("");
}

/**
 * Computes a RECORD hash field for bytes.
 *
 * @param data The file content.
 * @param algorithm `sha256` (default), `sha384` or `sha512`.
 * @returns E.g. `sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU` for empty input.
 *
 * @example
 * ```ts
 * import { recordHash } from "./record.ts";
 * console.assert(recordHash(new Uint8Array()) === "sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU");
 * ```
 */
export function recordHash(data: Uint8Array, algorithm = "sha256"): string {
  return `${algorithm}=${_b64url(createHash(algorithm).update(data).digest())}`;
}

/**
 * Checks that a RECORD hash field names an allowed algorithm and a well-formed digest.
 *
 * @param hash The field, e.g. `sha256=…`.
 * @returns The algorithm and the digest (urlsafe base64, no padding), or `undefined` if invalid.
 *
 * @example
 * ```ts
 * import { parseRecordHash } from "./record.ts";
 * console.assert(parseRecordHash("md5=abc") === undefined);
 * console.assert(parseRecordHash("sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU")?.algorithm === "sha256");
 * ```
 */
export function parseRecordHash(hash: string): { algorithm: string; digest: string } | undefined {
  const eq = hash.indexOf("=");
  if (eq <= 0) return undefined;
  const algorithm = hash.slice(0, eq);
  const digest = hash.slice(eq + 1).replace(/=+$/, "");
  if (!ALGORITHMS.has(algorithm) || !/^[A-Za-z0-9_-]+$/.test(digest)) return undefined;
  return { algorithm, digest };
}

/**
 * A pass-through stream that hashes what flows through it and errors at the end when the hash
 * or the size differ from a RECORD row — how streamed wheel files are verified on the way into
 * the layer.
 *
 * @param expected The wheel's RECORD row for the file (its hash must be valid).
 * @param label The wheel, for the message.
 * @returns The verifying transform.
 *
 * @example
 * ```ts
 * import { recordHash, recordVerifier } from "./record.ts";
 * const data = new TextEncoder().encode("x = 1\n");
 * const row = { path: "a.py", hash: recordHash(data), size: String(data.length) };
 * const out = new Blob([data]).stream().pipeThrough(recordVerifier(row, "a.whl"));
 * console.assert((await new Response(out).text()) === "x = 1\n");
 * ```
 */
export function recordVerifier(
  expected: RecordRow,
  label: string,
): TransformStream<Uint8Array, Uint8Array> {
  const parsed = parseRecordHash(expected.hash);
  if (!parsed) throw new TypeError(`invalid RECORD hash for ${expected.path}: ${expected.hash}`);
  const hash = createHash(parsed.algorithm);
  let size = 0;
  return new TransformStream({
    transform(chunk, controller) {
      hash.update(chunk);
      size += chunk.length;
      controller.enqueue(chunk);
    },
    flush() {
      const digest = _b64url(hash.digest());
      if (digest !== parsed.digest || (expected.size !== "" && String(size) !== expected.size)) {
        throw _mismatch(label, expected);
      }
    },
  });
}

function _b64url(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]!);
  return btoa(bin).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/**
 * Indexes a wheel's RECORD by path and checks it covers the archive: every member (except those
 * `exempt`, i.e. RECORD itself and its signatures) must be listed with a valid SHA-256-or-stronger
 * hash and its exact size. Rows for paths that aren't in the archive are ignored, as pip does.
 *
 * @param text The wheel's RECORD.
 * @param members The archive's files (name and uncompressed size).
 * @param exempt Members that may lack a row or hash.
 * @param file The wheel's file name, for messages.
 * @returns Rows by archive path.
 * @throws {PycontainerError} When a member is missing, has no valid hash, or has another size.
 *
 * @example
 * ```ts
 * import { indexWheelRecord, recordHash } from "./record.ts";
 * const data = new TextEncoder().encode("x");
 * const text = `a.py,${recordHash(data)},1\nd/RECORD,,\n`;
 * const rows = indexWheelRecord(text, [{ name: "a.py", size: 1 }, { name: "d/RECORD", size: 30 }], (n) => n === "d/RECORD", "a.whl");
 * console.assert(rows.get("a.py")?.size === "1");
 * ```
 */
export function indexWheelRecord(
  text: string,
  members: readonly { readonly name: string; readonly size: number }[],
  exempt: (name: string) => boolean,
  file: string,
): Map<string, RecordRow> {
  const rows = new Map<string, RecordRow>();
  for (const row of parseRecord(text, file)) rows.set(row.path.replace(/^\/+/, ""), row);
  for (const member of members) {
    if (exempt(member.name)) continue;
    const row = rows.get(member.name);
    if (!row) throw _badRecord(file, `"${member.name}" is not listed in RECORD`);
    if (!parseRecordHash(row.hash)) {
      throw _badRecord(
        file,
        `RECORD has no valid hash for "${member.name}" (${row.hash || "empty"})`,
      );
    }
    if (row.size !== String(member.size)) {
      throw _badRecord(
        file,
        `RECORD says "${member.name}" is ${row.size || "?"} bytes, the archive says ${member.size}`,
      );
    }
  }
  return rows;
}

/**
 * Checks bytes read whole against their RECORD row (hash and size).
 *
 * @param bytes The content.
 * @param row The row (its hash must be valid).
 * @param file The wheel's file name, for messages.
 * @throws {PycontainerError} On a mismatch.
 *
 * @example
 * ```ts
 * import { checkRecordBytes, recordHash } from "./record.ts";
 * const data = new TextEncoder().encode("x");
 * checkRecordBytes(data, { path: "a.py", hash: recordHash(data), size: "1" }, "a.whl");
 * ```
 */
export function checkRecordBytes(bytes: Uint8Array, row: RecordRow, file: string): void {
  const parsed = parseRecordHash(row.hash);
  const ok = parsed !== undefined &&
    recordHash(bytes, parsed.algorithm) === `${parsed.algorithm}=${parsed.digest}` &&
    (row.size === "" || row.size === String(bytes.length));
  if (!ok) throw _mismatch(file, row);
}

function _mismatch(file: string, row: RecordRow): PycontainerError {
  return new PycontainerError(
    `${file}: "${row.path}" does not match its RECORD hash (${row.hash})`,
    {
      hint: "the wheel was altered after it was built; don't install it, use another copy",
    },
  );
}

function _badRecord(file: string, what: string): PycontainerError {
  return new PycontainerError(`${file} has a bad RECORD: ${what}`, {
    hint: "the wheel is damaged or was altered after it was built; use another copy",
  });
}
