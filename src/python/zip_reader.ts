/**
 * Reads a ZIP archive's central directory (with ZIP64) from a {@linkcode RandomAccessSource} and
 * rejects archives an installer must never trust: entries named with `..`, absolute paths,
 * backslashes or empty segments, symlinks and other special files, duplicate names, a name used
 * both as a file and as a directory, encryption, compression methods other than stored and
 * deflate, sizes over a cap, and entries that overlap or point outside the archive (the classic
 * overlapping-entries zip bomb). Entry content is read separately by `zip_entry_stream.ts`.
 *
 * Only the central directory is trusted for names, sizes and CRCs; local headers are checked
 * against it when an entry is read. This is what pip (`zipfile`) and uv (`async_zip`) do too.
 *
 * @module
 */
import { PycontainerError } from "../errors.ts";
import type { RandomAccessSource } from "./random_access.ts";

/** Default cap on one entry's uncompressed size: 1 GiB. */
export const DEFAULT_MAX_ENTRY_SIZE = 1024 * 1024 * 1024;

/** One file or directory of an archive, as its central directory describes it. */
export interface ZipEntry {
  /** Path inside the archive, `/`-separated, without the trailing `/` of directories. */
  readonly name: string;
  /** True for directory entries (names ending in `/` or with a directory mode). */
  readonly isDirectory: boolean;
  /** 0 = stored, 8 = deflate. */
  readonly method: 0 | 8;
  /** Compressed size in bytes. */
  readonly compressedSize: number;
  /** Uncompressed size in bytes. */
  readonly size: number;
  /** CRC-32 of the uncompressed content, unsigned. */
  readonly crc32: number;
  /** Unix permission bits (`0o7777` part of the external attributes), 0 when not recorded. */
  readonly mode: number;
  /** Offset of the local file header. */
  readonly localHeaderOffset: number;
  /** Length of the raw (UTF-8) name in bytes, used to find the data after the local header. */
  readonly rawNameLength: number;
}

/** A parsed central directory. */
export interface ZipDirectory {
  /** What the archive is called in messages (usually its file name). */
  readonly label: string;
  /** Size of the archive in bytes; entry readers check the source still has this size. */
  readonly archiveSize: number;
  /** Entries in central-directory order. */
  readonly entries: readonly ZipEntry[];
}

/** Options for {@linkcode readZipDirectory}. */
export interface ZipReadOptions {
  /** Name used in error messages, e.g. the wheel's file name. Default `"archive"`. */
  label?: string;
  /** Largest allowed uncompressed size of one entry. Default {@linkcode DEFAULT_MAX_ENTRY_SIZE}. */
  maxEntrySize?: number;
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const EOCD_SIZE = 22;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;
const MAX_COMMENT = 0xffff;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/**
 * Reads and validates the central directory of a ZIP archive.
 *
 * @param source The archive bytes.
 * @param options Label for messages and the entry size cap.
 * @returns The entries, validated.
 * @throws {PycontainerError} When the archive is truncated, corrupt or unsafe (the message names
 *   the archive and the entry).
 *
 * @example Listing a wheel
 * ```ts ignore
 * import { openFileSource } from "./random_access.ts";
 * import { readZipDirectory } from "./zip_reader.ts";
 * const src = await openFileSource("six-1.16.0-py2.py3-none-any.whl");
 * const dir = await readZipDirectory(src, { label: "six-1.16.0-py2.py3-none-any.whl" });
 * await src.close();
 * console.log(dir.entries.map((e) => e.name));
 * ```
 */
export async function readZipDirectory(
  source: RandomAccessSource,
  options: ZipReadOptions = {},
): Promise<ZipDirectory> {
  const label = options.label ?? "archive";
  const maxEntrySize = options.maxEntrySize ?? DEFAULT_MAX_ENTRY_SIZE;
  const fail = (what: string) => _corrupt(label, what);
  if (source.size < EOCD_SIZE) throw fail(`it is ${source.size} bytes, too small for a ZIP file`);

  const tailLength = Math.min(source.size, EOCD_SIZE + MAX_COMMENT);
  const tailStart = source.size - tailLength;
  const tail = await source.read(tailStart, tailLength);
  const tv = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  let eocd = -1;
  for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
    if (
      tv.getUint32(i, true) === EOCD_SIG &&
      i + EOCD_SIZE + tv.getUint16(i + 20, true) <= tail.length
    ) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw fail("no end-of-central-directory record (truncated or not a ZIP file)");

  let count = tv.getUint16(eocd + 10, true);
  let cdSize: number = tv.getUint32(eocd + 12, true);
  let cdOffset: number = tv.getUint32(eocd + 16, true);
  let cdEnd = tailStart + eocd; // where the central directory must end
  if (tv.getUint16(eocd + 4, true) !== 0 || tv.getUint16(eocd + 6, true) !== 0) {
    throw fail("multi-disk archives are not supported");
  }
  const locator = eocd - 20;
  if (locator >= 0 && tv.getUint32(locator, true) === ZIP64_LOCATOR_SIG) {
    const recordOffset = _u64(tv, locator + 8, fail);
    if (recordOffset + 56 > tailStart + locator) throw fail("ZIP64 end record is out of range");
    const rec = await source.read(recordOffset, 56);
    const rv = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
    if (rv.getUint32(0, true) !== ZIP64_EOCD_SIG) {
      throw fail("bad ZIP64 end-of-central-directory record");
    }
    count = _u64(rv, 32, fail);
    cdSize = _u64(rv, 40, fail);
    cdOffset = _u64(rv, 48, fail);
    cdEnd = recordOffset;
  } else if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    throw fail("ZIP64 sizes without a ZIP64 end record");
  }
  if (cdOffset + cdSize !== cdEnd) {
    throw fail(
      "the central directory is not where the end record says (truncated or prefixed data)",
    );
  }
  if (count * CENTRAL_SIZE > cdSize) {
    throw fail(`${count} entries cannot fit in the central directory`);
  }

  const cd = await source.read(cdOffset, cdSize);
  const entries = _parseCentral(cd, count, label, maxEntrySize);
  _checkLayout(entries, cdOffset, label);
  _checkNames(entries, label);
  return { label, archiveSize: source.size, entries };
}

function _parseCentral(
  cd: Uint8Array,
  count: number,
  label: string,
  maxEntrySize: number,
): ZipEntry[] {
  const v = new DataView(cd.buffer, cd.byteOffset, cd.byteLength);
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + CENTRAL_SIZE > cd.length || v.getUint32(p, true) !== CENTRAL_SIG) {
      throw _corrupt(label, `central directory entry ${i + 1} of ${count} is damaged`);
    }
    const flags = v.getUint16(p + 8, true);
    const method = v.getUint16(p + 10, true);
    const crc32 = v.getUint32(p + 16, true);
    let compressedSize: number = v.getUint32(p + 20, true);
    let size: number = v.getUint32(p + 24, true);
    const nameLength = v.getUint16(p + 28, true);
    const extraLength = v.getUint16(p + 30, true);
    const commentLength = v.getUint16(p + 32, true);
    const diskStart = v.getUint16(p + 34, true);
    const external = v.getUint32(p + 38, true);
    let localHeaderOffset: number = v.getUint32(p + 42, true);
    const next = p + CENTRAL_SIZE + nameLength + extraLength + commentLength;
    if (next > cd.length) throw _corrupt(label, `central directory entry ${i + 1} is cut short`);
    const rawName = cd.subarray(p + CENTRAL_SIZE, p + CENTRAL_SIZE + nameLength);
    let name: string;
    try {
      name = decoder.decode(rawName);
    } catch {
      throw _unsafe(label, `entry ${i + 1} has a name that is not valid UTF-8`);
    }
    // ZIP64 extended information: only the fields whose 32-bit value is saturated, in order.
    const extra = new DataView(
      cd.buffer,
      cd.byteOffset + p + CENTRAL_SIZE + nameLength,
      extraLength,
    );
    for (let q = 0; q + 4 <= extraLength;) {
      const id = extra.getUint16(q, true);
      const len = extra.getUint16(q + 2, true);
      if (q + 4 + len > extraLength) break;
      if (id === 0x0001) {
        let r = q + 4;
        const take = () => {
          if (r + 8 > q + 4 + len) throw _corrupt(label, `"${name}" has a short ZIP64 field`);
          const value = _u64(extra, r, (what) => _corrupt(label, `"${name}": ${what}`));
          r += 8;
          return value;
        };
        if (size === 0xffffffff) size = take();
        if (compressedSize === 0xffffffff) compressedSize = take();
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = take();
      }
      q += 4 + len;
    }
    if (size === 0xffffffff || compressedSize === 0xffffffff || localHeaderOffset === 0xffffffff) {
      throw _corrupt(label, `"${name}" needs ZIP64 sizes but has none`);
    }
    if (diskStart !== 0 && diskStart !== 0xffff) {
      throw _corrupt(label, `"${name}" is on another disk`);
    }
    if (flags & 0x1) throw _unsafe(label, `"${name}" is encrypted`);
    if (method !== 0 && method !== 8) {
      throw _unsafe(
        label,
        `"${name}" uses compression method ${method} (only stored and deflate are supported)`,
      );
    }
    if (method === 0 && compressedSize !== size) {
      throw _corrupt(
        label,
        `stored entry "${name}" has different compressed and uncompressed sizes`,
      );
    }
    if (size > maxEntrySize) {
      throw new PycontainerError(
        `${label}: entry "${name}" is ${size} bytes uncompressed, over the ${maxEntrySize}-byte cap`,
        { hint: "this is likely a zip bomb; if the file is genuine, raise the per-entry size cap" },
      );
    }
    const fileType = (external >>> 16) & S_IFMT;
    if (fileType === S_IFLNK) throw _unsafe(label, `"${name}" is a symbolic link`);
    const isDirectory = name.endsWith("/") || fileType === S_IFDIR;
    if (fileType !== 0 && fileType !== S_IFREG && fileType !== S_IFDIR) {
      throw _unsafe(label, `"${name}" is a special file (mode ${(external >>> 16).toString(8)})`);
    }
    entries.push({
      name: name.endsWith("/") ? name.slice(0, -1) : name,
      isDirectory,
      method,
      compressedSize,
      size,
      crc32,
      mode: (external >>> 16) & 0o7777,
      localHeaderOffset,
      rawNameLength: nameLength,
    });
    p = next;
  }
  if (p !== cd.length) throw _corrupt(label, "the central directory has trailing bytes");
  return entries;
}

/** Every entry's smallest possible extent must lie before the central directory, without overlap. */
function _checkLayout(entries: readonly ZipEntry[], cdOffset: number, label: string): void {
  const byOffset = [...entries].sort((a, b) => a.localHeaderOffset - b.localHeaderOffset);
  for (let i = 0; i < byOffset.length; i++) {
    const e = byOffset[i]!;
    const end = e.localHeaderOffset + LOCAL_SIZE + e.rawNameLength + e.compressedSize;
    const limit = byOffset[i + 1]?.localHeaderOffset ?? cdOffset;
    if (end > limit) {
      throw i + 1 < byOffset.length
        ? _unsafe(label, `entries "${e.name}" and "${byOffset[i + 1]!.name}" overlap`)
        : _corrupt(label, `"${e.name}" runs past the start of the central directory`);
    }
  }
}

function _checkNames(entries: readonly ZipEntry[], label: string): void {
  const kinds = new Map<string, boolean>(); // name → isDirectory
  for (const e of entries) {
    const problem = zipNameProblem(e.name);
    if (problem) throw _unsafe(label, `entry "${e.name}" ${problem}`);
    if (kinds.has(e.name)) throw _unsafe(label, `entry "${e.name}" appears more than once`);
    kinds.set(e.name, e.isDirectory);
  }
  for (const name of kinds.keys()) {
    for (let i = name.indexOf("/"); i > 0; i = name.indexOf("/", i + 1)) {
      if (kinds.get(name.slice(0, i)) === false) {
        throw _unsafe(label, `"${name.slice(0, i)}" is both a file and a directory`);
      }
    }
  }
}

/**
 * Says what is wrong with an archive member name, or returns `undefined` when it is a safe
 * relative path (non-empty `/`-separated segments, none `.` or `..`, no backslash, NUL or drive).
 *
 * @param name The member name without a trailing `/`.
 * @returns A phrase such as `"has an absolute path"`, or `undefined`.
 *
 * @example
 * ```ts
 * import { zipNameProblem } from "./zip_reader.ts";
 * console.assert(zipNameProblem("six.py") === undefined);
 * console.assert(zipNameProblem("../evil.py") === "escapes the target with \"..\"");
 * ```
 */
export function zipNameProblem(name: string): string | undefined {
  if (name === "") return "has an empty name";
  if (name.includes("\\")) return "contains a backslash";
  if (name.includes("\0")) return "contains a NUL byte";
  if (name.startsWith("/") || /^[A-Za-z]:/.test(name)) return "has an absolute path";
  const segments = name.split("/");
  if (segments.includes("..")) return 'escapes the target with ".."';
  if (segments.some((s) => s === "" || s === ".")) return 'has an empty or "." path segment';
  return undefined;
}

function _u64(view: DataView, offset: number, fail: (what: string) => Error): number {
  const value = view.getBigUint64(offset, true);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw fail("a ZIP64 size or offset is too large");
  return Number(value);
}

function _corrupt(label: string, what: string): PycontainerError {
  return new PycontainerError(`${label} is not a valid ZIP archive: ${what}`, {
    hint: "the file is truncated or damaged; delete it from the cache and download it again",
  });
}

function _unsafe(label: string, what: string): PycontainerError {
  return new PycontainerError(`${label} is rejected: ${what}`, {
    hint: "the archive is malformed or malicious; don't install it, report it to its publisher",
  });
}
