/**
 * SHA-256 of project files, with a stat fast path. Each file's stat fingerprint (path, size,
 * mtime ns, ctime ns, inode, device; see `LayerEntry` identities) maps to its content digest in a
 * small JSON file per project in the cache directory. A matching fingerprint skips re-reading the
 * file; anything else re-hashes it.
 *
 * Why it can't go stale: every write to a file changes its ctime, which user space cannot set
 * back (`touch -d` and `utimes` restore mtime, not ctime), so an edit that keeps size and mtime
 * still changes the fingerprint. The remaining race — a file written again within the timestamp
 * granularity right after it was hashed — is closed as git does ("racy git"): fingerprints
 * younger than {@linkcode RACY_WINDOW_MS} are never recorded, so such files are always re-hashed.
 *
 * @module
 */
import { mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { EntryContent } from "../layer/entry.ts";
import { createSha256 } from "../runtime/sha256.ts";
import { writeFileAtomic } from "../store/atomic.ts";
import { markUsed } from "../store/use_time.ts";

/** Fingerprints changed this recently (ms) are not trusted or recorded. */
export const RACY_WINDOW_MS = 2000;

type StreamContent = Extract<EntryContent, { kind: "stream" }>;

/**
 * A persistent map from file fingerprints to content digests.
 *
 * @example
 * ```ts ignore
 * import { FileDigests } from "./file_digests.ts";
 * const digests = await FileDigests.load("/home/me/.cache/pycontainer/file-digests/abc.json");
 * const hex = await digests.digest(entry.content);
 * await digests.save();
 * ```
 */
export class FileDigests {
  readonly #path: string;
  readonly #known: Map<string, string>;
  readonly #seen = new Map<string, string>();
  readonly #now: () => number;

  private constructor(path: string, known: Map<string, string>, now: () => number) {
    this.#path = path;
    this.#known = known;
    this.#now = now;
  }

  /**
   * Loads the map from `path`; a missing or unreadable file is an empty map.
   *
   * @param path The JSON file.
   * @param now Clock for the racy-stat window (tests pass their own).
   * @returns The map.
   */
  static async load(path: string, now: () => number = Date.now): Promise<FileDigests> {
    const known = new Map<string, string>();
    try {
      const parsed = JSON.parse(await readFile(path, "utf8")) as Record<string, unknown>;
      await markUsed(path);
      for (const [k, v] of Object.entries(parsed)) {
        if (typeof v === "string" && /^[0-9a-f]{64}$/.test(v)) known.set(k, v);
      }
    } catch {
      // No or damaged file: start empty; it is rewritten on save.
    }
    return new FileDigests(path, known, now);
  }

  /**
   * The SHA-256 (hex) of a streamed file's content, from the fast path when the fingerprint is
   * known and old enough, otherwise by reading the stream.
   *
   * @param content A stream content with a `file:` identity.
   * @returns The lowercase hex digest.
   */
  async digest(content: StreamContent): Promise<string> {
    const key = content.identity;
    const trusted = key !== undefined && !this.#isRacy(content);
    const known = trusted ? this.#known.get(key) : undefined;
    if (known) {
      this.#seen.set(key!, known);
      return known;
    }
    const hash = createSha256();
    const reader = content.open().getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) hash.update(r.value);
    const hex = hash.digestHex();
    if (trusted) this.#seen.set(key!, hex);
    return hex;
  }

  #isRacy(content: StreamContent): boolean {
    return content.changedAtMs === undefined ||
      this.#now() - content.changedAtMs < RACY_WINDOW_MS;
  }

  /**
   * Writes the fingerprints seen in this build (only those: deleted files drop out) atomically.
   *
   * @returns Resolves when written; failures are ignored (the cache is an optimisation).
   */
  async save(): Promise<void> {
    const same = this.#seen.size === this.#known.size &&
      [...this.#seen].every(([k, v]) => this.#known.get(k) === v);
    if (same) return;
    try {
      await mkdir(dirname(this.#path), { recursive: true });
      await writeFileAtomic(this.#path, JSON.stringify(Object.fromEntries(this.#seen)));
    } catch {
      // A read-only cache only costs speed.
    }
  }
}
