/**
 * The benchmarks' input tree: a site-packages-like directory of many small `.py` files and some
 * larger, partly compressible `_native.so` files, generated from a fixed seed so every run and
 * every benchmark compresses the same bytes.
 *
 * @module
 */
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
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

/**
 * Writes the peak-RSS benchmarks' project: pyproject.toml, app.py and `files` × 64 MiB under
 * data/ — runs of source text with random bytes between them, so gzip works (about 4:1) without
 * being the whole cost.
 *
 * @param dir Target directory (created).
 * @param files How many 64 MiB files (16 makes the 1 GB layer).
 * @returns The number of bytes written under data/.
 */
export async function makeBigProject(dir: string, files: number): Promise<number> {
  await mkdir(join(dir, "data"), { recursive: true });
  await writeFile(join(dir, "pyproject.toml"), '[project]\nname = "big"\nversion = "0.1.0"\n');
  await writeFile(join(dir, "app.py"), 'print("big")\n');
  const text = await readFile(join(root, "src", "build", "build.ts"));
  const n = 64 * 1024 * 1024;
  const buf = new Uint8Array(n);
  let x = 2463534242;
  const rnd = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>>= 0);
  };
  for (let i = 0; i < n;) {
    const r = rnd();
    if ((r & 3) === 0) {
      for (let k = 0; k < 16 && i < n; k++) buf[i++] = rnd() & 255;
    } else {
      const off = (r >>> 8) % (text.length - 256);
      const len = 32 + ((r >>> 2) & 63);
      for (let k = 0; k < len && i < n; k++) buf[i++] = text[off + k]!;
    }
  }
  let total = 0;
  for (let f = 0; f < files; f++) {
    buf[0] = f;
    const file = join(dir, "data", `blob${String(f).padStart(2, "0")}.bin`);
    await writeFile(file, buf);
    total += (await stat(file)).size;
  }
  return total;
}
