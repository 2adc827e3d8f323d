/**
 * The benchmarks' input tree: a site-packages-like directory of many small `.py` files and some
 * larger, partly compressible `_native.so` files, generated from a fixed seed so every run and
 * every benchmark compresses the same bytes.
 *
 * @module
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Writes the tree into `dir`.
 *
 * @param dir Target directory (created).
 * @param megabytes Approximate size to write.
 * @returns The number of bytes written.
 */
export async function makeTree(dir: string, megabytes: number): Promise<number> {
  let total = 0;
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const source = (await readFile(join(root, "src", "build", "build.ts"), "utf8")).repeat(2);
  for (let pkg = 0; total < megabytes * 1_000_000; pkg++) {
    const pdir = join(dir, `pkg${pkg}`, "sub");
    await mkdir(pdir, { recursive: true });
    for (let f = 0; f < 40; f++) {
      const text = source.slice(0, 2000 + Math.floor(rand() * 12000));
      await writeFile(join(pdir, `mod${f}.py`), text);
      total += text.length;
    }
    const bin = new Uint8Array(400_000 + Math.floor(rand() * 800_000));
    for (let i = 0; i < bin.length; i++) bin[i] = i % 7 === 0 ? Math.floor(rand() * 256) : i % 251;
    await writeFile(join(dir, `pkg${pkg}`, `_native.so`), bin);
    total += bin.length;
  }
  return total;
}
