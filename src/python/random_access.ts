/**
 * Random-access byte sources: the one thing the ZIP reader needs from the outside world. A ZIP
 * archive is read from its end (the central directory) and then at the offsets that directory
 * names, so the reader asks for `(offset, length)` ranges instead of streaming the whole file.
 * Keeping that behind a two-member interface lets tests read archives built in memory and lets
 * the installer read wheels straight from the download cache with positional reads
 * (node:fs/promises `FileHandle.read`), which Deno, Bun and Node all implement.
 *
 * @module
 */
import { open } from "node:fs/promises";
import { PycontainerError } from "../errors.ts";

/** Bytes that can be read at any offset. `read` returns exactly `length` bytes or throws. */
export interface RandomAccessSource {
  /** Total size in bytes. */
  readonly size: number;
  /**
   * Reads a range.
   *
   * @param offset Start of the range, `0 <= offset`.
   * @param length Number of bytes, `offset + length <= size`.
   * @returns A fresh buffer of exactly `length` bytes (callers may keep it).
   */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** A {@linkcode RandomAccessSource} holding an open resource that must be closed. */
export interface ClosableSource extends RandomAccessSource {
  /** Releases the resource. Safe to call more than once. */
  close(): Promise<void>;
}

/**
 * Wraps bytes in memory as a source.
 *
 * @param bytes The whole content.
 * @returns A source over `bytes` (not copied).
 *
 * @example
 * ```ts
 * import { bytesSource } from "./random_access.ts";
 * const src = bytesSource(new Uint8Array([1, 2, 3, 4]));
 * console.assert((await src.read(1, 2)).join() === "2,3");
 * ```
 */
export function bytesSource(bytes: Uint8Array): RandomAccessSource {
  return {
    size: bytes.length,
    read(offset, length) {
      _checkRange(offset, length, bytes.length, "memory");
      return Promise.resolve(bytes.slice(offset, offset + length));
    },
  };
}

/**
 * Opens a file for positional reads.
 *
 * @param path File to open.
 * @returns An open source; close it when done.
 * @throws {PycontainerError} When the file can't be opened.
 *
 * @example
 * ```ts ignore
 * import { openFileSource } from "./random_access.ts";
 * const src = await openFileSource("six-1.16.0-py2.py3-none-any.whl");
 * try {
 *   const tail = await src.read(src.size - 22, 22);
 *   console.log(tail[0] === 0x50);
 * } finally {
 *   await src.close();
 * }
 * ```
 */
export async function openFileSource(path: string): Promise<ClosableSource> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, "r");
  } catch (cause) {
    throw new PycontainerError(`cannot open ${path}: ${(cause as Error).message}`, {
      cause,
      hint: "check that the file exists and is readable",
    });
  }
  let size: number;
  try {
    size = (await handle.stat()).size;
  } catch (cause) {
    await handle.close().catch(() => {});
    throw new PycontainerError(`cannot read ${path}: ${(cause as Error).message}`, {
      cause,
      hint: "check that the file exists and is readable",
    });
  }
  let closed = false;
  return {
    size,
    async read(offset, length) {
      _checkRange(offset, length, size, path);
      const buffer = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(buffer, done, length - done, offset + done);
        if (bytesRead === 0) {
          throw new PycontainerError(`${path} is shorter than expected (changed while reading?)`, {
            hint: "delete the file from the cache and download it again",
          });
        }
        done += bytesRead;
      }
      return buffer;
    },
    async close() {
      if (closed) return;
      closed = true;
      await handle.close();
    },
  };
}

function _checkRange(offset: number, length: number, size: number, label: string): void {
  if (
    !Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 ||
    offset + length > size
  ) {
    throw new RangeError(
      `read of ${length} bytes at ${offset} is outside ${label} (${size} bytes)`,
    );
  }
}
