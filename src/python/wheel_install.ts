/**
 * Installs a wheel into a venv as layer entries, without unpacking it on the host and without
 * Python: every file becomes an entry whose content streams from the zip when the layer is
 * written. Follows the binary distribution format spec and what pip and uv do:
 *
 * - the archive root goes to site-packages (purelib and platlib are the same in a venv);
 * - `{name}-{version}.data/<scheme>/…`: `purelib`/`platlib` → site-packages, `scripts` → `bin`
 *   (mode 0755, a `#!python`/`#!pythonw` first line rewritten to the venv's python), `headers` →
 *   `include/site/pythonX.Y/<name>`, `data` → the venv root; any other scheme is an error;
 * - `console_scripts` and `gui_scripts` become launchers in `bin` (the same text uv writes; a
 *   `.data/scripts` file of the same name yields to the launcher, as in pip and uv);
 * - `RECORD` is rewritten with paths relative to site-packages and the hash and size of every
 *   installed file, launchers and generated files included; `INSTALLER` says `pycontainer`,
 *   `REQUESTED` and PEP 610 `direct_url.json` are written when asked for.
 *
 * Verification: the zip layer rejects unsafe archives (see `zip_reader.ts`); here every file must
 * be listed in the wheel's RECORD with a valid hash and the right size, or the install fails.
 * Hashes of streamed files are checked as the layer writer consumes them (with the CRC-32), and a
 * mismatch errors that stream, which fails the layer — so a tampered file never lands in an
 * image. Files read whole anyway (metadata, `#!python` scripts) are checked at install time.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { basename, posix } from "node:path";
import type { LayerEntry } from "../layer/entry.ts";
import {
  canonicalizeName,
  findDistInfo,
  parseMetadataNameVersion,
  parseWheelFile,
} from "./dist_info.ts";
import { openFileSource } from "./random_access.ts";
import {
  checkRecordBytes,
  formatRecord,
  indexWheelRecord,
  parseRecordHash,
  recordHash,
  type RecordRow,
  recordVerifier,
} from "./record.ts";
import {
  launcherScript,
  parseScriptEntryPoints,
  rewriteScriptShebang,
  type ScriptEntryPoint,
  startsWithPythonShebang,
} from "./script_launcher.ts";
import { venvLayout, type VenvTarget } from "./venv.ts";
import {
  directUrlJson,
  invalidWheel,
  memberDestination,
  scriptMatchName,
} from "./wheel_schemes.ts";
import { openEntryStream, readEntryBytes } from "./zip_entry_stream.ts";
import { readZipDirectory, type ZipDirectory, type ZipEntry } from "./zip_reader.ts";

/** Options for {@linkcode installWheel}. */
export interface InstallWheelOptions {
  /** The wheel's SHA-256 (hex) when already known (e.g. verified at download); computed otherwise. */
  sha256?: string;
  /** Write `REQUESTED` (the user asked for this distribution, it isn't only a dependency). */
  requested?: boolean;
  /** Where the wheel came from, for PEP 610 `direct_url.json` (credentials are stripped). */
  directUrl?: string;
  /** Content of `INSTALLER`. Default `pycontainer`. */
  installer?: string;
  /** Largest allowed uncompressed file. Default 1 GiB. */
  maxEntrySize?: number;
}

/** A launcher written to the venv's `bin`. */
export interface InstalledScript extends ScriptEntryPoint {
  /** Image path of the launcher, e.g. `app/.venv/bin/wheel`. */
  readonly path: string;
}

/** What {@linkcode installWheel} produced. */
export interface WheelInstall {
  /** `name version (file)`, for messages such as conflicts. */
  readonly label: string;
  /** Layer entries (files only; the layer writer adds parent directories), sorted by path. */
  readonly entries: LayerEntry[];
  /** Name and version from METADATA. */
  readonly dist: { readonly name: string; readonly version: string };
  /** Launchers generated from entry points. */
  readonly consoleScripts: InstalledScript[];
  /** RECORD hash (`sha256=…`) of every file entry, by image path, for conflict checks. */
  readonly hashes: ReadonlyMap<string, string>;
}

const SIGNATURES = new Set(["RECORD", "RECORD.jws", "RECORD.p7s"]);
const REPLACED = new Set(["INSTALLER", "REQUESTED", "direct_url.json"]);

/**
 * Installs one wheel into a venv, as layer entries.
 *
 * @param wheelPath Path of the `.whl` file on the host (it is read again when the layer is written).
 * @param target The venv directory and Python version, e.g. `{ venvDir: "app/.venv", pythonVersion: "3.12" }`.
 * @param options Hash, REQUESTED, direct URL, size cap.
 * @returns Entries, distribution, launchers and hashes.
 * @throws {PycontainerError} When the wheel is unreadable, unsafe, or inconsistent with its RECORD.
 *
 * @example
 * ```ts ignore
 * import { installWheel } from "./wheel_install.ts";
 * const six = await installWheel("six-1.16.0-py2.py3-none-any.whl", { venvDir: "app/.venv", pythonVersion: "3.12" });
 * console.log(six.entries.map((e) => e.path));
 * // [ "app/.venv/lib/python3.12/site-packages/six-1.16.0.dist-info/INSTALLER", …, ".../six.py" ]
 * ```
 */
export async function installWheel(
  wheelPath: string,
  target: VenvTarget,
  options: InstallWheelOptions = {},
): Promise<WheelInstall> {
  const layout = venvLayout(target);
  const file = basename(wheelPath);
  const source = await openFileSource(wheelPath);
  let dir: ZipDirectory;
  let sha256: string;
  const meta = new Map<string, Uint8Array>();
  let dist: { name: string; version: string };
  let names: ReturnType<typeof findDistInfo>;
  let record: Map<string, RecordRow>;
  let files: ZipEntry[];
  try {
    sha256 = options.sha256 ?? await _sha256(source);
    dir = await readZipDirectory(
      source,
      options.maxEntrySize === undefined
        ? { label: file }
        : { label: file, maxEntrySize: options.maxEntrySize },
    );
    files = dir.entries.filter((e) => !e.isDirectory);
    names = findDistInfo(files.map((e) => e.name), file);
    const byName = new Map(files.map((e) => [e.name, e]));
    for (const leaf of ["RECORD", "WHEEL", "METADATA", "entry_points.txt"]) {
      const entry = byName.get(`${names.distInfo}/${leaf}`);
      if (entry) meta.set(leaf, await readEntryBytes(source, entry, { label: file }));
      else if (leaf !== "entry_points.txt") {
        throw invalidWheel(file, `has no ${names.distInfo}/${leaf}`);
      }
    }
    const text = (leaf: string) => new TextDecoder().decode(meta.get(leaf));
    parseWheelFile(text("WHEEL"), file);
    dist = parseMetadataNameVersion(text("METADATA"), file);
    const dirName = names.prefix.split("-")[0]!;
    if (canonicalizeName(dirName) !== canonicalizeName(dist.name)) {
      throw invalidWheel(file, `has ${names.distInfo} but METADATA names "${dist.name}"`);
    }
    const info = `${names.distInfo}/`;
    const exempt = (name: string) =>
      name.startsWith(info) && SIGNATURES.has(name.slice(info.length));
    record = indexWheelRecord(text("RECORD"), files, exempt, file);
    for (const [leaf, bytes] of meta) {
      if (leaf !== "RECORD") {
        checkRecordBytes(bytes, record.get(`${names.distInfo}/${leaf}`)!, file);
      }
    }
  } finally {
    await source.close();
  }

  const label = `${dist.name} ${dist.version} (${file})`;
  const scripts = meta.has("entry_points.txt")
    ? parseScriptEntryPoints(
      new TextDecoder().decode(meta.get("entry_points.txt")),
      file,
      layout.pythonMinor,
    )
    : [];
  const scriptNames = new Set(scripts.map((s) => s.name));
  const out = new Map<string, { entry: LayerEntry; hash: string; size: number }>();
  const add = (path: string, entry: LayerEntry, hash: string, size: number, from: string) => {
    if (out.has(path)) throw invalidWheel(file, `installs "${path}" twice (again from "${from}")`);
    out.set(path, { entry, hash, size });
  };
  const opener = () => openFileSource(wheelPath);

  for (const entry of files) {
    const leaf = entry.name.slice(names.distInfo.length + 1);
    if (
      entry.name.startsWith(`${names.distInfo}/`) && (SIGNATURES.has(leaf) || REPLACED.has(leaf))
    ) continue;
    const dest = memberDestination(entry.name, names.data, layout, dist.name, file);
    if (dest.scheme === "scripts" && scriptNames.has(scriptMatchName(posix.basename(dest.path)))) {
      continue;
    }
    const row = record.get(entry.name)!;
    const mode = dest.scheme === "scripts" || (entry.mode & 0o111) !== 0 ? 0o755 : 0o644;
    const known = entry.name.startsWith(`${names.distInfo}/`) ? meta.get(leaf) : undefined;
    if (known) {
      add(
        dest.path,
        { type: "file", path: dest.path, mode, content: { kind: "bytes", bytes: known } },
        row.hash,
        known.length,
        entry.name,
      );
      continue;
    }
    if (dest.scheme === "scripts" && await _needsRewrite(opener, entry, dir)) {
      const original = await readEntryBytes(opener, entry, {
        label: file,
        archiveSize: dir.archiveSize,
      });
      checkRecordBytes(original, row, file);
      const bytes = rewriteScriptShebang(original, layout.python)!;
      add(
        dest.path,
        { type: "file", path: dest.path, mode, content: { kind: "bytes", bytes } },
        recordHash(bytes),
        bytes.length,
        entry.name,
      );
      continue;
    }
    const content = {
      kind: "stream" as const,
      size: entry.size,
      identity: `wheel:${sha256}:${entry.name}`,
      open: () =>
        openEntryStream(opener, entry, { label: file, archiveSize: dir.archiveSize })
          .pipeThrough(recordVerifier(row, file)),
    };
    add(
      dest.path,
      { type: "file", path: dest.path, mode, content },
      row.hash,
      entry.size,
      entry.name,
    );
  }

  const consoleScripts: InstalledScript[] = [];
  for (const script of scripts) {
    const path = `${layout.scripts}/${script.name}`;
    const bytes = new TextEncoder().encode(launcherScript(script, layout.python));
    add(
      path,
      { type: "file", path, mode: 0o755, content: { kind: "bytes", bytes } },
      recordHash(bytes),
      bytes.length,
      "entry_points.txt",
    );
    consoleScripts.push({ ...script, path });
  }

  const infoDir = `${layout.sitePackages}/${names.distInfo}`;
  const generated: [string, string][] = [["INSTALLER", `${options.installer ?? "pycontainer"}\n`]];
  if (options.requested) generated.push(["REQUESTED", ""]);
  if (options.directUrl !== undefined) {
    generated.push(["direct_url.json", directUrlJson(options.directUrl, sha256)]);
  }
  for (const [leaf, text] of generated) {
    const path = `${infoDir}/${leaf}`;
    const bytes = new TextEncoder().encode(text);
    add(
      path,
      { type: "file", path, mode: 0o644, content: { kind: "bytes", bytes } },
      recordHash(bytes),
      bytes.length,
      leaf,
    );
  }

  const recordPath = `${infoDir}/RECORD`;
  const rows: RecordRow[] = [...out].map(([path, f]) => ({
    path: posix.relative(layout.sitePackages, path),
    hash: f.hash,
    size: String(f.size),
  }));
  rows.push({ path: posix.relative(layout.sitePackages, recordPath), hash: "", size: "" });
  rows.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const recordBytes = new TextEncoder().encode(formatRecord(rows));
  add(
    recordPath,
    { type: "file", path: recordPath, mode: 0o644, content: { kind: "bytes", bytes: recordBytes } },
    recordHash(recordBytes),
    recordBytes.length,
    "RECORD",
  );

  const paths = [...out.keys()].sort();
  return {
    label,
    entries: paths.map((p) => out.get(p)!.entry),
    dist,
    consoleScripts,
    hashes: new Map(paths.map((p) => {
      const parsed = parseRecordHash(out.get(p)!.hash)!;
      return [p, `${parsed.algorithm}=${parsed.digest}`];
    })),
  };
}

/** Reads just the first chunk of a script to see whether it starts with `#!python`. */
async function _needsRewrite(
  opener: () => ReturnType<typeof openFileSource>,
  entry: ZipEntry,
  dir: ZipDirectory,
): Promise<boolean> {
  if (entry.size < 8) return false;
  const reader = openEntryStream(opener, entry, { label: dir.label, archiveSize: dir.archiveSize })
    .getReader();
  try {
    const head = new Uint8Array(8);
    let have = 0;
    while (have < 8) {
      const { done, value } = await reader.read();
      if (done) break;
      const take = value.subarray(0, 8 - have);
      head.set(take, have);
      have += take.length;
    }
    return startsWithPythonShebang(head.subarray(0, have));
  } finally {
    await reader.cancel().catch(() => {});
  }
}

async function _sha256(
  source: { size: number; read(o: number, n: number): Promise<Uint8Array> },
): Promise<string> {
  const hash = createHash("sha256");
  const chunk = 1024 * 1024;
  for (let o = 0; o < source.size; o += chunk) {
    hash.update(await source.read(o, Math.min(chunk, source.size - o)));
  }
  return hash.digest("hex");
}
