import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PycontainerError } from "../../src/errors.ts";
import { bytesSource, openFileSource } from "../../src/python/random_access.ts";
import { readZipDirectory, zipNameProblem } from "../../src/python/zip_reader.ts";
import { openEntryStream, readEntryBytes } from "../../src/python/zip_entry_stream.ts";
import { testCrc32, writeZip, type ZipInput } from "./_zip_writer.ts";
import { REAL_WHEELS, realWheel } from "./_real_wheels.ts";

async function drain(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
  }
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let p = 0;
  for (const c of chunks) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}

function rejectsWith(pattern: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof PycontainerError, `expected PycontainerError, got ${error}`);
    assert.match(error.message, pattern);
    assert.equal(error.exitCode, 1);
    assert.ok(error.hint);
    return true;
  };
}

async function readDir(inputs: ZipInput[], options = {}) {
  return await readZipDirectory(bytesSource(writeZip(inputs, options)), { label: "bad.whl" });
}

test("readZipDirectory() and openEntryStream() round-trip stored, deflated, empty and large entries", async () => {
  const big = new Uint8Array(3 * 1024 * 1024 + 17);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 10)) & 0xff;
  const noise = new Uint8Array(randomBytes(700_000));
  const zip = writeZip([
    { name: "pkg/", mode: 0o040755 },
    { name: "pkg/a.py", data: "print('a')\n" },
    { name: "pkg/stored.bin", data: noise, method: 0 },
    { name: "pkg/empty.txt", data: "" },
    { name: "pkg/big.bin", data: big, mode: 0o100755 },
  ]);
  const source = bytesSource(zip);
  const dir = await readZipDirectory(source, { label: "t.zip" });
  assert.deepEqual(dir.entries.map((e) => [e.name, e.isDirectory]), [
    ["pkg", true],
    ["pkg/a.py", false],
    ["pkg/stored.bin", false],
    ["pkg/empty.txt", false],
    ["pkg/big.bin", false],
  ]);
  const byName = new Map(dir.entries.map((e) => [e.name, e]));
  assert.equal(byName.get("pkg/big.bin")!.mode, 0o755);
  assert.equal(byName.get("pkg/a.py")!.mode, 0o644);
  assert.equal(
    new TextDecoder().decode(await readEntryBytes(source, byName.get("pkg/a.py")!)),
    "print('a')\n",
  );
  assert.deepEqual(await drain(openEntryStream(source, byName.get("pkg/stored.bin")!)), noise);
  assert.equal((await drain(openEntryStream(source, byName.get("pkg/empty.txt")!))).length, 0);
  const bigOut = await drain(openEntryStream(source, byName.get("pkg/big.bin")!));
  assert.equal(bigOut.length, big.length);
  assert.deepEqual(bigOut, big);
});

test("readZipDirectory() reads ZIP64 archives and archives with a comment", async () => {
  const zip64 = writeZip([{ name: "a.txt", data: "hello" }, {
    name: "b/c.txt",
    data: "world",
    method: 0,
  }], {
    zip64: true,
  });
  const source = bytesSource(zip64);
  const dir = await readZipDirectory(source);
  assert.deepEqual(dir.entries.map((e) => [e.name, e.size]), [["a.txt", 5], ["b/c.txt", 5]]);
  assert.equal(new TextDecoder().decode(await readEntryBytes(source, dir.entries[1]!)), "world");

  const plain = writeZip([{ name: "x", data: "1" }]);
  const comment = new TextEncoder().encode("a comment that mentions PK\x05\x06 inside");
  const withComment = new Uint8Array(plain.length + comment.length);
  withComment.set(plain);
  withComment.set(comment, plain.length);
  new DataView(withComment.buffer).setUint16(plain.length - 2, comment.length, true);
  const commented = await readZipDirectory(bytesSource(withComment));
  assert.deepEqual(commented.entries.map((e) => e.name), ["x"]);
});

test("readZipDirectory() rejects unsafe entry names, links, special files and duplicates", async () => {
  const cases: [ZipInput[], RegExp][] = [
    [
      [{ name: "../evil.py", data: "x" }],
      /bad\.whl is rejected: entry "\.\.\/evil\.py" escapes the target/,
    ],
    [[{ name: "pkg/../../evil.py", data: "x" }], /escapes the target with "\.\."/],
    [[{ name: "/etc/passwd", data: "x" }], /"\/etc\/passwd" has an absolute path/],
    [[{ name: "C:/x.py", data: "x" }], /has an absolute path/],
    [[{ name: "pkg\\evil.py", data: "x" }], /contains a backslash/],
    [[{ name: "pkg//a.py", data: "x" }], /empty or "\." path segment/],
    [[{ name: "pkg/./a.py", data: "x" }], /empty or "\." path segment/],
    [[{ name: "link", data: "/etc/passwd", mode: 0o120777 }], /"link" is a symbolic link/],
    [[{ name: "fifo", data: "", mode: 0o010644 }], /"fifo" is a special file/],
    [[{ name: "a.py", data: "1" }, { name: "a.py", data: "2" }], /"a\.py" appears more than once/],
    [
      [{ name: "a", data: "1" }, { name: "a/b.py", data: "2" }],
      /"a" is both a file and a directory/,
    ],
    [[{ name: "a.py", data: "1", flags: 0x801 }], /"a\.py" is encrypted/],
    [[{ name: "a.py", data: "1", method: 12 }], /compression method 12/],
  ];
  for (const [inputs, pattern] of cases) {
    await assert.rejects(readDir(inputs), rejectsWith(pattern), String(pattern));
  }
});

test("zipNameProblem() accepts ordinary wheel paths", () => {
  for (
    const ok of ["six.py", "pkg/sub/mod.py", "demo-1.0.data/scripts/tool", "a..b/c", ".hidden/x"]
  ) {
    assert.equal(zipNameProblem(ok), undefined, ok);
  }
});

test("readZipDirectory() enforces the uncompressed size cap", async () => {
  const zip = writeZip([{ name: "bomb.bin", data: new Uint8Array(10_000) }]);
  await assert.rejects(
    readZipDirectory(bytesSource(zip), { label: "bomb.whl", maxEntrySize: 9_999 }),
    rejectsWith(/bomb\.whl: entry "bomb\.bin" is 10000 bytes uncompressed, over the 9999-byte cap/),
  );
  const ok = await readZipDirectory(bytesSource(zip), { maxEntrySize: 10_000 });
  assert.equal(ok.entries[0]!.size, 10_000);
});

test("readZipDirectory() rejects truncated, overlapping and non-ZIP input", async () => {
  const zip = writeZip([{ name: "a.py", data: "x".repeat(1000) }, { name: "b.py", data: "y" }]);
  const label = { label: "cut.whl" };
  await assert.rejects(
    readZipDirectory(bytesSource(zip.subarray(0, zip.length - 5)), label),
    rejectsWith(/cut\.whl is not a valid ZIP archive: no end-of-central-directory record/),
  );
  await assert.rejects(
    readZipDirectory(bytesSource(zip.subarray(40)), label),
    rejectsWith(/cut\.whl is not a valid ZIP archive: the central directory is not where/),
  );
  await assert.rejects(
    readZipDirectory(bytesSource(new TextEncoder().encode("just some text, not a zip")), label),
    rejectsWith(/no end-of-central-directory record/),
  );
  await assert.rejects(
    readZipDirectory(bytesSource(new Uint8Array(3)), label),
    rejectsWith(/too small/),
  );

  // Two central directory entries pointing at the same local header: the overlapping-entries bomb.
  const overlap = writeZip([{ name: "a.py", data: "x".repeat(100) }, {
    name: "b.py",
    data: "y".repeat(100),
  }]);
  const v = new DataView(overlap.buffer);
  const cdOffset = v.getUint32(overlap.length - 6, true);
  const second = cdOffset + 46 + "a.py".length;
  v.setUint32(second + 42, 0, true);
  await assert.rejects(
    readZipDirectory(bytesSource(overlap), label),
    rejectsWith(/entries "a\.py" and "b\.py" overlap/),
  );
});

test("openEntryStream() fails on CRC, size, local header and deflate corruption", async () => {
  const data = new TextEncoder().encode("the quick brown fox\n".repeat(50));
  const cases: [ZipInput, RegExp][] = [
    [{ name: "a.py", data, crc32: testCrc32(data) ^ 1 }, /"a\.py" fails its CRC-32 check/],
    [
      { name: "a.py", data, size: data.length + 1 },
      /"a\.py" has 1000 bytes, not the declared 1001/,
    ],
    [
      { name: "a.py", data, size: data.length - 1 },
      /"a\.py" is larger than its declared 999 bytes/,
    ],
    [
      { name: "a.py", data, localName: "b.py" },
      /local header that disagrees with the central directory/,
    ],
    [
      { name: "a.py", data, rawData: new Uint8Array([0xff, 0xff, 0xff, 0xff]) },
      /corrupt deflate data/,
    ],
    [{
      name: "a.py",
      data,
      method: 0,
      rawData: data.subarray(0, 999),
      size: 999,
      crc32: testCrc32(data),
    }, /fails its CRC-32/],
  ];
  for (const [input, pattern] of cases) {
    const source = bytesSource(writeZip([input]));
    const dir = await readZipDirectory(source, { label: "t.whl" });
    await assert.rejects(
      drain(openEntryStream(source, dir.entries[0]!, { label: "t.whl" })),
      rejectsWith(pattern),
    );
  }
  // Deflate data that stops early, and deflate data followed by garbage.
  const { deflateRawSync } = await import("node:zlib");
  const full = new Uint8Array(deflateRawSync(data));
  const short = writeZip([{ name: "a.py", data, rawData: full.subarray(0, full.length - 3) }]);
  const shortDir = await readZipDirectory(bytesSource(short));
  await assert.rejects(
    drain(openEntryStream(bytesSource(short), shortDir.entries[0]!)),
    rejectsWith(/ends early/),
  );
  const padded = new Uint8Array(full.length + 4);
  padded.set(full);
  const trailing = writeZip([{ name: "a.py", data, rawData: padded }]);
  const trailingDir = await readZipDirectory(bytesSource(trailing));
  await assert.rejects(
    drain(openEntryStream(bytesSource(trailing), trailingDir.entries[0]!)),
    rejectsWith(/data after the end of its deflate stream/),
  );
});

test("openEntryStream() opens and closes a file per stream and notices a changed archive", async () => {
  const dir = await mkdtemp(join(tmpdir(), "pyc-zip-"));
  try {
    const path = join(dir, "t.whl");
    await writeFile(path, writeZip([{ name: "a.py", data: "a = 1\n" }]));
    const source = await openFileSource(path);
    const zip = await readZipDirectory(source, { label: "t.whl" });
    await source.close();
    await source.close();
    const entry = zip.entries[0]!;
    const opener = () => openFileSource(path);
    for (let i = 0; i < 3; i++) {
      const text = new TextDecoder().decode(
        await drain(openEntryStream(opener, entry, { archiveSize: zip.archiveSize })),
      );
      assert.equal(text, "a = 1\n");
    }
    await writeFile(path, writeZip([{ name: "a.py", data: "a = 2 # longer\n" }]));
    await assert.rejects(
      drain(openEntryStream(opener, entry, { label: "t.whl", archiveSize: zip.archiveSize })),
      rejectsWith(/t\.whl changed size since it was read/),
    );
    await assert.rejects(
      openFileSource(join(dir, "missing.whl")),
      rejectsWith(/cannot open .*missing\.whl/),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("readZipDirectory() reads a real wheel whose entries match its own RECORD", async (t) => {
  const got = await realWheel(REAL_WHEELS.setuptools);
  if ("error" in got) return t.skip(got.error);
  const source = await openFileSource(got.path);
  try {
    const dir = await readZipDirectory(source, { label: REAL_WHEELS.setuptools.filename });
    const record = dir.entries.find((e) => e.name === "setuptools-75.6.0.dist-info/RECORD")!;
    const lines = new TextDecoder().decode(await readEntryBytes(source, record)).trim().split("\n");
    const files = dir.entries.filter((e) => !e.isDirectory);
    assert.equal(lines.length, files.length);
    const expected = new Map(lines.map((l) => l.split(",")).map(([p, h]) => [p!, h!]));
    for (const entry of files) {
      if (entry.name.endsWith("/RECORD")) continue;
      const bytes = await drain(openEntryStream(source, entry));
      const hash = `sha256=${createHash("sha256").update(bytes).digest("base64url")}`;
      assert.equal(hash, expected.get(entry.name), entry.name);
    }
  } finally {
    await source.close();
  }
});
