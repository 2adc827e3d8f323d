/**
 * Shared helpers for the wheel installer tests: reading entry content (bytes or stream), finding
 * entries, asserting on PycontainerError, checking an installed RECORD against the entries, real
 * wheels with skip-on-failure, temp dirs.
 *
 * @module
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PycontainerError } from "../../src/errors.ts";
import type { LayerEntry } from "../../src/layer/entry.ts";
import type { WheelInstall } from "../../src/python/wheel_install.ts";
import { parseRecord } from "../../src/python/record.ts";
import { testRecordHash } from "./_zip_writer.ts";
import { type RealWheel, realWheel } from "./_real_wheels.ts";

export const TARGET = { venvDir: "app/.venv", pythonVersion: "3.12" };
export const SP = "app/.venv/lib/python3.12/site-packages";
export const dec = new TextDecoder();

export async function content(entry: LayerEntry): Promise<Uint8Array> {
  assert.equal(entry.type, "file");
  if (entry.type !== "file") throw new Error("not a file");
  if (entry.content.kind === "bytes") return entry.content.bytes;
  const chunks: Uint8Array[] = [];
  const reader = entry.content.open().getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

export function find(install: WheelInstall, path: string): LayerEntry {
  const entry = install.entries.find((e) => e.path === path);
  assert.ok(
    entry,
    `no entry ${path}; have ${install.entries.map((e) => e.path).slice(0, 20).join(", ")}`,
  );
  return entry;
}

export function rejectsWith(pattern: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof PycontainerError, `expected PycontainerError, got ${error}`);
    assert.match(error.message, pattern);
    assert.equal(error.exitCode, 1);
    assert.ok(error.hint);
    return true;
  };
}

/** Checks RECORD against the entries: every file listed once, hashes and sizes recomputed from content. */
export async function checkRecord(install: WheelInstall, distInfo: string): Promise<void> {
  const recordEntry = find(install, `${SP}/${distInfo}/RECORD`);
  const rows = parseRecord(dec.decode(await content(recordEntry)), "installed");
  const files = install.entries.filter((e) => e.type === "file");
  assert.equal(rows.length, files.length);
  const byPath = new Map(rows.map((r) => [join("/", SP, r.path).slice(1), r]));
  for (const entry of files) {
    const row = byPath.get(entry.path);
    assert.ok(row, `RECORD lacks ${entry.path}`);
    if (entry.path.endsWith(`${distInfo}/RECORD`)) {
      assert.equal(row.hash + row.size, "");
      continue;
    }
    const bytes = await content(entry);
    assert.equal(row.hash, testRecordHash(bytes), entry.path);
    assert.equal(row.size, String(bytes.length), entry.path);
  }
}

export async function real(
  t: { skip: (msg: string) => void },
  wheel: RealWheel,
): Promise<string | undefined> {
  const got = await realWheel(wheel);
  if ("error" in got) {
    t.skip(got.error);
    return undefined;
  }
  return got.path;
}

export async function withTemp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "pyc-wheel-"));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function writeWheel(dir: string, name: string, bytes: Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}
