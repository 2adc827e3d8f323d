/**
 * `pycontainer cache info|prune|clear`: look at, trim and empty the cache directory that builds
 * share (blobs, layer records, wheels, per-project file digests, target environments).
 *
 * Results go to stdout (a summary, or one JSON object with `--json`); usage errors exit 2.
 *
 * @module
 */
import { resolve } from "node:path";
import { usageError } from "../errors.ts";
import {
  CACHE_FILE_KINDS,
  type CacheFileKind,
  scanCache,
  summarizeScan,
} from "../cache/cache_scan.ts";
import { clearCache } from "../cache/clear_cache.ts";
import { DEFAULT_GRACE_MS, evictCache, type EvictionResult } from "../cache/eviction.ts";
import { type CacheLimit, cacheLimit } from "../cache/size_limit.ts";
import { closestMatch } from "../config/did_you_mean.ts";
import { defaultCacheDir } from "../store/cache_dir.ts";
import { PycontainerError } from "../errors.ts";
import { type FlagTable, parseFlags, stringFlag } from "./args.ts";
import { formatBytes } from "./format.ts";
import type { CliIo, Subcommand } from "./io.ts";

const FLAGS: FlagTable = {
  "cache-dir": {
    type: "string",
    value: "DIR",
    help: "The cache (default: $PYCONTAINER_CACHE_DIR or ~/.cache/pycontainer)",
  },
  "max-size": {
    type: "string",
    value: "SIZE",
    help:
      "Size limit for info and prune, e.g. 500MB, 5GB, 2GiB (env: PYCONTAINER_CACHE_MAX_SIZE; default 5GB)",
  },
  json: { type: "boolean", help: "Print one JSON object" },
};

const ACTIONS: Record<string, string> = {
  info: "Show where the cache is, its size, and what it holds",
  prune:
    `Remove least-recently-used files until the cache is under 80% of the limit (files used in the last ${
      DEFAULT_GRACE_MS / 60_000
    } minutes are kept)`,
  clear: "Remove everything pycontainer keeps in the cache",
};

const LABELS: Record<CacheFileKind, string> = {
  blob: "blobs",
  layerRecord: "layer records",
  wheel: "wheels",
  fileDigests: "file digests",
  targetEnv: "target envs",
  temp: "temp files",
  other: "other",
};

/** The `cache` subcommand. */
export const cacheCommand: Subcommand = {
  summary: "Show, prune or clear the build cache",
  usage: [
    "Usage: pycontainer cache <info|prune|clear> [flags]",
    "",
    ...Object.entries(ACTIONS).map(([name, help]) => `  ${name.padEnd(7)}${help}`),
  ].join("\n"),
  flags: FLAGS,
  run: runCache,
};

async function runCache(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags("cache", FLAGS, argv);
  const [action, ...extra] = positionals;
  if (action === undefined) {
    throw usageError(
      "pycontainer cache needs an action: info, prune or clear",
      'e.g. "pycontainer cache info"',
    );
  }
  if (!(action in ACTIONS)) {
    const guess = closestMatch(action, Object.keys(ACTIONS));
    throw usageError(
      `unknown action "${action}" for "pycontainer cache"`,
      guess ? `did you mean "pycontainer cache ${guess}"?` : "use info, prune or clear",
    );
  }
  if (extra.length > 0) {
    throw usageError(
      `unexpected argument "${extra[0]}" for "pycontainer cache ${action}"`,
      "give the cache directory with --cache-dir DIR",
    );
  }
  const maxSize = stringFlag(values, "max-size");
  if (action === "clear" && maxSize !== undefined) {
    throw usageError("--max-size does not apply to cache clear", "use cache prune --max-size SIZE");
  }
  const dirFlag = stringFlag(values, "cache-dir");
  const root = dirFlag === undefined ? defaultCacheDir(io.env) : resolve(dirFlag);
  const json = values.json === true;
  if (action === "info") return await info(root, cacheLimit(maxSize, io.env), json, io);
  if (action === "prune") return await prune(root, cacheLimit(maxSize, io.env), json, io);
  return await clear(root, json, io);
}

async function info(root: string, limit: CacheLimit, json: boolean, io: CliIo): Promise<number> {
  const scan = await scanCache(root);
  const { totalBytes, kinds } = summarizeScan(scan);
  if (json) {
    io.stdout(JSON.stringify(
      {
        path: root,
        exists: scan.exists,
        totalBytes,
        maxBytes: limit.maxBytes,
        maxBytesSource: limit.source,
        kinds,
      },
      null,
      2,
    ));
    return 0;
  }
  const lines = [
    `cache:         ${root}${scan.exists ? "" : " (does not exist yet)"}`,
    `size:          ${formatBytes(totalBytes)} (limit ${describeLimit(limit)})`,
  ];
  for (const kind of CACHE_FILE_KINDS) {
    const k = kinds[kind];
    if (k.count === 0 && (kind === "temp" || kind === "other")) continue;
    lines.push(
      `${(LABELS[kind] + ":").padEnd(15)}${String(k.count).padStart(6)}  ${formatBytes(k.bytes)}`,
    );
  }
  io.stdout(lines.join("\n"));
  return 0;
}

async function prune(root: string, limit: CacheLimit, json: boolean, io: CliIo): Promise<number> {
  const result = await evictCache(root, {
    maxBytes: limit.maxBytes,
    sweepRecords: true,
    lockWaitMs: 60_000,
  });
  if (result.locked) {
    throw new PycontainerError(`another pycontainer process is pruning ${root}`, {
      hint: "wait for it to finish and run pycontainer cache prune again",
    });
  }
  const freed = result.bytesBefore - result.bytesAfter;
  if (json) {
    io.stdout(JSON.stringify(
      {
        path: root,
        maxBytes: limit.maxBytes,
        maxBytesSource: limit.source,
        targetBytes: result.targetBytes,
        bytesBefore: result.bytesBefore,
        bytesAfter: result.bytesAfter,
        freedBytes: freed,
        removed: result.removed,
        keptRecent: result.keptRecent,
      },
      null,
      2,
    ));
    return 0;
  }
  io.stdout(describePrune(result, limit).join("\n"));
  return 0;
}

function describePrune(result: EvictionResult, limit: CacheLimit): string[] {
  const lines: string[] = [];
  if (result.removed.length === 0) {
    const over = result.bytesAfter > result.maxBytes ? "over" : "within";
    lines.push(
      `nothing removed: ${result.root} holds ${
        formatBytes(result.bytesAfter)
      }, ${over} the limit (${describeLimit(limit)})`,
    );
  } else {
    const per = new Map<CacheFileKind, { count: number; bytes: number }>();
    for (const r of result.removed) {
      const t = per.get(r.kind) ?? { count: 0, bytes: 0 };
      t.count++;
      t.bytes += r.size;
      per.set(r.kind, t);
    }
    const parts = CACHE_FILE_KINDS.filter((k) => per.has(k)).map((k) =>
      `${per.get(k)!.count} ${per.get(k)!.count === 1 ? LABELS[k].replace(/s$/, "") : LABELS[k]} (${
        formatBytes(per.get(k)!.bytes)
      })`
    );
    lines.push(`removed ${parts.join(", ")}`);
    lines.push(
      `freed ${formatBytes(result.bytesBefore - result.bytesAfter)}: ${result.root} now holds ${
        formatBytes(result.bytesAfter)
      } (limit ${describeLimit(limit)})`,
    );
  }
  if (result.keptRecent > 0) {
    lines.push(
      `kept ${plural(result.keptRecent, "file")} used in the last ${
        DEFAULT_GRACE_MS / 60_000
      } minutes (a build may be using them)`,
    );
  }
  return lines;
}

async function clear(root: string, json: boolean, io: CliIo): Promise<number> {
  const result = await clearCache(root).catch((e: NodeJS.ErrnoException) => {
    throw new PycontainerError(
      `cannot clear the cache ${root}: ${e.code ?? ""} ${e.message}`.replace(/\s+/g, " "),
      { hint: "check the directory's permissions", cause: e },
    );
  });
  if (json) {
    io.stdout(JSON.stringify(
      {
        path: root,
        existed: result.existed,
        removed: result.removed,
        files: result.files,
        freedBytes: result.bytes,
        kept: result.kept,
      },
      null,
      2,
    ));
    return 0;
  }
  const lines = [
    result.existed
      ? `removed ${plural(result.files, "file")} (${formatBytes(result.bytes)}) from ${root}`
      : `nothing to remove: ${root} does not exist`,
  ];
  if (result.kept.length > 0) {
    lines.push(`left ${result.kept.join(", ")} (not pycontainer's; delete by hand if unwanted)`);
  }
  io.stdout(lines.join("\n"));
  return 0;
}

function describeLimit(limit: CacheLimit): string {
  const from = limit.source === "default" ? "default" : `from ${limit.source}`;
  const n = limit.maxBytes;
  const si = ([[1e12, "TB"], [1e9, "GB"], [1e6, "MB"], [1e3, "KB"]] as const).find(([u]) => n >= u);
  const round = si !== undefined && Number.isInteger((n / si[0]) * 10);
  const size = round ? `${n / si[0]} ${si[1]} = ${formatBytes(n)}` : formatBytes(n);
  return `${size}, ${from}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
