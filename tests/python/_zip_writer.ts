/**
 * A minimal ZIP writer for tests, independent of the reader under test (node:zlib deflateRaw for
 * compression, its own CRC-32), with knobs to produce the broken and malicious archives the
 * reader must reject: wrong CRCs and sizes, symlink and special-file modes, ZIP64 records,
 * mismatched local headers, encrypted flags, unusual methods. Also builds wheels with a correct
 * RECORD from a file map.
 *
 * @module
 */
import { deflateRawSync } from "node:zlib";
import { createHash } from "node:crypto";

/** One member of a test archive. */
export interface ZipInput {
  name: string;
  data?: Uint8Array | string;
  /** 0 stored, 8 deflate (default), anything else is written as given. */
  method?: number;
  /** Full st_mode (type + permissions). Default 0o100644 (0o040755 for names ending in "/"). */
  mode?: number;
  /** Overrides written to the central directory. */
  crc32?: number;
  size?: number;
  compressedSize?: number;
  flags?: number;
  /** Name written in the local header (default: `name`). */
  localName?: string;
  /** Replace the compressed bytes written (e.g. corrupt deflate data). */
  rawData?: Uint8Array;
}

/** Archive-level options. */
export interface ZipOptions {
  /** Write ZIP64 central directory fields and end records for every entry. */
  zip64?: boolean;
}

const enc = new TextEncoder();

/**
 * Builds a ZIP archive in memory.
 *
 * @param inputs Members in order.
 * @param options ZIP64 on/off.
 * @returns The archive bytes.
 */
export function writeZip(inputs: readonly ZipInput[], options: ZipOptions = {}): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const input of inputs) {
    const data = typeof input.data === "string"
      ? enc.encode(input.data)
      : input.data ?? new Uint8Array();
    const method = input.method ?? 8;
    const compressed = input.rawData ??
      (method === 8 ? new Uint8Array(deflateRawSync(data)) : data);
    const crc = input.crc32 ?? testCrc32(data);
    const size = input.size ?? data.length;
    const csize = input.compressedSize ?? compressed.length;
    const name = enc.encode(input.name);
    const localName = enc.encode(input.localName ?? input.name);
    const mode = input.mode ?? (input.name.endsWith("/") ? 0o040755 : 0o100644);
    const flags = input.flags ?? 0x800;
    const z = options.zip64 === true;

    const localExtra = z ? _zip64Extra([size, csize]) : new Uint8Array();
    const local = new Uint8Array(30 + localName.length + localExtra.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, z ? 45 : 20, true);
    lv.setUint16(6, flags, true);
    lv.setUint16(8, method, true);
    lv.setUint16(10, 0, true);
    lv.setUint16(12, 0x21, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, z ? 0xffffffff : csize, true);
    lv.setUint32(22, z ? 0xffffffff : size, true);
    lv.setUint16(26, localName.length, true);
    lv.setUint16(28, localExtra.length, true);
    local.set(localName, 30);
    local.set(localExtra, 30 + localName.length);
    parts.push(local, compressed);

    const extra = z ? _zip64Extra([size, csize, offset]) : new Uint8Array();
    const cd = new Uint8Array(46 + name.length + extra.length);
    const cv = new DataView(cd.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, (3 << 8) | 20, true);
    cv.setUint16(6, z ? 45 : 20, true);
    cv.setUint16(8, flags, true);
    cv.setUint16(10, method, true);
    cv.setUint16(12, 0, true);
    cv.setUint16(14, 0x21, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, z ? 0xffffffff : csize, true);
    cv.setUint32(24, z ? 0xffffffff : size, true);
    cv.setUint16(28, name.length, true);
    cv.setUint16(30, extra.length, true);
    cv.setUint32(38, (mode << 16) >>> 0, true);
    cv.setUint32(42, z ? 0xffffffff : offset, true);
    cd.set(name, 46);
    cd.set(extra, 46 + name.length);
    central.push(cd);
    offset += local.length + compressed.length;
  }
  const cdOffset = offset;
  const cdSize = central.reduce((n, c) => n + c.length, 0);
  parts.push(...central);
  offset += cdSize;
  const z = options.zip64 === true;
  if (z) {
    const rec = new Uint8Array(56);
    const rv = new DataView(rec.buffer);
    rv.setUint32(0, 0x06064b50, true);
    rv.setBigUint64(4, 44n, true);
    rv.setUint16(12, 45, true);
    rv.setUint16(14, 45, true);
    rv.setBigUint64(24, BigInt(inputs.length), true);
    rv.setBigUint64(32, BigInt(inputs.length), true);
    rv.setBigUint64(40, BigInt(cdSize), true);
    rv.setBigUint64(48, BigInt(cdOffset), true);
    const loc = new Uint8Array(20);
    const lv = new DataView(loc.buffer);
    lv.setUint32(0, 0x07064b50, true);
    lv.setBigUint64(8, BigInt(offset), true);
    lv.setUint32(16, 1, true);
    parts.push(rec, loc);
  }
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, z ? 0xffff : inputs.length, true);
  ev.setUint16(10, z ? 0xffff : inputs.length, true);
  ev.setUint32(12, z ? 0xffffffff : cdSize, true);
  ev.setUint32(16, z ? 0xffffffff : cdOffset, true);
  parts.push(eocd);
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let p = 0;
  for (const part of parts) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}

function _zip64Extra(values: number[]): Uint8Array {
  const extra = new Uint8Array(4 + 8 * values.length);
  const v = new DataView(extra.buffer);
  v.setUint16(0, 0x0001, true);
  v.setUint16(2, 8 * values.length, true);
  values.forEach((value, i) => v.setBigUint64(4 + 8 * i, BigInt(value), true));
  return extra;
}

/** Bitwise CRC-32, deliberately not shared with the code under test. */
export function testCrc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** The RECORD hash field (`sha256=…`) of some bytes, computed independently. */
export function testRecordHash(data: Uint8Array | string): string {
  const bytes = typeof data === "string" ? enc.encode(data) : data;
  return `sha256=${createHash("sha256").update(bytes).digest("base64url")}`;
}

/** Options for {@linkcode makeWheel}. */
export interface WheelSpec {
  name?: string;
  version?: string;
  /** Files besides the dist-info metadata, by archive path. */
  files: Record<string, string | Uint8Array | Omit<ZipInput, "name">>;
  /** entry_points.txt content, if any. */
  entryPoints?: string;
  /** Replace the generated RECORD text. */
  record?: (generated: string) => string;
  /** Replace the WHEEL text. */
  wheelFile?: string;
}

/**
 * Builds a wheel with a consistent RECORD (unless `record` alters it).
 *
 * @param spec Name, version, files and overrides.
 * @returns The archive bytes.
 */
export function makeWheel(spec: WheelSpec): Uint8Array {
  const name = spec.name ?? "demo";
  const version = spec.version ?? "1.0";
  const info = `${name}-${version}.dist-info`;
  const inputs: ZipInput[] = [];
  for (const [path, value] of Object.entries(spec.files)) {
    inputs.push(
      typeof value === "string" || value instanceof Uint8Array
        ? { name: path, data: value }
        : { ...value, name: path },
    );
  }
  inputs.push({
    name: `${info}/METADATA`,
    data: `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n`,
  });
  inputs.push({
    name: `${info}/WHEEL`,
    data: spec.wheelFile ??
      "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
  });
  if (spec.entryPoints !== undefined) {
    inputs.push({ name: `${info}/entry_points.txt`, data: spec.entryPoints });
  }
  let record = "";
  for (const input of inputs) {
    if (input.name.endsWith("/")) continue;
    const data = typeof input.data === "string"
      ? enc.encode(input.data)
      : input.data ?? new Uint8Array();
    record += `${input.name},${testRecordHash(data)},${data.length}\n`;
  }
  record += `${info}/RECORD,,\n`;
  inputs.push({ name: `${info}/RECORD`, data: spec.record ? spec.record(record) : record });
  return writeZip(inputs);
}
