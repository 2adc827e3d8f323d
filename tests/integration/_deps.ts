/**
 * Helpers for the `--include-deps` end-to-end tests: the CLI run in-process against a local
 * package index (real wheels from `tests/fixtures/wheels_index/fetch.sh`), reading the files of
 * a layer out of the built OCI layout (gzip → tar with PAX long names), waiting for a server in a
 * container to answer over HTTP, and ELF header checks.
 *
 * @module
 */
import { after, before } from "node:test";
import { cp, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { main } from "../../cli.ts";
import { baseLayoutPath } from "./_registry.ts";
import { runtimeSkipReason } from "./_runtime.ts";
import {
  hasRealIndex,
  type IndexServer,
  realIndexDir,
  startIndexServer,
} from "../python/_index_server.ts";

/**
 * Why the dependency e2e tests can't run here (not root, no umoci/runc, no wheel fixture), or
 * undefined when they can.
 *
 * @returns The skip reason.
 */
export async function depsSkipReason(): Promise<string | undefined> {
  return await runtimeSkipReason() ??
    (await hasRealIndex()
      ? undefined
      : "no wheel fixture (run tests/fixtures/wheels_index/fetch.sh)");
}

/** What {@linkcode useDepsFixture} sets up for a test file (filled in by its `before` hook). */
export interface DepsFixture {
  /** A temporary directory, removed after the file's tests. */
  work: string;
  /** `oci-layout:<cached bookworm base>:bookworm`. */
  base: string;
  /** A local package index serving the real wheels. */
  index: IndexServer;
}

/**
 * Registers `before`/`after` hooks that make a temporary work directory and start a local index
 * over the real wheels (nothing when `skip` is set).
 *
 * @param prefix Name prefix of the temporary directory.
 * @param skip The file's skip reason.
 * @returns The fixture, usable inside tests.
 */
export function useDepsFixture(prefix: string, skip: string | undefined): DepsFixture {
  const fixture = {} as DepsFixture;
  before(async () => {
    if (skip) return;
    fixture.work = await mkdtemp(join(tmpdir(), prefix));
    fixture.base = `oci-layout:${baseLayoutPath()}:bookworm`;
    fixture.index = await startIndexServer({ dirs: [realIndexDir()] });
  });
  after(async () => {
    if (skip) return;
    await fixture.index?.close();
    if (fixture.work) await rm(fixture.work, { recursive: true, force: true });
  });
  return fixture;
}

/** The e2e fixture projects. */
export const E2E = join(import.meta.dirname!, "..", "fixtures", "e2e");

/** What one CLI run printed. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `pycontainer` in-process with the given environment additions.
 *
 * @param args Arguments after `pycontainer`.
 * @param env Environment (merged over the process's).
 * @returns Exit code and output.
 */
export async function cli(args: string[], env: Record<string, string>): Promise<CliRun> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await main(args, {
    stdout: (s) => stdout.push(s),
    stderr: (s) => stderr.push(s),
    env: { ...process.env, ...env },
    isTTY: false,
  });
  return { code, stdout: stdout.join("\n"), stderr: stderr.join("\n") };
}

/**
 * Runs `pycontainer build -C DIR --include-deps` on the fixture's base image and index, with the
 * fixture's shared cache.
 *
 * @param fx The file's fixture.
 * @param dir The project.
 * @param extra More flags.
 * @returns Exit code and output.
 */
export function buildWithDeps(
  fx: DepsFixture,
  dir: string,
  extra: string[] = [],
): Promise<CliRun> {
  return cli([
    "build",
    "-C",
    dir,
    "--include-deps",
    "--base-image",
    fx.base,
    "--index-url",
    fx.index.url,
    ...extra,
  ], { PYCONTAINER_CACHE_DIR: join(fx.work, "cache") });
}

/**
 * Copies a fixture project into the work directory.
 *
 * @param name Fixture directory name under tests/fixtures/e2e.
 * @param work The temporary directory.
 * @param as Directory name to copy to.
 * @returns The copy's path.
 */
export async function copyFixture(name: string, work: string, as = name): Promise<string> {
  const dir = join(work, as);
  await cp(join(E2E, name), dir, { recursive: true });
  return dir;
}

/** One entry of a layer. */
export interface TarFile {
  name: string;
  type: string;
  mode: number;
  linkname: string;
  data: Uint8Array;
}

/**
 * Reads every entry of a gzip layer blob in an OCI layout.
 *
 * @param layout The layout directory.
 * @param digest `sha256:…` of the layer.
 * @returns The entries, in order (PAX `path`/`linkpath` applied).
 */
export async function layerFiles(layout: string, digest: string): Promise<TarFile[]> {
  const tar = new Uint8Array(
    gunzipSync(await readFile(join(layout, "blobs", "sha256", digest.slice(7)))),
  );
  const out: TarFile[] = [];
  const text = (b: Uint8Array) => new TextDecoder().decode(b).replace(/\0.*$/s, "");
  let pax: Record<string, string> = {};
  for (let off = 0; off + 512 <= tar.length;) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const size = parseInt(text(h.subarray(124, 136)).trim() || "0", 8);
    const type = String.fromCharCode(h[156]!);
    const data = tar.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === "x") {
      pax = {};
      const body = new TextDecoder().decode(data);
      for (const rec of body.split("\n")) {
        const m = /^\d+ ([^=]+)=(.*)$/s.exec(rec);
        if (m) pax[m[1]!] = m[2]!;
      }
      continue;
    }
    const prefix = text(h.subarray(345, 500));
    const name = pax.path ??
      (prefix ? `${prefix}/${text(h.subarray(0, 100))}` : text(h.subarray(0, 100)));
    out.push({
      name: name.replace(/\/$/, ""),
      type,
      mode: parseInt(text(h.subarray(100, 108)).trim() || "0", 8),
      linkname: pax.linkpath ?? text(h.subarray(157, 257)),
      data,
    });
    pax = {};
  }
  return out;
}

/**
 * The `name==version` of every `.dist-info` directory in a layer's site-packages.
 *
 * @param files The layer's entries.
 * @returns Sorted `name==version` strings (names normalised).
 */
export function installedDists(files: TarFile[]): string[] {
  const dists = new Set<string>();
  for (const f of files) {
    const m = /site-packages\/([^/]+)-([^-/]+)\.dist-info\/METADATA$/.exec(f.name);
    if (m) dists.add(`${m[1]!.toLowerCase().replace(/[-_.]+/g, "-")}==${m[2]}`);
  }
  return [...dists].sort();
}

/**
 * GETs a URL until it answers (the server in the container may still be starting).
 *
 * @param url The URL.
 * @param timeoutMs Give up after this long.
 * @param logs Called for the container's output when giving up.
 * @returns Status and body.
 */
export async function getWhenUp(
  url: string,
  timeoutMs: number,
  logs: () => string,
): Promise<{ status: number; body: string }> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      return { status: res.status, body: await res.text() };
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`${url} did not answer in ${timeoutMs} ms (${last})\n${logs()}`);
}

/**
 * The ELF `e_machine` of a file's bytes, or undefined when it is not ELF.
 *
 * @param data The file.
 * @returns 62 for x86-64, 183 for AArch64.
 */
export function elfMachine(data: Uint8Array): number | undefined {
  if (data.length < 20 || data[0] !== 0x7f || data[1] !== 0x45 || data[2] !== 0x4c) {
    return undefined;
  }
  return data[18]! | (data[19]! << 8);
}

/**
 * Reads the image config of the (single-platform) image tagged `tag` in a layout.
 *
 * @param layout The layout directory.
 * @returns The parsed config JSON.
 */
export async function imageConfig(layout: string): Promise<Record<string, unknown>> {
  const blob = (d: string) => readFile(join(layout, "blobs", "sha256", d.slice(7)), "utf8");
  const index = JSON.parse(await readFile(join(layout, "index.json"), "utf8"));
  let manifest = JSON.parse(await blob(index.manifests[0].digest));
  if (manifest.manifests) manifest = JSON.parse(await blob(manifest.manifests[0].digest));
  return JSON.parse(await blob(manifest.config.digest));
}
