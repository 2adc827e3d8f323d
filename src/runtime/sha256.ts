/**
 * SHA-256 behind one interface. node:crypto's `createHash` is used where the runtime has it
 * (Deno, Bun and Node all do; measured 6–8× faster than WebAssembly); hash-wasm is the portable
 * fallback. Both produce the same digests — a test pins that down. `crypto.subtle` is not used
 * because it cannot hash a stream incrementally.
 *
 * @module
 */

/** An incremental SHA-256 hasher. */
export interface Sha256 {
  /** Feeds more bytes. */
  update(chunk: Uint8Array): void;
  /** Finishes and returns the lowercase hex digest. The hasher can't be used afterwards. */
  digestHex(): string;
}

/** Which implementation to use: `node` (node:crypto) or `wasm` (hash-wasm). */
export type Sha256Implementation = "node" | "wasm";

type NodeCrypto = typeof import("node:crypto");
type WasmHasher = Awaited<ReturnType<typeof import("hash-wasm").createSHA256>>;
const nodeCrypto: NodeCrypto | undefined = await import("node:crypto").catch(() => undefined);
// Loading hash-wasm (~5 ms) and compiling its WebAssembly (~40 ms) are start-up costs, so both
// happen only where node:crypto is missing, or when asked for.
const newWasmHasher = async () => await (await import("hash-wasm")).createSHA256();
let wasmHasher: WasmHasher | undefined = nodeCrypto ? undefined : await newWasmHasher();

/**
 * Loads the WebAssembly implementation so `createSha256("wasm")` can be used on runtimes that
 * also have node:crypto (tests compare the two). Runtimes without node:crypto load it at start.
 *
 * @returns Resolves when the wasm hasher is ready.
 *
 * @example
 * ```ts
 * import { createSha256, loadWasmSha256 } from "./sha256.ts";
 * await loadWasmSha256();
 * console.assert(createSha256("wasm").digestHex().startsWith("e3b0c442"));
 * ```
 */
export async function loadWasmSha256(): Promise<void> {
  wasmHasher ??= await newWasmHasher();
}

/** The implementation {@linkcode createSha256} uses by default on this runtime. */
export const defaultSha256Implementation: Sha256Implementation = nodeCrypto ? "node" : "wasm";

/**
 * Creates an incremental SHA-256 hasher.
 *
 * @param implementation `node` or `wasm`; defaults to the fastest one this runtime has.
 * @returns A fresh hasher.
 *
 * @example Hashing in pieces
 * ```ts
 * import { createSha256 } from "./sha256.ts";
 * const h = createSha256();
 * h.update(new TextEncoder().encode("hello "));
 * h.update(new TextEncoder().encode("world"));
 * console.assert(h.digestHex().startsWith("b94d27b9"));
 * ```
 */
export function createSha256(
  implementation: Sha256Implementation = defaultSha256Implementation,
): Sha256 {
  if (implementation === "node") {
    if (!nodeCrypto) throw new TypeError("node:crypto is not available on this runtime");
    const hash = nodeCrypto.createHash("sha256");
    return {
      update: (chunk) => void hash.update(chunk),
      digestHex: () => hash.digest("hex"),
    };
  }
  return wasmSha256();
}

function wasmSha256(): Sha256 {
  if (!wasmHasher) throw new TypeError('call loadWasmSha256() before createSha256("wasm")');
  const wasm = wasmHasher;
  // One preloaded WebAssembly instance serves every hasher: each keeps its own saved state and
  // loads it around each (synchronous) call, so concurrent hashers never see each other's bytes.
  wasm.init();
  let state = wasm.save();
  return {
    update(chunk) {
      wasm.load(state);
      wasm.update(chunk);
      state = wasm.save();
    },
    digestHex() {
      wasm.load(state);
      return wasm.digest("hex");
    },
  };
}

/**
 * Hashes bytes or a UTF-8 string in one call.
 *
 * @param data The input.
 * @returns The lowercase hex digest.
 *
 * @example
 * ```ts
 * import { sha256Hex } from "./sha256.ts";
 * console.assert(sha256Hex("") === "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
 * ```
 */
export function sha256Hex(data: Uint8Array | string): string {
  const h = createSha256();
  h.update(typeof data === "string" ? new TextEncoder().encode(data) : data);
  return h.digestHex();
}
