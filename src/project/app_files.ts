/**
 * Collects the project's files for the app layer, like Docker's `COPY . .` with an ignore file:
 * everything in the context that the ignore rules (see `ignore_rules.ts`) don't exclude, as
 * {@linkcode LayerEntry} values with paths relative to the context (the build prefixes the
 * image's workdir). "Everything a runnable app needs is copied; nothing it doesn't": the default
 * rules keep out VCS data, virtualenvs, caches, secrets and build output.
 *
 * Per file type:
 * - regular files become lazy `stream` entries (opened only when the layer is written), with
 *   mode 0755 if any executable bit is set, else 0644, and an identity of
 *   `file:<abspath>:<size>:<mtimeNs>:<ctimeNs>:<ino>:<dev>` for the file digest cache (ctime
 *   changes on every edit, even one that restores size and mtime);
 * - directories become 0755 entries (empty ones included, as `COPY` does);
 * - symlinks are kept when they resolve inside the context: a relative target is kept as
 *   written, an absolute one pointing inside the context is rewritten relative to the link;
 *   a link escaping the context is an error, because the image would not contain its target;
 * - sockets, FIFOs and devices are skipped with a warning.
 *
 * This is the I/O edge of project reading; the decisions are the pure functions it calls.
 *
 * @module
 */

import type { BigIntStats } from "node:fs";
import { lstat, readdir, readFile, readlink, realpath } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import type { LayerEntry } from "../layer/entry.ts";
import { PycontainerError } from "../errors.ts";
import { cleanPath } from "./ignore_pattern.ts";
import {
  buildIgnoreRules,
  decideIgnore,
  type IgnoreRule,
  type IgnoreRules,
  mustDescend,
  type ParentMatches,
  parseIgnoreFile,
} from "./ignore_rules.ts";
import { lazyFileStream } from "../runtime/file_stream.ts";
import { detectLayout, type SourceLayout } from "./layout.ts";

/** Options for {@linkcode collectAppFiles}. */
export interface CollectOptions {
  /** The build's output directory (absolute, or relative to the context); always excluded. */
  outputDir?: string;
}

/** A path left out of the image, and why (for `--verbose`). */
export interface ExcludedPath {
  /** Relative path; directories end with `/`. */
  readonly path: string;
  /** E.g. `matched "**\/.git" (default)`, `matched "secrets" (.dockerignore:2)`, `output directory`. */
  readonly reason: string;
}

/** What {@linkcode collectAppFiles} found. */
export interface AppFiles {
  /** Entries sorted by path, relative to the context, parents before children. */
  readonly entries: LayerEntry[];
  /** Excluded paths in walk order (an excluded directory is listed once, not its contents). */
  readonly excluded: ExcludedPath[];
  /** Skipped special files and dangling symlinks. */
  readonly warnings: string[];
  /** The ignore file that was read (`.containerignore` or `.dockerignore`), if any. */
  readonly ignoreFile: string | undefined;
  /** The source layout of the copied files. */
  readonly layout: SourceLayout;
}

/**
 * Walks the context and returns the entries of the app layer.
 *
 * @param context The project directory.
 * @param options The output directory to exclude.
 * @returns Entries, exclusions with reasons, warnings, and the detected layout.
 * @throws {PycontainerError} for a missing context (exit 2), an invalid ignore pattern (exit 2)
 *   or a symlink escaping the context (exit 1).
 *
 * @example
 * ```ts
 * import { collectAppFiles } from "./app_files.ts";
 * const { entries, excluded } = await collectAppFiles("tests/fixtures/projects/hello");
 * console.assert(entries.some((e) => e.path === "app.py"));
 * console.assert(excluded.every((x) => x.reason.length > 0));
 * ```
 */
export async function collectAppFiles(
  context: string,
  options: CollectOptions = {},
): Promise<AppFiles> {
  const root = resolve(context);
  const realRoot = await _realContext(root);
  const { rules, ignoreFile } = await _readRules(root);
  const outputRel = await _outputRel(root, realRoot, options.outputDir);
  const walk: _Walk = { root, realRoot, rules, outputRel, entries: [], excluded: [], warnings: [] };
  await _walkDir(walk, root, "", [], false);
  const entries = _withParents(walk.entries).sort((a, b) => _compare(a.path, b.path));
  const files = entries.filter((e) => e.type === "file").map((e) => e.path);
  return {
    entries,
    excluded: walk.excluded,
    warnings: walk.warnings,
    ignoreFile,
    layout: detectLayout(files),
  };
}

interface _Walk {
  root: string;
  realRoot: string;
  rules: IgnoreRules;
  outputRel: string | undefined;
  entries: LayerEntry[];
  excluded: ExcludedPath[];
  warnings: string[];
}

async function _walkDir(
  w: _Walk,
  absDir: string,
  relDir: string,
  parent: ParentMatches,
  dirExcluded: boolean,
): Promise<void> {
  let names: string[];
  let stats: BigIntStats[];
  try {
    names = (await readdir(absDir)).sort(_compare);
    stats = await Promise.all(names.map((name) => lstat(join(absDir, name), { bigint: true })));
  } catch (cause) {
    const code = (cause as { code?: string }).code ?? String(cause);
    throw new PycontainerError(
      `Cannot read ${relDir === "" ? "the build context" : relDir}: ${code}`,
      {
        hint: "fix its permissions, or exclude it in .dockerignore",
        cause,
        exitCode: 1,
      },
    );
  }
  for (const [i, name] of names.entries()) {
    const rel = relDir === "" ? name : `${relDir}/${name}`;
    const abs = join(absDir, name);
    if (rel === w.outputRel) {
      w.excluded.push({ path: rel + "/", reason: "output directory" });
      continue;
    }
    const decision = decideIgnore(w.rules, rel, parent);
    const st = stats[i]!;
    if (st.isDirectory()) {
      if (decision.excluded && !mustDescend(w.rules, rel)) {
        w.excluded.push({ path: rel + "/", reason: _reason(decision.rule) });
        continue;
      }
      if (!decision.excluded) w.entries.push({ type: "dir", path: rel, mode: 0o755 });
      await _walkDir(w, abs, rel, decision.matches, decision.excluded || dirExcluded);
      continue;
    }
    if (decision.excluded) {
      w.excluded.push({ path: rel, reason: _reason(decision.rule) });
      continue;
    }
    if (st.isFile()) {
      const size = Number(st.size);
      w.entries.push({
        type: "file",
        path: rel,
        mode: (Number(st.mode) & 0o111) !== 0 ? 0o755 : 0o644,
        content: {
          kind: "stream",
          size,
          open: () => lazyFileStream(abs),
          identity: `file:${abs}:${size}:${st.mtimeNs}:${st.ctimeNs}:${st.ino}:${st.dev}`,
          changedAtMs: Number((st.mtimeNs > st.ctimeNs ? st.mtimeNs : st.ctimeNs) / 1_000_000n),
        },
      });
    } else if (st.isSymbolicLink()) {
      const target = await _symlinkTarget(w, abs, rel);
      if (target !== undefined) w.entries.push({ type: "symlink", path: rel, target });
    } else {
      const what = st.isFIFO() ? "FIFO" : st.isSocket() ? "socket" : "device file";
      w.warnings.push(`skipped ${what} ${rel}: only files, directories and symlinks are copied`);
    }
  }
}

/** Validates a symlink and returns the target to store, or undefined to skip it. */
async function _symlinkTarget(w: _Walk, abs: string, rel: string): Promise<string | undefined> {
  const raw = await readlink(abs);
  const linkDir = rel.includes("/") ? rel.slice(0, rel.lastIndexOf("/")) : "";
  let target = raw;
  let lexical: string;
  if (isAbsolute(raw)) {
    const inside = [w.root, w.realRoot].map((r) => relative(r, raw)).find((r) => !_escapes(r));
    if (inside === undefined) throw _escapeError(rel, raw);
    lexical = cleanPath(inside.split(sep).join("/"));
    target = _posixRelative(linkDir, lexical);
  } else {
    lexical = cleanPath(linkDir === "" ? raw : `${linkDir}/${raw}`);
  }
  if (lexical === ".." || lexical.startsWith("../") || lexical.startsWith("/")) {
    throw _escapeError(rel, raw);
  }
  let resolved: string;
  try {
    resolved = await realpath(abs);
  } catch {
    w.warnings.push(`symlink ${rel} -> ${raw} is dangling (its target does not exist)`);
    return target;
  }
  if (_escapes(relative(w.realRoot, resolved))) throw _escapeError(rel, raw);
  return target;
}

function _escapeError(rel: string, target: string): PycontainerError {
  return new PycontainerError(`Symlink ${rel} points outside the build context: ${target}`, {
    hint: `replace ${rel} with a copy of what it points to, or exclude it in .dockerignore`,
    exitCode: 1,
  });
}

function _escapes(rel: string): boolean {
  return rel === ".." || rel.startsWith(".." + sep) || isAbsolute(rel);
}

/** Relative path from directory `from` to `to`, both cleaned context-relative paths. */
function _posixRelative(from: string, to: string): string {
  const a = from === "" ? [] : from.split("/");
  const b = to === "." ? [] : to.split("/");
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const parts = [...a.slice(i).map(() => ".."), ...b.slice(i)];
  return parts.length === 0 ? "." : parts.join("/");
}

/** Adds a 0755 dir entry for every parent that is missing (children of excluded dirs). */
function _withParents(entries: LayerEntry[]): LayerEntry[] {
  const dirs = new Set(entries.filter((e) => e.type === "dir").map((e) => e.path));
  const out = [...entries];
  for (const e of entries) {
    for (let d = dirname(e.path); d !== "." && !dirs.has(d); d = dirname(d)) {
      dirs.add(d);
      out.push({ type: "dir", path: d, mode: 0o755 });
    }
  }
  return out;
}

function _reason(rule: IgnoreRule | undefined): string {
  return rule === undefined ? "excluded" : `matched "${rule.text}" (${rule.source})`;
}

function _compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function _realContext(root: string): Promise<string> {
  try {
    const st = await lstat(root);
    if (!st.isDirectory() && !st.isSymbolicLink()) throw new Error("not a directory");
    return await realpath(root);
  } catch (cause) {
    throw new PycontainerError(`Build context ${root} is not a directory`, {
      hint: "pass an existing project directory with --context",
      cause,
      exitCode: 2,
    });
  }
}

async function _readRules(root: string): Promise<{ rules: IgnoreRules; ignoreFile?: string }> {
  for (const name of [".containerignore", ".dockerignore"]) {
    let text: string;
    try {
      text = await readFile(join(root, name), "utf8");
    } catch {
      continue;
    }
    return { rules: buildIgnoreRules(parseIgnoreFile(text, name)), ignoreFile: name };
  }
  return { rules: buildIgnoreRules() };
}

async function _outputRel(
  root: string,
  realRoot: string,
  outputDir: string | undefined,
): Promise<string | undefined> {
  if (outputDir === undefined) return undefined;
  const out = resolve(root, outputDir);
  const candidates = [relative(root, out), relative(realRoot, out)];
  try {
    candidates.push(relative(realRoot, await realpath(out)));
  } catch {
    // not created yet: the lexical paths are all we have
  }
  const rel = candidates.find((r) => !_escapes(r));
  if (rel === undefined) return undefined;
  if (rel === "") {
    throw new PycontainerError(`The output directory ${out} is the build context itself`, {
      hint: "choose an output directory such as dist/image",
      exitCode: 2,
    });
  }
  return rel.split(sep).join("/");
}
