/**
 * Test helpers that check what builds leave on disk, independently of the code under test:
 * every content-addressed file must hash to its name, every layer record must point to a blob
 * that is missing or valid, and an OCI layout must be absent or complete (index.json parses and
 * every blob reachable from it exists, has the right size and digest, and each image's config
 * lists one diff_id per layer). Only recognisable temporary names (`.*.tmp`) and the layout lock
 * file may sit beside them. Used by the concurrency and kill tests.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { run } from "./_registry.ts";

const HEX64 = /^[0-9a-f]{64}$/;
const TEMP = /^\..+\.tmp$/;

/**
 * SHA-256 of a file, hex.
 *
 * @param path The file.
 * @returns Lowercase hex digest.
 */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Uint8Array);
  return hash.digest("hex");
}

/** What {@linkcode checkBlobDir} found. */
export interface BlobDirReport {
  /** Blobs whose content matches their name. */
  verified: number;
  /** Temporary files (allowed leftovers). */
  temps: string[];
}

/**
 * Asserts every `<hex>` file in a `blobs/sha256` directory hashes to its name, and that every
 * other name is a recognisable temporary file.
 *
 * @param dir The `blobs/sha256` directory (missing = empty).
 * @returns Counts.
 * @throws {Error} Naming the first corrupt or unexpected file.
 */
export async function checkBlobDir(dir: string): Promise<BlobDirReport> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const report: BlobDirReport = { verified: 0, temps: [] };
  for (const name of names) {
    const path = join(dir, name);
    if (TEMP.test(name)) {
      report.temps.push(path);
      continue;
    }
    if (!HEX64.test(name)) throw new Error(`unexpected file ${path}`);
    const actual = await sha256File(path).catch(() => undefined);
    if (actual === undefined) continue; // removed meanwhile
    if (actual !== name) throw new Error(`corrupt blob ${path}: content hashes to ${actual}`);
    report.verified++;
  }
  return report;
}

/**
 * Asserts a cache directory is sound: blobs verify, layer records parse and point to a blob
 * that is missing or has the recorded size and digest, wheels hash to their directory's name.
 *
 * @param cache The cache root.
 * @returns Blob counts and temporary files found anywhere in the cache.
 * @throws {Error} Naming the first problem.
 */
export async function checkCacheDir(
  cache: string,
): Promise<BlobDirReport & { records: number; recordsHit: number }> {
  const blobs = join(cache, "blobs", "sha256");
  const report = { ...(await checkBlobDir(blobs)), records: 0, recordsHit: 0 };
  for (const name of await readdir(join(cache, "layers")).catch(() => [] as string[])) {
    const path = join(cache, "layers", name);
    if (TEMP.test(name)) {
      report.temps.push(path);
      continue;
    }
    if (!/^[0-9a-f]{64}\.json$/.test(name)) throw new Error(`unexpected file ${path}`);
    const r = JSON.parse(await readFile(path, "utf8")) as { digest: string; size: number };
    report.records++;
    const blob = join(blobs, r.digest.replace(/^sha256:/, ""));
    const s = await stat(blob).catch(() => undefined);
    if (!s) continue;
    if (s.size !== r.size) {
      throw new Error(`record ${path}: blob has ${s.size} bytes, not ${r.size}`);
    }
    if (`sha256:${await sha256File(blob)}` !== r.digest) {
      throw new Error(`record ${path}: bad blob`);
    }
    report.recordsHit++;
  }
  for (const name of await readdir(join(cache, "file-digests")).catch(() => [] as string[])) {
    const path = join(cache, "file-digests", name);
    if (TEMP.test(name)) report.temps.push(path);
    else JSON.parse(await readFile(path, "utf8")); // written atomically: always whole
  }
  const wheels = join(cache, "wheels", "sha256");
  for (const hex of await readdir(wheels).catch(() => [] as string[])) {
    for (const name of await readdir(join(wheels, hex)).catch(() => [] as string[])) {
      const path = join(wheels, hex, name);
      if (TEMP.test(name)) report.temps.push(path);
      else if (await sha256File(path) !== hex) throw new Error(`corrupt wheel ${path}`);
    }
  }
  for (const name of await readdir(cache).catch(() => [] as string[])) {
    if (TEMP.test(name)) report.temps.push(join(cache, name));
  }
  return report;
}

/** What {@linkcode checkLayout} found. */
export interface LayoutReport {
  /** `absent` when there is no index.json yet; `complete` otherwise. */
  state: "absent" | "complete";
  /** Tag → manifest digest, from index.json. */
  tags: Record<string, string>;
  /** Blobs verified (reachable or not). */
  verified: number;
  /** Temporary files left. */
  temps: string[];
}

/**
 * Asserts an OCI layout directory is absent (no index.json: nothing was published) or complete.
 * Either way, every blob present hashes to its name.
 *
 * @param dir The layout directory.
 * @returns What it holds.
 * @throws {Error} Naming the first problem.
 */
export async function checkLayout(dir: string): Promise<LayoutReport> {
  const blobDir = join(dir, "blobs", "sha256");
  const blobs = await checkBlobDir(blobDir);
  const report: LayoutReport = { state: "absent", tags: {}, verified: blobs.verified, temps: [] };
  report.temps.push(...blobs.temps);
  const top = await readdir(dir).catch(() => [] as string[]);
  for (const name of top) {
    if (TEMP.test(name)) report.temps.push(join(dir, name));
    else if (!["oci-layout", "index.json", "blobs", ".pycontainer.lock"].includes(name)) {
      throw new Error(`unexpected entry ${join(dir, name)} in an OCI layout`);
    }
  }
  if (!top.includes("index.json")) return report;
  report.state = "complete";
  const marker = JSON.parse(await readFile(join(dir, "oci-layout"), "utf8"));
  if (marker.imageLayoutVersion !== "1.0.0") throw new Error(`bad oci-layout in ${dir}`);
  const index = JSON.parse(await readFile(join(dir, "index.json"), "utf8")) as {
    manifests: Descriptor[];
  };
  for (const d of index.manifests) {
    const tag = d.annotations?.["org.opencontainers.image.ref.name"];
    if (tag !== undefined) report.tags[tag] = d.digest;
    await _checkReachable(blobDir, d);
  }
  return report;
}

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

async function _checkReachable(blobDir: string, d: Descriptor): Promise<void> {
  const path = join(blobDir, d.digest.replace(/^sha256:/, ""));
  const bytes = await readFile(path).catch(() => undefined);
  if (bytes === undefined) throw new Error(`blob ${d.digest} referenced but missing in ${blobDir}`);
  if (bytes.byteLength !== d.size) throw new Error(`blob ${d.digest} has the wrong size`);
  if (`sha256:${createHash("sha256").update(bytes).digest("hex")}` !== d.digest) {
    throw new Error(`blob ${d.digest} is corrupt`);
  }
  if (d.mediaType.endsWith("image.index.v1+json")) {
    const index = JSON.parse(new TextDecoder().decode(bytes)) as { manifests: Descriptor[] };
    for (const m of index.manifests) await _checkReachable(blobDir, m);
  } else if (d.mediaType.endsWith("image.manifest.v1+json")) {
    const m = JSON.parse(new TextDecoder().decode(bytes)) as {
      config: Descriptor;
      layers: Descriptor[];
    };
    await _checkReachable(blobDir, m.config);
    for (const l of m.layers) await _checkReachable(blobDir, l);
    const config = JSON.parse(await readFile(join(blobDir, m.config.digest.slice(7)), "utf8"));
    if (config.rootfs?.diff_ids?.length !== m.layers.length) {
      throw new Error(`config ${m.config.digest}: diff_ids don't match the layers`);
    }
  }
}

/**
 * `skopeo inspect oci:DIR:TAG`: an independent reader's view of the image.
 *
 * @param dir The layout.
 * @param tag The tag.
 * @returns skopeo's JSON (Digest, Layers, Architecture…).
 */
export async function skopeoInspect(
  dir: string,
  tag: string,
): Promise<{ Digest: string; Layers: string[]; Architecture: string }> {
  return JSON.parse(await run("skopeo", ["inspect", `oci:${dir}:${tag}`]));
}

/**
 * Why the integration tests that need skopeo and the cached base image can't run here, or
 * undefined when they can.
 *
 * @returns A skip reason or undefined.
 */
export async function skopeoSkipReason(): Promise<string | undefined> {
  try {
    await run("skopeo", ["--version"]);
    return undefined;
  } catch {
    return "skopeo is not installed";
  }
}
